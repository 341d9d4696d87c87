import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { checkGraphText } from '../../src/graph/read.js';
import { registry } from '../../src/cli/registry.js';

const load = (text: string) => checkGraphText(registry, text, 'g.yaml');
const errors = (text: string) =>
  load(text)
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('YAML graph loader', () => {
  it('keeps string parameters as their text: mode 0644 is "0644", content 1e3 is "1e3"', () => {
    const { spec, diagnostics } = load(`graph: g
resources:
  file:
  - name: f
    path: /tmp/x
    mode: 0644
    content: 1e3
    state: exists
`);
    assert.deepEqual(diagnostics, []);
    assert.equal(spec!.resources[0]!.params.mode, '0644');
    assert.equal(spec!.resources[0]!.params.content, '1e3');
  });

  it('types booleans, integers and numbers the way mgmt (YAML 1.1) does', () => {
    const { spec, diagnostics } = load(`graph: g
resources:
  file:
  - name: /tmp/d/
    recurse: yes
    force: off
    meta: {retry: 3, delay: 5000, limit: 0.2, burst: 5, sema: ['lock:2'], noop: true}
`);
    assert.deepEqual(diagnostics, []);
    const r = spec!.resources[0]!;
    assert.equal(r.params.recurse, true);
    assert.equal(r.params.force, false);
    assert.deepEqual(r.meta, { retry: 3, delay: 5000, limit: 0.2, burst: 5, sema: ['lock:2'], noop: true });
  });

  it('treats plain null, ~ and empty values as unset; quoted "null" stays a string', () => {
    const { spec } = load(`graph: g
resources:
  file:
  - {name: a, path: /tmp/a, content: ~}
  - {name: b, path: /tmp/b, content: "null", state: exists}
edges:
`);
    assert.equal(spec!.resources[0]!.params.content, undefined);
    assert.equal(spec!.resources[1]!.params.content, 'null');
  });

  it('accepts the spellings of mgmt’s published exec examples, warning about obsolete ones', () => {
    const { spec, diagnostics } = load(`---
graph: mygraph
resources:
  exec:
  - name: exec1
    cmd: sleep 10s
    shell: ''
    timeout: 0
    watchcmd: ''
    watchshell: ''
    ifcmd: ''
    ifshell: ''
    pollint: 0
    state: present
  - name: exec2
    cmd: echo hi
    timeout: 5
edges: []
`);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const warnings = diagnostics.map(formatDiagnostic);
    assert.ok(
      warnings.some((w) => w.includes('exec parameter `timeout` is obsolete (2 resources)')),
      warnings.join('\n'),
    );
    assert.ok(warnings.some((w) => w.includes('`pollint` is obsolete')));
    assert.ok(warnings.some((w) => w.includes('`state` is obsolete')));
    const [e1, e2] = spec!.resources;
    assert.deepEqual(e1!.params, { cmd: 'sleep 10s' });
    assert.deepEqual(e1!.meta, {});
    assert.deepEqual(e2!.meta, { timeout: 5000 });
  });

  it('accepts `res:` in edge endpoints (old examples) with a warning', () => {
    const { spec, diagnostics } = load(`graph: g
resources:
  noop: [{name: a}, {name: b}]
edges:
- {name: e1, from: {res: noop, name: a}, to: {kind: NOOP, name: b}}
`);
    assert.ok(diagnostics.some((d) => d.severity === 'warning' && d.message.includes('res')));
    assert.deepEqual(spec!.edges[0]!.from, { kind: 'noop', name: 'a' });
    assert.deepEqual(spec!.edges[0]!.to, { kind: 'noop', name: 'b' });
  });

  it('separates exported (@@) resources and keeps collect entries', () => {
    const { spec } = load(`graph: g
resources:
  file:
  - {name: "@@filea", path: /tmp/mgmtA/fA, content: "a\\n", state: exists}
  - {name: local, path: /tmp/mgmtA/local, state: exists}
collect:
- kind: file
  pattern: "/tmp/mgmtA/"
`);
    assert.deepEqual(
      spec!.exports.map((r) => r.name),
      ['filea'],
    );
    assert.deepEqual(
      spec!.resources.map((r) => r.name),
      ['local'],
    );
    assert.deepEqual(spec!.collect, [{ kind: 'file', pattern: '/tmp/mgmtA/' }]);
  });

  it('rejects a misspelled parameter with its position and a suggestion', () => {
    const errs = errors(`graph: g
resources:
  file:
  - name: f
    path: /tmp/f
    contnet: hi
`);
    assert.deepEqual(errs, ['g.yaml:6:5: error: file[f]: unknown parameter `contnet` (did you mean `content`?)']);
  });

  it('reports every error at once, each with its position', () => {
    const errs = errors(`graph: g
resources:
  file:
  - name: a
    path: relative/path
    state: present
  - name: b
    path: /tmp/b
    recurse: maybe
    meta: {retry: lots, bogus: 1}
  filez:
  - name: c
edges:
- {name: e, from: {kind: file, name: a}, to: {kind: file, name: nope}}
`);
    const text = errs.join('\n');
    assert.match(text, /g\.yaml:6:5: error: file\[a\]: parameter `state`: must be one of "exists", "absent"/);
    assert.match(text, /g\.yaml:9:5: error: file\[b\]: parameter `recurse`: must be a boolean \(true\/false\) \(got "maybe"\)/);
    assert.match(text, /g\.yaml:10:12: error: file\[b\]: metaparam `retry`: must be an integer \(got "lots"\)/);
    assert.match(text, /g\.yaml:10:\d+: error: file\[b\]: unknown metaparam `bogus`/);
    assert.match(text, /g\.yaml:11:3: error: unknown resource kind `filez` \(did you mean `file`\?\)/);
    assert.match(text, /g\.yaml:14:3: error: edge `e`: its `to` file\[nope\] is not in the graph/);
    assert.doesNotMatch(text, /file\[a\] is not in the graph/, 'an invalid resource is reported once, not again by edges');
    assert.equal(errs.length, 6, text);
  });

  it('reports YAML syntax errors with line and column', () => {
    const errs = errors('graph: g\nresources:\n  file: [\n');
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^g\.yaml:\d+:\d+: error: invalid YAML: /);
  });

  it('requires `graph`', () => {
    assert.match(errors('resources: {}\n').join('\n'), /missing `graph`/);
  });

  it('reads the graph-level `autoedges` switch (a boolean, YAML 1.1 spellings too)', () => {
    const off = load('graph: g\nautoedges: no\n');
    assert.deepEqual(off.diagnostics, []);
    assert.equal(off.spec?.autoedges, false);
    assert.equal(load('graph: g\n').spec?.autoedges, undefined);
    assert.match(errors('graph: g\nautoedges: sometimes\n').join('\n'), /boolean/);
  });

  it('rejects unknown top-level keys', () => {
    assert.match(errors('graph: g\nresource: {}\n').join('\n'), /g\.yaml:2:1: error: unknown top-level key `resource`/);
  });
});
