import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { puppetMarkdown } from '../../src/puppet/docs.js';
import { registry } from '../../src/cli/registry.js';

describe('docs/puppet.md', () => {
  it('matches the rule tables (run `node dist/src/puppet/docs.js`)', () => {
    assert.equal(readFileSync(new URL('../../../docs/puppet.md', import.meta.url), 'utf8'), puppetMarkdown(registry));
  });
});
