// `mgmt puppet diff --from-graph/--to-graph`: two mgmt graph documents (YAML) compared at the graph level, through
// the command itself: vertex parameters and metaparams (entries as a catalog diff's, --ignore applies), vertices
// and edges (ordering, refresh), a new dependency cycle as a failure naming it, Sensitive values never shown, and
// a document with errors refused with file:line:col.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffCommand } from '../../src/cli/puppet-diff.js';
import { mgmtRun } from '../harness/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'mgmt-diff-graph-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const OLD = `graph: web
resources:
  file:
  - name: /srv/app/app.conf
    state: exists
    content: "port=80\\n"
    mode: "0644"
  - name: /srv/app/secret
    state: exists
    content: hunter2-old
    meta: {sensitive: [content]}
  exec:
  - name: reload-app
    cmd: /bin/true
    refreshonly: true
  msg:
  - name: done
    body: deployed
edges:
- {name: e1, from: {kind: file, name: /srv/app/app.conf}, to: {kind: exec, name: reload-app}}
- {name: e2, from: {kind: exec, name: reload-app}, to: {kind: msg, name: done}}
`;

/** port changed, mode unchanged, the secret changed, e1 now a refresh, msg removed, a noop added after exec. */
const NEW = `graph: web
resources:
  file:
  - name: /srv/app/app.conf
    state: exists
    content: "port=8080\\n"
    mode: "0644"
    meta: {retry: 3}
  - name: /srv/app/secret
    state: exists
    content: hunter2-new
    meta: {sensitive: [content]}
  exec:
  - name: reload-app
    cmd: /bin/true
    refreshonly: true
  noop:
  - name: finished
edges:
- {name: e1, from: {kind: file, name: /srv/app/app.conf}, to: {kind: exec, name: reload-app}, notify: true}
- {name: e3, from: {kind: exec, name: reload-app}, to: {kind: noop, name: finished}}
`;

function file(name: string, text: string): string {
  const p = join(scratch, name);
  writeFileSync(p, text);
  return p;
}

async function diff(from: string, to: string, ...flags: string[]): Promise<{ code: number; out: string }> {
  const out = join(scratch, `out-${Math.random().toString(36).slice(2)}`);
  const code = await diffCommand(['--from-graph', from, '--to-graph', to, '-o', out, ...flags]);
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    // no output written: an error before the report
  }
  return { code, out: text };
}

interface Doc {
  diff: { diff_type: string; type: string; title: string; structure: string[]; old_value: unknown; new_value: unknown; new_line: number | null }[];
  nodes: {
    node: string;
    failures: string[];
    graph: { vertices: { change: string; vertex: string }[]; edges: { change: string; from: string; to: string; notify: boolean }[]; newCycles: string[][] };
  }[];
}

describe('mgmt puppet diff on two graph documents', () => {
  const a = file('old.yaml', OLD);
  const b = file('new.yaml', NEW);

  it('compares the vertices as resources: parameters, metaparams, added and removed, with file:line', async () => {
    const r = await diff(a, b, '--output-format', 'json');
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.out) as Doc;
    assert.deepEqual(
      doc.diff.map((e) => `${e.diff_type} ${e.type}[${e.title}] ${e.structure.join('::')} ${JSON.stringify(e.old_value)} ${JSON.stringify(e.new_value)}`),
      [
        '+ noop[finished]  null {"type":"noop","title":"finished","tags":[],"exported":false,"parameters":{}}',
        '- msg[done]  {"type":"msg","title":"done","tags":[],"exported":false,"parameters":{"body":"deployed"}} null',
        '~ file[/srv/app/app.conf] parameters::content "port=80\\n" "port=8080\\n"',
        '~ file[/srv/app/secret] parameters::content "Sensitive [value redacted]" "Sensitive [value redacted]"',
        '! file[/srv/app/app.conf] parameters::meta null {"retry":3}',
      ],
    );
    assert.equal(doc.diff.find((e) => e.title === '/srv/app/app.conf')?.new_line, 4);
    assert.equal(doc.nodes[0]!.node, 'web');
    assert.doesNotMatch(r.out, /hunter2/);
  });

  it('compares the graphs: vertices, edges and refreshes', async () => {
    const doc = JSON.parse((await diff(a, b, '--output-format', 'json')).out) as Doc;
    const g = doc.nodes[0]!.graph;
    assert.deepEqual(
      g.vertices.map((v) => `${v.change} ${v.vertex}`),
      ['- msg[done]', '+ noop[finished]'],
    );
    assert.deepEqual(
      g.edges.map((e) => `${e.change} ${e.from} -> ${e.to}${e.notify ? ' (refresh)' : ''}`),
      ['- exec[reload-app] -> msg[done]', '+ exec[reload-app] -> noop[finished]', '~ file[/srv/app/app.conf] -> exec[reload-app] (refresh)'],
    );
    assert.deepEqual(g.newCycles, []);
    const text = await diff(a, b, '--no-color');
    assert.match(text.out, /^ {4}~ edge file\[\/srv\/app\/app\.conf\] ~> exec\[reload-app\] \(was ordering only\)$/m);
    assert.doesNotMatch(text.out, /hunter2/);
  });

  it('--ignore applies to vertices as to resources', async () => {
    const doc = JSON.parse(
      (await diff(a, b, '--output-format', 'json', '--ignore', 'file[/srv/app/*]', '--ignore', 'msg[*]-', '--ignore', 'noop[*]+')).out,
    ) as Doc;
    assert.deepEqual(doc.diff, []);
  });

  it('identical documents: exit 0', async () => {
    const r = await diff(a, file('same.yaml', OLD));
    assert.equal(r.code, 0);
    assert.match(r.out, /no differences/);
  });

  it('a dependency cycle the new document adds is a failure naming it (exit 1)', async () => {
    const cyclic = file('cyclic.yaml', NEW + '- {name: e4, from: {kind: noop, name: finished}, to: {kind: file, name: /srv/app/app.conf}}\n');
    const r = await diff(b, cyclic, '--output-format', 'json');
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out) as Doc;
    assert.deepEqual(doc.nodes[0]!.graph.newCycles, [['exec[reload-app]', 'noop[finished]', 'file[/srv/app/app.conf]', 'exec[reload-app]']]);
    assert.match(
      doc.nodes[0]!.failures[0]!,
      /introduces a dependency cycle: exec\[reload-app\] -> noop\[finished\] -> file\[\/srv\/app\/app\.conf\] -> exec\[reload-app\]/,
    );
  });

  it('a document with errors is refused with file:line:col, exit 1', async () => {
    const bad = file('bad.yaml', OLD.replace('refreshonly: true', 'refreshonly: true\n    colour: blue'));
    const r = await mgmtRun(['puppet', 'diff', '--from-graph', a, '--to-graph', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bad.replaceAll('/', '\\/')}:16:5: error: exec\\[reload-app\\]: unknown parameter .colour.`));
  });
});
