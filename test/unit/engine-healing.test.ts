// Issue 11 item 4 (never stop healing) and the engine's half of item 5 (one copy per vertex), driven by the `test`
// kind: a resource that fails N times, a watch that breaks, a cancelled check/apply that takes time to return.
// The retry policy is shortened (tens of milliseconds) so that the backoff is seen in a test's time.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { registry as mgmtRegistry } from '../../src/cli/registry.js';
import type { EngineOptions } from '../../src/engine/engine.js';
import { DEFAULT_RETRY, duration, type RetryPolicy } from '../../src/engine/vertex.js';
import { setLogLevel, setLogSink } from '../../src/observe/log.js';
import { TestBench } from '../../src/resources/test-kind.js';
import { runGraph as runWith, startGraph as startWith } from '../harness/engine-run.js';

const bench = new TestBench();
const registry = mgmtRegistry.with(bench.kind);
const FAST: RetryPolicy = { firstMs: 20, maxMs: 40, eventGapMs: 0 };
const runGraph = (yaml: string, opts: Partial<EngineOptions> = {}) => runWith(yaml, { registry, retryPolicy: FAST, ...opts });
const startGraph = (yaml: string, opts: Partial<EngineOptions> = {}) => startWith(yaml, { registry, retryPolicy: FAST, ...opts });
const h = (name: string) => bench.handle(name);

const t = (name: string, extra = '') => `  - {name: ${name}${extra ? `, ${extra}` : ''}}\n`;
const graphOf = (tests: string, edges = '') => `graph: g\nresources:\n  test:\n${tests}${edges ? `edges:\n${edges}` : ''}`;
const edge = (from: string, to: string) => `- {name: ${from}-${to}, from: {kind: test, name: ${from}}, to: {kind: test, name: ${to}}}\n`;

/** Every log line written while a test runs, and when (performance.now()). */
let logged: string[] = [];
let loggedAt: number[] = [];
beforeEach(() => {
  bench.reset();
  logged = [];
  loggedAt = [];
  setLogSink({
    write: (l) => {
      logged.push(l);
      loggedAt.push(performance.now());
    },
  });
});
afterEach(() => {
  setLogSink({ write: (l) => process.stderr.write(l) });
  setLogLevel('info');
});
const lines = (re: RegExp) => logged.filter((l) => re.test(l));

