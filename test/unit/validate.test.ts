import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCycles } from '../../src/graph/cycles.js';
import { diagnosticLogText, formatDiagnostic } from '../../src/graph/diagnostics.js';
import { checkGraphText } from '../../src/graph/read.js';
import type { EdgeSpec } from '../../src/graph/spec.js';
import { registry } from '../../src/cli/registry.js';

const errors = (text: string) =>
  checkGraphText(registry, text, 'g.yaml')
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('semantic validation', () => {
  it('names a cycle by its path', () => {
    const errs = errors(`graph: g
resources:
  file: [{name: a, path: /tmp/a}]
  exec: [{name: b, cmd: 'true'}]
edges:
- {name: e1, from: {kind: file, name: a}, to: {kind: exec, name: b}}
- {name: e2, from: {kind: exec, name: b}, to: {kind: file, name: a}}
`);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^g\.yaml:\d+:\d+: error: dependency cycle: (exec\[b\] -> file\[a\] -> exec\[b\])$/);
  });

  it('rejects a duplicate kind[name], naming the first declaration', () => {
    const errs = errors(`graph: g
resources:
  noop:
  - name: x
  - name: x
    comment: other
`);
    assert.deepEqual(errs, ['g.yaml:5:5: error: noop[x]: declared twice; first declared at g.yaml:4. Give one of them another name']);
  });

  it('rejects two resources managing the same path', () => {
    const errs = errors(`graph: g
resources:
  file:
  - {name: a, path: /tmp/same}
  - {name: b, path: /tmp/same}
`);
    assert.match(errs.join('\n'), /file\[b\]: manages \/tmp\/same, which file\[a\] manages too/);
  });

  it('rejects edges to missing vertices with a suggestion', () => {
    const errs = errors(`graph: g
resources:
  noop: [{name: start}]
edges:
- {name: e1, from: {kind: noop, name: strat}, to: {kind: noop, name: start}}
`);
    assert.deepEqual(errs, ['g.yaml:5:3: error: edge `e1`: its `from` noop[strat] is not in the graph (did you mean noop[start]?)']);
  });

  it('rejects invalid combinations with the parameter’s position', () => {
    const errs = errors(`graph: g
resources:
  file:
  - name: f
    path: /tmp/f
    state: absent
    mode: "0644"
`);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^g\.yaml:7:5: error: file\[f\]: /);
  });

  it('rejects limit without burst', () => {
    assert.match(errors('graph: g\nresources:\n  noop: [{name: n, meta: {limit: 2}}]\n').join('\n'), /`limit` needs `burst` >= 1/);
  });

  it('finds cycles in a large graph without recursion limits', () => {
    const n = 20000;
    const ids = Array.from({ length: n }, (_, i) => `noop[${i}]`);
    const edges: EdgeSpec[] = [];
    for (let i = 0; i < n - 1; i++)
      edges.push({ name: `e${i}`, from: { kind: 'noop', name: String(i) }, to: { kind: 'noop', name: String(i + 1) }, notify: false });
    assert.deepEqual(findCycles(ids, edges), []);
    edges.push({ name: 'back', from: { kind: 'noop', name: String(n - 1) }, to: { kind: 'noop', name: '0' }, notify: false });
    const cycles = findCycles(ids, edges);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.path.length, n + 1);
  });
});

describe('diagnostics in log lines', () => {
  it('keep file:line:col: error: (editors parse it), and leave the severity to the log level otherwise', () => {
    const pos = { file: 'g.yaml', line: 3, col: 5 };
    assert.equal(diagnosticLogText({ severity: 'error', message: 'bad', pos }), 'g.yaml:3:5: error: bad');
    assert.equal(diagnosticLogText({ severity: 'error', message: 'bad', where: 'file[a]' }), 'file[a]: bad');
    assert.equal(formatDiagnostic({ severity: 'error', message: 'bad' }), 'error: bad');
  });
});
