/**
 * Writes puppet-module/lib/puppet_x/mgmtgraph/protocol.json, the Puppet worker's protocol as the Ruby worker reads
 * it, from src/puppet/runtime/protocol.ts. Part of `npm run docs`; test/unit/worker-protocol.test.ts fails when it
 * is stale.
 */
import { writeFileSync } from 'node:fs';
import { PROTOCOL_JSON_PATH, protocolJson } from '../src/puppet/runtime/protocol.js';

writeFileSync(new URL(`../../${PROTOCOL_JSON_PATH}`, import.meta.url), protocolJson());
