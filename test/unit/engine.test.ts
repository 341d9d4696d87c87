import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runGraph, specOf, startGraph } from '../harness/engine-run.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-engine-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An exec that appends `word` to the log file; optional extra YAML lines (indented 4). */
const logExec = (name: string, word = name, extra = '') => `  - name: ${name}\n    cmd: echo ${word} >> ${dir}/log\n    shell: /bin/sh\n${extra}`;
const logLines = () => (existsSync(`${dir}/log`) ? readFileSync(`${dir}/log`, 'utf8').trim().split('\n') : []);
const edge = (from: string, to: string, notify = false, kf = 'exec', kt = 'exec') =>
  `- {name: ${from}-${to}, from: {kind: ${kf}, name: ${from}}, to: {kind: ${kt}, name: ${to}}${notify ? ', notify: true' : ''}}\n`;

describe('engine', () => {
  it('runs parents before children', async () => {
    const failed = await runGraph(`graph: g
resources:
  exec:
${logExec('c')}${logExec('b')}${logExec('a')}
edges:
${edge('a', 'b')}${edge('b', 'c')}`);
    assert.deepEqual(failed, []);
    assert.deepEqual(logLines(), ['a', 'b', 'c']);
  });

  it('runs independent branches at the same time', async () => {
    const both = (n: string) => `  - name: ${n}\n    cmd: echo start >> ${dir}/log; sleep 0.3; echo end >> ${dir}/log\n    shell: /bin/sh\n`;
    await runGraph(`graph: g\nresources:\n  exec:\n${both('x')}${both('y')}`);
    assert.deepEqual(logLines(), ['start', 'start', 'end', 'end']);
  });

  it('never runs the children of a failed vertex, and reports the failure', async () => {
    const failed = await runGraph(`graph: g
resources:
  exec:
  - {name: bad, cmd: 'false'}
${logExec('child')}${logExec('other')}
edges:
${edge('bad', 'child')}`);
    assert.deepEqual(failed, ['exec[bad]']);
    assert.deepEqual(logLines(), ['other']);
  });

  it('retries with the retry and delay metaparams', async () => {
    // fails the first time (no marker yet), succeeds the second
    const failed = await runGraph(`graph: g
resources:
  exec:
  - name: flaky
    cmd: if [ -e ${dir}/marker ]; then echo ok >> ${dir}/log; else touch ${dir}/marker; exit 1; fi
    shell: /bin/sh
    meta: {retry: 2, delay: 10}
`);
    assert.deepEqual(failed, []);
    assert.deepEqual(logLines(), ['ok']);
  });

  it('cancels a check/apply at its timeout metaparam and fails it', async () => {
    const t0 = performance.now();
    const failed = await runGraph(`graph: g
resources:
  exec:
  - {name: slow, cmd: sleep 30, meta: {timeout: 200}}
`);
    assert.deepEqual(failed, ['exec[slow]']);
    assert.ok(performance.now() - t0 < 5000, 'the timeout ended the apply');
  });

  it('holds named semaphores: at most N at a time', async () => {
    const job = (n: string) =>
      `  - name: ${n}\n    cmd: echo + >> ${dir}/log; sleep 0.1; echo - >> ${dir}/log\n    shell: /bin/sh\n    meta: {sema: ['pool:2']}\n`;
    await runGraph(`graph: g\nresources:\n  exec:\n${['j1', 'j2', 'j3', 'j4', 'j5'].map(job).join('')}`);
    let running = 0;
    let most = 0;
    for (const l of logLines()) {
      running += l === '+' ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(most, 2);
  });

  it('the global --sema limit applies to every vertex', async () => {
    const job = (n: string) => `  - name: ${n}\n    cmd: echo + >> ${dir}/log; sleep 0.1; echo - >> ${dir}/log\n    shell: /bin/sh\n`;
    await runGraph(`graph: g\nresources:\n  exec:\n${['j1', 'j2', 'j3', 'j4'].map(job).join('')}`, { sema: 1 });
    assert.deepEqual(logLines(), ['+', '-', '+', '-', '+', '-', '+', '-']);
  });

  it('sends a refresh over notify edges only when the parent changed something', async () => {
    const graph = `graph: g
resources:
  file:
  - {name: conf, path: ${dir}/conf, state: exists, content: "v1\\n"}
  exec:
${logExec('reload', 'reload', '    refreshonly: true\n')}
edges:
${edge('conf', 'reload', true, 'file', 'exec')}`;
    await runGraph(graph);
    assert.deepEqual(logLines(), ['reload'], 'the file was created: refresh');
    await runGraph(graph);
    assert.deepEqual(logLines(), ['reload'], 'nothing changed: no refresh');
    writeFileSync(`${dir}/conf`, 'drifted\n');
    await runGraph(graph);
    assert.deepEqual(logLines(), ['reload', 'reload'], 'the file was repaired: refresh');
  });

  it('passes a refresh on along a chain of refreshed execs (file ~> exec ~> exec)', async () => {
    await runGraph(`graph: g
resources:
  file:
  - {name: conf, path: ${dir}/conf, state: exists, content: "v1\\n"}
  exec:
${logExec('one', 'one', '    refreshonly: true\n')}${logExec('two', 'two', '    refreshonly: true\n')}
edges:
${edge('conf', 'one', true, 'file', 'exec')}${edge('one', 'two', true)}`);
    assert.deepEqual(logLines(), ['one', 'two']);
  });

  it('repairs drift on events and keeps children cached (no re-run without notify)', async () => {
    const r = await startGraph(
      `graph: g
resources:
  file:
  - {name: f, path: ${dir}/f, state: exists, content: "good\\n"}
  exec:
${logExec('after')}
edges:
${edge('f', 'after', false, 'file', 'exec')}`,
      { convergedTimeout: 0.2 },
    );
    await r.converged();
    writeFileSync(`${dir}/f`, 'bad\n');
    await r.converged();
    await r.engine.shutdown();
    assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'good\n');
    assert.deepEqual(logLines(), ['after'], 'the child ran once: a poke alone does not re-run a cached vertex');
  });

  it('noop checks and changes nothing', async () => {
    await runGraph(
      `graph: g
resources:
  file:
  - {name: f, path: ${dir}/f, state: exists, content: "x"}
  exec:
${logExec('e')}
`,
      { noop: true },
    );
    assert.equal(existsSync(`${dir}/f`), false);
    assert.deepEqual(logLines(), []);
  });

  it('meta noop applies to one resource only', async () => {
    await runGraph(`graph: g
resources:
  file:
  - {name: f, path: ${dir}/f, state: exists, content: "x", meta: {noop: true}}
  - {name: g, path: ${dir}/g, state: exists, content: "y"}
`);
    assert.equal(existsSync(`${dir}/f`), false);
    assert.equal(readFileSync(`${dir}/g`, 'utf8'), 'y');
  });

  it('poll replaces watching with a ticker', async () => {
    const r = await startGraph(
      `graph: g
resources:
  exec:
${logExec('p', 'p', '    meta: {poll: 1}\n')}
`,
      { convergedTimeout: undefined },
    );
    await new Promise((res) => setTimeout(res, 1300));
    await r.engine.shutdown();
    assert.deepEqual(logLines(), ['p', 'p'], 'initial event plus one tick');
  });

  it('limit/burst rate-limits events', async () => {
    const r = await startGraph(
      `graph: g
resources:
  exec:
${logExec('t', 't', '    meta: {poll: 1, limit: 0.5, burst: 1}\n')}
`,
      { convergedTimeout: undefined },
    );
    await new Promise((res) => setTimeout(res, 1300));
    await r.engine.shutdown();
    assert.deepEqual(logLines(), ['t'], 'the second tick waits for a token (one per 2 s)');
  });

  it('adds autoedges: a file after its managed directory, an exec after its cwd', async () => {
    const r = await startGraph(`graph: g
resources:
  file:
  - {name: f, path: ${dir}/sub/deeper/f, state: exists, content: "x"}
  - {name: d, path: ${dir}/sub/, state: exists}
  - {name: d2, path: ${dir}/sub/deeper/, state: exists}
  exec:
  - {name: e, cmd: 'true', cwd: ${dir}/sub}
`);
    await r.converged();
    const edges = r.engine
      .graph()
      .edges.map((e) => `${e.from.name} -> ${e.to.name}`)
      .sort();
    await r.engine.shutdown();
    assert.deepEqual(edges, ['d -> d2', 'd -> e', 'd2 -> f']);
  });

  it('turns autoedges off with autoEdges: false', async () => {
    const r = await startGraph(
      `graph: g
resources:
  file:
  - {name: d, path: ${dir}/sub/, state: exists}
  - {name: f, path: ${dir}/sub/f, state: exists, recurse: true}
`,
      { autoEdges: false },
    );
    await r.converged();
    assert.equal(r.engine.graph().edges.length, 0);
    await r.engine.shutdown();
  });

  it('rejects a cycle made by autoedges and leaves the running graph as it was', async () => {
    const r = await startGraph(`graph: g\nresources:\n  noop: [{name: n}]\n`);
    await r.converged();
    const res = await r.engine.swap(
      specOf(`graph: g
resources:
  file:
  - {name: d, path: ${dir}/sub/, state: exists}
  - {name: f, path: ${dir}/sub/f, state: exists}
edges:
${edge('f', 'd', false, 'file', 'file')}`),
    );
    assert.match(res.diagnostics[0]!.message, /dependency cycle: file\[d\] -> file\[f\] -> file\[d\] \(includes automatic edges/);
    assert.ok(r.engine.vertex('noop[n]'), 'the old graph still runs');
    assert.equal(existsSync(`${dir}/sub`), false, 'nothing was applied');
    await r.engine.shutdown();
  });

  it('graph swap keeps unchanged vertices running, replaces changed ones, stops removed ones', async () => {
    const graph = (content: string, extra = '') => `graph: g
resources:
  exec:
${logExec('keep')}${extra}
  file:
  - {name: f, path: ${dir}/f, state: exists, content: "${content}"}
`;
    const r = await startGraph(graph('one', logExec('gone')), { convergedTimeout: 0.1 });
    await r.converged();
    const kept = r.engine.vertex('exec[keep]');
    const oldFile = r.engine.vertex('file[f]');
    const res = await r.engine.swap(specOf(graph('two')));
    assert.deepEqual([res.added, res.removed, res.kept], [1, 2, 1]);
    await r.converged();
    assert.equal(r.engine.vertex('exec[keep]'), kept, 'same live vertex');
    assert.notEqual(r.engine.vertex('file[f]'), oldFile);
    assert.equal(r.engine.vertex('exec[gone]'), undefined);
    assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'two');
    await r.engine.shutdown();
    assert.deepEqual(logLines().sort(), ['gone', 'keep'], 'the kept exec did not run again');
  });

  it('converger: waits N seconds after the last change, and not while changes keep coming', async () => {
    const r = await startGraph(
      `graph: g
resources:
  file:
  - {name: f, path: ${dir}/f, state: exists, content: "good"}
`,
      { convergedTimeout: 0.5 },
    );
    const t0 = performance.now();
    let done = false;
    const converged = r.converged().then(() => (done = true));
    // drift every 150 ms for 900 ms: each repair is a change, so no convergence before 900 + 500 ms
    for (let i = 0; i < 6; i++) {
      await new Promise((res) => setTimeout(res, 150));
      writeFileSync(`${dir}/f`, `bad ${i}`);
    }
    assert.equal(done, false, 'did not converge while drift kept coming');
    await converged;
    const took = performance.now() - t0;
    assert.ok(took >= 900 + 450, `converged after ${took.toFixed(0)} ms`);
    await r.engine.shutdown();
  });

  it('converger: under noop, a graph converges once everything was checked', async () => {
    assert.deepEqual(await runGraph(`graph: g\nresources:\n  file: [{name: f, path: ${dir}/f, state: exists}]\n`, { noop: true }), []);
    assert.equal(existsSync(`${dir}/f`), false);
  });

  it('a swap that only changes parameters moves the edges to the new vertex (fast path) and refreshes still flow', async () => {
    const graph = (content: string) => `graph: g
resources:
  file:
  - {name: d, path: ${dir}/d/, state: exists}
  - {name: conf, path: ${dir}/d/conf, state: exists, content: "${content}"}
  exec:
${logExec('reload', 'reload', '    refreshonly: true\n')}
edges:
${edge('conf', 'reload', true, 'file', 'exec')}`;
    const r = await startGraph(graph('v1'), { convergedTimeout: 0.1 });
    await r.converged();
    assert.deepEqual(logLines(), ['reload']);
    const res = await r.engine.swap(specOf(graph('v2')));
    assert.deepEqual([res.added, res.removed, res.kept], [1, 1, 2]);
    await r.converged();
    assert.equal(readFileSync(`${dir}/d/conf`, 'utf8'), 'v2');
    assert.deepEqual(logLines(), ['reload', 'reload'], 'the changed file refreshed the exec over the moved edge');
    const conf = r.engine.vertex('file[conf]')!;
    const reload = r.engine.vertex('exec[reload]')!;
    assert.equal(conf.children.length, 1);
    assert.equal(conf.children[0]!.to, reload);
    assert.equal(reload.parents[0]!.from, conf, 'the kept child points at the new vertex');
    assert.equal(conf.parents[0]!.from, r.engine.vertex('file[d]'), 'the autoedge moved too');
    assert.equal(r.engine.graph().edges.length, 2);
    await r.engine.shutdown();
  });
});
