import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSpec } from '../../src/graph/check-spec.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import type { GraphSpec } from '../../src/graph/spec.js';
import { registry } from '../../src/cli/registry.js';

const origin = (line: number) => ({ ref: `File[/x${line}]`, file: '/srv/site.pp', line });

describe('checkSpec (graphs that did not come from YAML)', () => {
  it('checks parameters against the schema and places problems at the origin', () => {
    const spec: GraphSpec = {
      graph: 'g',
      resources: [
        { kind: 'file', name: '/x1', params: { path: '/x1', state: 'bogus' }, meta: {}, origin: origin(3) },
        { kind: 'file', name: '/x2', params: { path: '/x2', colour: 'red' }, meta: {}, origin: origin(7) },
        { kind: 'exec', name: 'e', params: { cmd: 'true' }, meta: { retry: -5 }, origin: origin(9) },
      ],
      exports: [],
      edges: [{ name: 'e1', from: { kind: 'file', name: '/x1' }, to: { kind: 'file', name: '/nope' }, notify: false }],
      collect: [],
    };
    const text = checkSpec(registry, spec).map(formatDiagnostic).join('\n');
    assert.match(text, /\/srv\/site\.pp:3:1: error: file\[\/x1\]: parameter `state`: must be one of "exists", "absent"/);
    assert.match(text, /\/srv\/site\.pp:7:1: error: file\[\/x2\]: unknown parameter `colour`/);
    assert.match(text, /\/srv\/site\.pp:9:1: error: exec\[e\]: parameter `meta\.retry`: must be >= -1/);
    assert.match(text, /edge `e1`: its `to` file\[\/nope\] is not in the graph/);
  });

  it('passes a valid spec', () => {
    const spec: GraphSpec = {
      graph: 'g',
      resources: [{ kind: 'noop', name: 'n', params: {}, meta: {} }],
      exports: [],
      edges: [],
      collect: [],
    };
    assert.deepEqual(checkSpec(registry, spec), []);
  });
});