describe('healing: a resource without an explicit retry is retried until it succeeds', () => {
  it('fails 3 times, then heals: it is applied, and its dependents run after it', async () => {
    const t0 = performance.now();
    const failed = await runGraph(graphOf(t('flaky', 'fail: 3, drifted: true') + t('child'), edge('flaky', 'child')), { convergedTimeout: 1 });
    assert.deepEqual(failed, [], 'converged with nothing failing');
    assert.deepEqual([h('flaky').checks, h('flaky').failures, h('flaky').changes], [4, 3, 1], 'three failures, then the apply');
    assert.equal(h('flaky').inState, true);
    assert.equal(h('child').checks, 1, 'the dependent ran once it recovered');
    assert.deepEqual(
      bench.journal,
      ['start flaky', 'fail flaky', 'start flaky', 'fail flaky', 'start flaky', 'fail flaky', 'start flaky', 'end flaky', 'start child', 'end child'],
      'the dependent waited for the recovery',
    );
    // The backoff: 20 ms, 40 ms, then the cap of 40 ms.
    assert.ok(performance.now() - t0 >= 20 + 40 + 40, 'the retries were spaced by the backoff');
    // One error line per failure, saying what happens next; the reminder once the cap is reached; the recovery.
    const failures = lines(/test\[flaky\]: error: check\/apply failed/);
    assert.equal(failures.length, 3, logged.join(''));
    assert.match(failures[0]!, /\(1st time\): test: told to fail; retrying in 20 ms and at once on a change; 1 dependent waits\. Fix the cause/);
    assert.match(failures[1]!, /\(2nd time, failing since \d\d:\d\d:\d\d\): .*retrying in 40 ms/);
    assert.equal(lines(/test\[flaky\]: error: still failing since .*from now on retried every 40 ms/).length, 1, 'one reminder at the cap');
    assert.equal(lines(/test\[flaky\]: recovered \(after 3 failed attempts; failing since/).length, 1);
  });

  it('a new event retries at once, not at the next tick of the backoff', async () => {
    // The backoff would wait a minute: only the event can bring the retry.
    const r = await startGraph(graphOf(t('bad', 'fail: -1') + t('child'), edge('bad', 'child')), {
      convergedTimeout: 0,
      retryPolicy: { firstMs: 60_000, maxMs: 60_000, eventGapMs: 0 },
    });
    const first = await r.converged();
    assert.deepEqual(
      first.map((v) => v.id),
      ['test[bad]'],
    );
    assert.equal(first[0]!.failure?.message, 'test: told to fail');
    assert.equal(h('child').checks, 0, 'the dependent waits');
    const t0 = performance.now();
    h('bad').heal();
    h('bad').event();
    assert.deepEqual(await r.converged(), []);
    const took = performance.now() - t0;
    await r.engine.shutdown();
    assert.ok(took < 5000, `retried after ${took.toFixed(0)} ms`);
    assert.deepEqual([h('bad').checks, h('child').checks], [2, 1]);
    assert.deepEqual(r.engine.failures(), []);
  });

  it('events while failing retry at most once per eventGapMs (a failure that makes its own events cannot spin)', async () => {
    const r = await startGraph(graphOf(t('bad', 'fail: -1')), {
      convergedTimeout: 0,
      retryPolicy: { firstMs: 60_000, maxMs: 60_000, eventGapMs: 200 },
    });
    await r.converged();
    // Fifty events at once are one pending event: it finds no retry due yet (converged again, one attempt), and
    // the retry follows the gap (converged again, two attempts).
    for (let i = 0; i < 50; i++) h('bad').event();
    await r.converged();
    assert.equal(h('bad').checks, 1, 'not at once: the last failure was less than the gap ago');
    await r.converged();
    await r.engine.shutdown();
    assert.equal(h('bad').checks, 2, 'fifty events, one retry');
    const failedAt = logged.flatMap((l, i) => (l.includes('check/apply failed') ? [loggedAt[i]!] : []));
    assert.equal(failedAt.length, 2);
    assert.ok(failedAt[1]! - failedAt[0]! >= 195, `the retry came ${(failedAt[1]! - failedAt[0]!).toFixed(0)} ms after the failure`);
  });

  it('with a converged timeout, exits once nothing but retries happen, listing the failures; retries go on until then', async () => {
    const t0 = performance.now();
    const failed = await runGraph(graphOf(t('bad', 'fail: -1') + t('child') + t('fine'), edge('bad', 'child')), { convergedTimeout: 0.4 });
    const took = performance.now() - t0;
    assert.deepEqual(failed, ['test[bad]']);
    assert.ok(h('bad').checks >= 4, `kept retrying: ${h('bad').checks} attempts`);
    assert.equal(h('child').checks, 0);
    assert.equal(h('fine').checks, 1);
    assert.ok(took >= 400 && took < 3000, `converged after ${took.toFixed(0)} ms`);
  });

  it('a failed watch is restarted with the backoff, and the resource is failing until the new watch runs', async () => {
    const r = await startGraph(graphOf(t('w')), { convergedTimeout: 0, retryPolicy: { firstMs: 200, maxMs: 200, eventGapMs: 0 } });
    await r.converged();
    assert.ok(h('w').watching);
    h('w').breakWatch();
    const failing = await r.converged();
    assert.deepEqual(
      failing.map((v) => [v.id, v.failure?.message]),
      [['test[w]', 'test: the watch broke']],
    );
    assert.equal(h('w').watching, false);
    assert.deepEqual(await r.converged(), [], 'the restarted watch delivered its event: recovered');
    assert.ok(h('w').watching);
    await r.engine.shutdown();
    assert.equal(lines(/test\[w\]: error: watch failed \(1st time\): test: the watch broke; restarting it in 200 ms/).length, 1, logged.join(''));
    assert.equal(lines(/test\[w\]: recovered \(watching again/).length, 1);
  });

  it('an explicit delay keeps its meaning: the fixed wait between retries, forever', async () => {
    const t0 = performance.now();
    assert.deepEqual(await runGraph(graphOf(t('flaky', 'fail: 2, meta: {delay: 150}')), { convergedTimeout: 1 }), []);
    assert.deepEqual([h('flaky').checks, h('flaky').failures], [3, 2]);
    assert.ok(performance.now() - t0 >= 300, 'two waits of 150 ms');
    assert.equal(lines(/retrying in 150 ms/).length, 2);
  });

  it('an explicit retry: 0 keeps its meaning: given up at once, not watched, no retry on events', async () => {
    const r = await startGraph(graphOf(t('once', 'fail: -1, meta: {retry: 0}')), { convergedTimeout: 0 });
    const failed = await r.converged();
    assert.deepEqual(
      failed.map((v) => [v.id, v.failedPermanently]),
      [['test[once]', true]],
    );
    assert.equal(h('once').watching, false, 'no longer watched');
    h('once').event();
    await r.engine.shutdown();
    assert.equal(h('once').checks, 1);
    assert.equal(lines(/giving up on this resource \(its explicit meta retry is used up\).*remove `retry`/).length, 1);
  });

  it('the default policy: 1 s doubling to a cap of 5 min', () => {
    assert.deepEqual(DEFAULT_RETRY, { firstMs: 1000, maxMs: 300_000, eventGapMs: 100 });
    const waits = Array.from({ length: 11 }, (_, i) => duration(Math.min(DEFAULT_RETRY.maxMs, DEFAULT_RETRY.firstMs * 2 ** i)));
    assert.deepEqual(waits, ['1 s', '2 s', '4 s', '8 s', '16 s', '32 s', '1 min 4 s', '2 min 8 s', '4 min 16 s', '5 min', '5 min']);
  });
});

describe('one copy per vertex: a timed-out check/apply is done only once it has returned', () => {
  it('a retry never starts while the timed-out attempt is still finishing', async () => {
    // Each attempt times out after 50 ms and then takes 300 ms to return (a process group ignoring SIGTERM until
    // its SIGKILL); retries come back at once (explicit retry, no delay), the harshest case.
    const r = await startGraph(graphOf(t('slow', 'duration: 30000, lingers: 300, meta: {timeout: 50, retry: 3}')), { convergedTimeout: 0 });
    const failed = await r.converged();
    await r.engine.shutdown();
    assert.deepEqual(
      failed.map((v) => v.id),
      ['test[slow]'],
    );
    assert.equal(h('slow').checks, 4);
    assert.equal(bench.maxRunning, 1, 'never two copies at once');
    assert.deepEqual(bench.journal, ['start slow', 'fail slow', 'start slow', 'fail slow', 'start slow', 'fail slow', 'start slow', 'fail slow']);
    assert.match(failed[0]!.failure?.message ?? '', /^timed out after 50 ms \(metaparam timeout\): test: cancelled$/);
  });
});
