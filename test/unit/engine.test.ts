// Engine behaviour, driven by the `test` kind (src/resources/test-kind.ts): its handles count check/applies,
// fail on demand, hold a check/apply until released, and drift, so scheduling is observed in process instead
// of through /bin/sh, sleep and a log file. Files stay where the point is a file's own hints (autoedges).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registry as mgmtRegistry } from '../../src/cli/registry.js';
import type { EngineOptions } from '../../src/engine/engine.js';
import { TestBench } from '../../src/resources/test-kind.js';
import { runGraph as runWith, specOf as specWith, startGraph as startWith } from '../harness/engine-run.js';

const bench = new TestBench();
const registry = mgmtRegistry.with(bench.kind);
const runGraph = (yaml: string, opts: Partial<EngineOptions> = {}) => runWith(yaml, { registry, ...opts });
const startGraph = (yaml: string, opts: Partial<EngineOptions> = {}) => startWith(yaml, { registry, ...opts });
const specOf = (yaml: string) => specWith(yaml, registry);
const h = (name: string) => bench.handle(name);

let dir: string;
beforeEach(async () => {
  bench.reset();
  dir = await mkdtemp(join(tmpdir(), 'mgmt-engine-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A `test` resource as a YAML list item, with extra flow-map entries (`fail: 1, meta: {retry: 2}`). */
const t = (name: string, extra = '') => `  - {name: ${name}${extra ? `, ${extra}` : ''}}\n`;
const graphOf = (tests: string, edges = '', more = '') => `graph: g\nresources:\n  test:\n${tests}${more}${edges ? `edges:\n${edges}` : ''}`;
const edge = (from: string, to: string, notify = false, kf = 'test', kt = 'test') =>
  `- {name: ${from}-${to}, from: {kind: ${kf}, name: ${from}}, to: {kind: ${kt}, name: ${to}}${notify ? ', notify: true' : ''}}\n`;
/** The journal entries of one kind (`start`, `end`, `fail`, `refresh`). */
const entries = (what: string) => bench.journal.filter((l) => l.startsWith(`${what} `));
/** Waits (bounded) until `cond` holds; for states the test itself brings about with `hold()`. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((res) => setTimeout(res, 2));
  }
}

describe('engine', () => {
  it('runs parents before children', async () => {
    const failed = await runGraph(graphOf(t('c') + t('b') + t('a'), edge('a', 'b') + edge('b', 'c')));
    assert.deepEqual(failed, []);
    assert.deepEqual(bench.journal, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    for (const n of ['a', 'b', 'c']) assert.equal(h(n).checks, 1, n);
  });

  it('runs 30 commands at once with no listener warning (they all listen to the one cancel signal)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const execs = Array.from({ length: 30 }, (_, i) => `  - {name: e${i}, cmd: 'sleep 0.2'}\n`).join('');
      const failed = await runGraph(`graph: g\nresources:\n  exec:\n${execs}`);
      assert.deepEqual(failed, []);
      await new Promise((res) => setImmediate(res)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.includes('MaxListeners')),
      [],
    );
  });

  it('runs independent branches at the same time', async () => {
    h('x').hold();
    h('y').hold();
    const run = runGraph(graphOf(t('x') + t('y')));
    // Both are held at their start: the second started while the first was still running.
    await until(() => h('x').running === 1 && h('y').running === 1, 'both branches run');
    assert.deepEqual(entries('end'), []);
    h('x').release();
    h('y').release();
    assert.deepEqual(await run, []);
    assert.equal(bench.maxRunning, 2);
    assert.deepEqual(bench.journal.slice(0, 2).sort(), ['start x', 'start y']);
    assert.deepEqual(bench.journal.slice(2).sort(), ['end x', 'end y']);
  });

  it('never runs the children of a failed vertex, and reports the failure', async () => {
    const failed = await runGraph(graphOf(t('bad', 'fail: -1') + t('child') + t('other'), edge('bad', 'child')));
    assert.deepEqual(failed, ['test[bad]']);
    assert.equal(h('bad').failures, 1);
    assert.equal(h('child').checks, 0, 'the child never ran');
    assert.equal(h('other').checks, 1);
    assert.deepEqual(entries('end'), ['end other']);
  });

  it('retries with the retry and delay metaparams', async () => {
    // fails the first time, succeeds the second
    const failed = await runGraph(graphOf(t('flaky', 'fail: 1, meta: {retry: 2, delay: 10}')));
    assert.deepEqual(failed, []);
    assert.deepEqual(bench.journal, ['start flaky', 'fail flaky', 'start flaky', 'end flaky']);
    assert.deepEqual([h('flaky').checks, h('flaky').failures], [2, 1]);
  });

  it('gives up once the retries are used up', async () => {
    const failed = await runGraph(graphOf(t('broken', 'fail: -1, meta: {retry: 2, delay: 10}') + t('after'), edge('broken', 'after')));
    assert.deepEqual(failed, ['test[broken]']);
    assert.deepEqual([h('broken').checks, h('broken').failures], [3, 3], 'the first try and two retries');
    assert.equal(h('after').checks, 0);
  });

  it('cancels a check/apply at its timeout metaparam and fails it', async () => {
    const t0 = performance.now();
    const failed = await runGraph(graphOf(t('slow', 'duration: 30000, meta: {timeout: 200}')));
    assert.deepEqual(failed, ['test[slow]']);
    assert.ok(performance.now() - t0 < 5000, 'the timeout ended the apply');
    assert.deepEqual([h('slow').checks, h('slow').failures], [1, 1]);
    assert.equal(h('slow').running, 0, 'the cancelled check/apply returned');
  });

  it('holds named semaphores: at most N at a time', async () => {
    const jobs = ['j1', 'j2', 'j3', 'j4', 'j5'];
    assert.deepEqual(await runGraph(graphOf(jobs.map((n) => t(n, "duration: 100, meta: {sema: ['pool:2']}")).join(''))), []);
    assert.equal(bench.maxRunning, 2);
    for (const n of jobs) assert.equal(h(n).checks, 1, n);
  });

  it('the global --sema limit applies to every vertex', async () => {
    const jobs = ['j1', 'j2', 'j3', 'j4'];
    await runGraph(graphOf(jobs.map((n) => t(n, 'duration: 20')).join('')), { sema: 1 });
    assert.equal(bench.maxRunning, 1);
    assert.deepEqual(
      bench.journal.map((l) => l.split(' ')[0]),
      ['start', 'end', 'start', 'end', 'start', 'end', 'start', 'end'],
    );
  });

  it('sends a refresh over notify edges only when the parent changed something', async () => {
    const graph = graphOf(t('conf', 'drifted: true') + t('reload'), edge('conf', 'reload', true));
    await runGraph(graph);
    assert.equal(h('conf').changes, 1);
    assert.equal(h('reload').refreshes, 1, 'the parent was repaired: refresh');
    await runGraph(graph);
    assert.equal(h('conf').changes, 1);
    assert.equal(h('reload').refreshes, 1, 'nothing changed: no refresh');
    h('conf').drift();
    await runGraph(graph);
    assert.equal(h('conf').changes, 2);
    assert.equal(h('reload').refreshes, 2, 'the parent was repaired: refresh');
  });

  it('sends no refresh over an edge without notify', async () => {
    await runGraph(graphOf(t('conf', 'drifted: true') + t('plain'), edge('conf', 'plain')));
    assert.equal(h('conf').changes, 1);
    assert.equal(h('plain').refreshes, 0);
  });

  it('passes a refresh on along a chain of refreshed vertices (a ~> one ~> two)', async () => {
    await runGraph(graphOf(t('conf', 'drifted: true') + t('one') + t('two'), edge('conf', 'one', true) + edge('one', 'two', true)));
    assert.deepEqual([h('one').refreshes, h('two').refreshes], [1, 1]);
    assert.deepEqual(entries('refresh'), ['refresh one', 'refresh two']);
  });

  it('repairs drift on events and keeps children cached (no re-run without notify)', async () => {
    const r = await startGraph(graphOf(t('f') + t('after'), edge('f', 'after')), { convergedTimeout: 0.2 });
    await r.converged();
    assert.ok(h('f').watching);
    h('f').drift();
    await r.converged();
    await r.engine.shutdown();
    assert.equal(h('f').inState, true, 'repaired');
    assert.deepEqual([h('f').checks, h('f').changes], [2, 1]);
    assert.equal(h('after').checks, 1, 'the child ran once: a poke alone does not re-run a cached vertex');
  });

  it('a watch event without drift re-checks and changes nothing', async () => {
    const r = await startGraph(graphOf(t('f')), { convergedTimeout: 0.1 });
    await r.converged();
    h('f').event();
    await r.converged();
    await r.engine.shutdown();
    assert.deepEqual([h('f').checks, h('f').changes], [2, 0]);
  });

  it('noop checks and changes nothing', async () => {
    await runGraph(
      graphOf(
        t('a', 'drifted: true') + t('b'),
        edge('a', 'b', true),
        `  file:\n  - {name: f, path: ${dir}/f, state: exists, content: "x"}\n  exec:\n  - {name: e, cmd: 'touch ${dir}/ran'}\n`,
      ),
      { noop: true },
    );
    assert.deepEqual([h('a').wouldChange, h('a').changes, h('a').inState], [1, 0, false]);
    assert.equal(h('b').refreshes, 0, 'no refresh is applied under noop');
    assert.equal(existsSync(`${dir}/f`), false);
    assert.equal(existsSync(`${dir}/ran`), false);
  });

  it('meta noop applies to one resource only', async () => {
    await runGraph(
      graphOf(
        t('a', 'drifted: true, meta: {noop: true}') + t('b', 'drifted: true'),
        '',
        `  file:\n  - {name: f, path: ${dir}/f, state: exists, content: "x", meta: {noop: true}}\n  - {name: g, path: ${dir}/g, state: exists, content: "y"}\n`,
      ),
    );
    assert.deepEqual([h('a').wouldChange, h('a').changes, h('a').inState], [1, 0, false]);
    assert.deepEqual([h('b').wouldChange, h('b').changes, h('b').inState], [0, 1, true]);
    assert.equal(existsSync(`${dir}/f`), false);
    assert.equal(readFileSync(`${dir}/g`, 'utf8'), 'y');
  });

  it('poll replaces watching with a ticker', async () => {
    const r = await startGraph(graphOf(t('p', 'meta: {poll: 1}')), { convergedTimeout: undefined });
    await new Promise((res) => setTimeout(res, 1300));
    assert.equal(h('p').watching, false, 'the resource’s own watch is not run');
    await r.engine.shutdown();
    assert.equal(h('p').checks, 2, 'initial event plus one tick');
  });

  it('limit/burst rate-limits events', async () => {
    const r = await startGraph(graphOf(t('t', 'meta: {poll: 1, limit: 0.5, burst: 1}')), { convergedTimeout: undefined });
    await new Promise((res) => setTimeout(res, 1300));
    await r.engine.shutdown();
    assert.equal(h('t').checks, 1, 'the second tick waits for a token (one per 2 s)');
  });

  it('autogroup: resources of one group run as one vertex, once', async () => {
    const r = await startGraph(graphOf(t('a', 'group: g') + t('b', 'group: g') + t('c', 'group: g') + t('solo', 'group: other') + t('free')));
    assert.deepEqual(await r.converged(), []);
    assert.equal(r.engine.vertex('test[b]'), r.engine.vertex('test[a]'));
    assert.equal(r.engine.vertex('test[c]'), r.engine.vertex('test[a]'));
    assert.notEqual(r.engine.vertex('test[solo]'), r.engine.vertex('test[a]'));
    assert.deepEqual(
      r.engine.vertex('test[a]')!.spec.members?.map((m) => m.name),
      ['a', 'b', 'c'],
    );
    await r.engine.shutdown();
    for (const n of ['a', 'b', 'c', 'solo', 'free']) assert.equal(h(n).checks, 1, n);
    const groupRun = bench.journal.filter((l) => /^(start|end) [abc]$/.test(l));
    assert.deepEqual(groupRun, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'], 'the members run one after another in one vertex');
  });

  it('autogroup: never merges two resources with a path between them, and --no-autogroup keeps them apart', async () => {
    const yaml = graphOf(t('a', 'group: g') + t('mid') + t('b', 'group: g'), edge('a', 'mid') + edge('mid', 'b'));
    const r = await startGraph(yaml);
    await r.converged();
    assert.notEqual(r.engine.vertex('test[a]'), r.engine.vertex('test[b]'));
    await r.engine.shutdown();
    assert.deepEqual(bench.journal, ['start a', 'end a', 'start mid', 'end mid', 'start b', 'end b']);
    bench.reset();
    const apart = await startGraph(graphOf(t('a', 'group: g') + t('b', 'group: g')), { autoGroup: false });
    await apart.converged();
    assert.notEqual(apart.engine.vertex('test[a]'), apart.engine.vertex('test[b]'));
    await apart.engine.shutdown();
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

  it('turns autoedges off for one graph with its top-level `autoedges: false` (a translated Puppet catalog)', async () => {
    const r = await startGraph(`graph: g
autoedges: false
resources:
  file:
  - {name: d, path: ${dir}/sub/, state: exists}
  - {name: f, path: ${dir}/sub/f, state: exists, recurse: true}
`);
    await r.converged();
    assert.equal(r.engine.graph().edges.length, 0);
    await r.engine.shutdown();
  });

  it('rejects a cycle made by autoedges and leaves the running graph as it was', async () => {
    const r = await startGraph(graphOf(t('n')));
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
    assert.ok(r.engine.vertex('test[n]'), 'the old graph still runs');
    assert.ok(h('n').watching, 'and still watches');
    assert.equal(existsSync(`${dir}/sub`), false, 'nothing was applied');
    await r.engine.shutdown();
  });

  it('graph swap keeps unchanged vertices running, replaces changed ones, stops removed ones', async () => {
    const graph = (changed: string, extra = '') => graphOf(t('keep') + t('changed', changed) + extra);
    const r = await startGraph(graph('duration: 1', t('gone')), { convergedTimeout: 0.1 });
    await r.converged();
    const kept = r.engine.vertex('test[keep]');
    const oldChanged = r.engine.vertex('test[changed]');
    const res = await r.engine.swap(specOf(graph('duration: 2')));
    assert.deepEqual([res.added, res.removed, res.kept], [1, 2, 1]);
    await r.converged();
    assert.equal(r.engine.vertex('test[keep]'), kept, 'same live vertex');
    assert.notEqual(r.engine.vertex('test[changed]'), oldChanged);
    assert.equal(r.engine.vertex('test[gone]'), undefined);
    assert.equal(h('gone').watching, false, 'the removed vertex’s watch stopped');
    assert.ok(h('keep').watching);
    await r.engine.shutdown();
    assert.deepEqual([h('keep').instances, h('keep').checks], [1, 1], 'the kept vertex did not run again');
    assert.deepEqual([h('changed').instances, h('changed').checks], [2, 2], 'the changed one is a new vertex, checked again');
    assert.deepEqual([h('gone').instances, h('gone').checks], [1, 1]);
    assert.equal(h('keep').watching, false, 'shutdown stopped every watch');
  });

  it('converger: waits N seconds after the last change, and not while changes keep coming', async () => {
    const r = await startGraph(graphOf(t('f')), { convergedTimeout: 0.5 });
    const t0 = performance.now();
    let done = false;
    const converged = r.converged().then(() => (done = true));
    // drift every 150 ms for 900 ms: each repair is a change, so no convergence before 900 + 500 ms
    for (let i = 0; i < 6; i++) {
      await new Promise((res) => setTimeout(res, 150));
      h('f').drift();
    }
    assert.equal(done, false, 'did not converge while drift kept coming');
    await converged;
    const took = performance.now() - t0;
    assert.ok(took >= 900 + 450, `converged after ${took.toFixed(0)} ms`);
    await r.engine.shutdown();
    assert.equal(h('f').changes, 6, 'each drift was repaired');
  });

  it('converger: under noop, a graph converges once everything was checked', async () => {
    assert.deepEqual(await runGraph(graphOf(t('f', 'drifted: true'), '', `  file: [{name: g, path: ${dir}/g, state: exists}]\n`), { noop: true }), []);
    assert.deepEqual([h('f').checks, h('f').wouldChange, h('f').inState], [1, 1, false]);
    assert.equal(existsSync(`${dir}/g`), false);
  });

  it('a swap that only changes parameters moves the edges to the new vertex (fast path) and refreshes still flow', async () => {
    const graph = (content: string) => `graph: g
resources:
  file:
  - {name: d, path: ${dir}/d/, state: exists}
  - {name: conf, path: ${dir}/d/conf, state: exists, content: "${content}"}
  test:
${t('reload')}edges:
${edge('conf', 'reload', true, 'file', 'test')}`;
    const r = await startGraph(graph('v1'), { convergedTimeout: 0.1 });
    await r.converged();
    assert.equal(h('reload').refreshes, 1);
    const res = await r.engine.swap(specOf(graph('v2')));
    assert.deepEqual([res.added, res.removed, res.kept], [1, 1, 2]);
    await r.converged();
    assert.equal(readFileSync(`${dir}/d/conf`, 'utf8'), 'v2');
    assert.equal(h('reload').refreshes, 2, 'the changed file refreshed the kept vertex over the moved edge');
    assert.equal(h('reload').instances, 1);
    const conf = r.engine.vertex('file[conf]')!;
    const reload = r.engine.vertex('test[reload]')!;
    assert.equal(conf.children.length, 1);
    assert.equal(conf.children[0]!.to, reload);
    assert.equal(reload.parents[0]!.from, conf, 'the kept child points at the new vertex');
    assert.equal(conf.parents[0]!.from, r.engine.vertex('file[d]'), 'the autoedge moved too');
    assert.equal(r.engine.graph().edges.length, 2);
    await r.engine.shutdown();
  });
});

describe('the test kind', () => {
  it('is in no published registry: only a test adds it', () => {
    assert.equal(mgmtRegistry.get('test'), undefined);
    assert.equal(registry.get('test'), bench.kind);
  });
});
