// Integration tests of the Puppet fallback: the worker client (src/puppet/runtime/worker.ts) and the `puppet` kind
// (src/puppet/fallback-kind.ts), with the REAL Puppet (Debian's, installed by scripts/system-deps.mjs) and our module.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setLogLevel, setLogSink } from '../../src/observe/log.js';
import { puppetKind, withPuppetKind } from '../../src/puppet/fallback-kind.js';
import { coreRegistry } from '../../src/resources/core-registry.js';
import type { Resource } from '../../src/resources/resource.js';
import { isRunning } from '../../src/system/proc/launcher.js';
import { getPuppetWorker, shutdownPuppetWorker, type WorkerReply } from '../../src/puppet/runtime/worker.js';
import { runGraph } from '../harness/engine-run.js';
import { setUpPuppet, until, type PuppetEnv } from '../harness/puppet-env.js';
import { check, recordingContext, startWatch, type RecordingContext } from '../harness/resource-context.js';
import { registry } from '../../src/cli/registry.js';

let env: PuppetEnv;
let root: string;
const made: Resource[] = [];

before(async () => {
  env = await setUpPuppet();
  root = join(env.dir, 'root');
  await mkdir(root, { recursive: true });
});

after(async () => {
  for (const r of made) await r.cleanup?.();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed before assigning it, whatever the type says
  await env?.teardown();
});

interface Spec {
  type: string;
  title: string;
  parameters?: Record<string, unknown>;
  sensitive?: string[];
}

/** A `puppet` resource created through the kind, with a recording context. */
function make(spec: Spec): { r: Resource; ctx: RecordingContext } {
  const ctx = recordingContext(`puppet[${spec.type}[${spec.title}]]`);
  const r = puppetKind.create(`${spec.type}[${spec.title}]`, { parameters: {}, ...spec }, ctx);
  made.push(r);
  return { r, ctx };
}

const infos = (ctx: RecordingContext) => ctx.lines.filter((l) => l.startsWith('info: '));

describe('puppet kind: validation', () => {
  const problems = (p: Record<string, unknown>) => puppetKind.validate?.('x', p) ?? [];

  it('is registered by the Puppet front door (not a core kind), refreshable, without a name parameter', () => {
    assert.equal(registry.get('puppet'), puppetKind);
    assert.equal(coreRegistry.get('puppet'), undefined);
    assert.equal(withPuppetKind(coreRegistry).get('puppet'), puppetKind);
    assert.equal(puppetKind.refreshable, true);
    assert.equal(puppetKind.nameParam, undefined);
  });

  it('requires type and title, an object of parameters, and no relationship metaparams', () => {
    assert.deepEqual(problems({ type: 'Cron', title: 'backup', parameters: { command: '/bin/true' } }), []);
    assert.deepEqual(
      problems({}).map((p) => p.param),
      ['type', 'title'],
    );
    const arr = problems({ type: 'Cron', title: 'b', parameters: ['x'] });
    assert.equal(arr.length, 1);
    assert.match(arr[0]!.message, /must be an object.*an array/);
    const rel = problems({ type: 'File', title: '/x', parameters: { before: 'A[b]', notify: ['B[c]'], mode: '0644', stage: 'x' } });
    assert.equal(rel.length, 1);
    assert.equal(rel[0]!.param, 'parameters');
    assert.match(rel[0]!.message, /before, notify, stage/);
    assert.doesNotMatch(rel[0]!.message, /mode/);
  });
});

describe('puppet kind: driven directly', () => {
  after(async () => {
    for (const r of made.splice(0)) await r.cleanup?.();
    assert.equal(getPuppetWorker().users, 0, 'every resource released the worker');
  });

  it('manages a file: noop check says what would change, apply changes it, then it is in sync (fast)', async () => {
    const path = join(root, 'managed');
    const { r, ctx } = make({ type: 'File', title: path, parameters: { content: 'managed\n', mode: '0640' } });
    const w = await startWatch(r);
    assert.equal(w.events(), 1, 'one event at start');
    await w.stop();

    const t0 = Date.now();
    assert.equal(await check(r, { apply: false }), false);
    console.log(`# first check (includes the worker start): ${Date.now() - t0} ms`);
    assert.equal(existsSync(path), false, 'noop changes nothing');
    assert.ok(infos(ctx).includes('info: would change ensure absent -> file'), ctx.lines.join('\n'));

    assert.equal(await check(r), false, 'changed');
    assert.equal(readFileSync(path, 'utf8'), 'managed\n');
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.ok(
      infos(ctx).some((l) => /^info: changed ensure absent -> file$/.test(l)),
      ctx.lines.join('\n'),
    );

    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = process.hrtime.bigint();
      assert.equal(await check(r), true, 'in sync');
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`# check latency through the worker (file, in sync): median ${times[3]!.toFixed(1)} ms; ${times.map((t) => t.toFixed(1)).join(' ')}`);
    assert.ok(times[3]! < 200, `median check latency ${times[3]} ms`);
  });

  it('applies a notify (never in sync, as in Puppet)', async () => {
    const { r, ctx } = make({ type: 'Notify', title: 'hello', parameters: { message: 'hello from mgmt' } });
    assert.equal(await check(r, { apply: false }), false);
    assert.ok(infos(ctx).includes('info: would change message absent -> "hello from mgmt"'), ctx.lines.join('\n'));
    assert.equal(await check(r), false);
    assert.ok(infos(ctx).includes('info: changed message absent -> "hello from mgmt"'), ctx.lines.join('\n'));
  });

  it('refreshes an exec with refreshonly: nothing to do without a refresh, runs once on a refresh', async () => {
    const marker = join(root, 'refreshed-direct');
    const { r, ctx } = make({
      type: 'Exec',
      title: 'mark-direct',
      parameters: { command: `/bin/sh -c 'echo run >> ${marker}'`, refreshonly: true },
    });
    assert.equal(await check(r), true, 'in sync without a refresh');
    assert.equal(existsSync(marker), false);
    assert.equal(await check(r, { refresh: true, apply: false }), false, 'noop: would refresh');
    assert.ok(infos(ctx).includes('info: would refresh'));
    assert.equal(existsSync(marker), false);
    assert.equal(await check(r, { refresh: true }), false, 'a refresh counts as a change');
    assert.equal(readFileSync(marker, 'utf8'), 'run\n');
    assert.ok(infos(ctx).includes('info: refreshed'));
    // a type without refresh: the refresh is ignored
    const n = make({ type: 'File', title: join(root, 'norefresh'), parameters: { content: 'x' } });
    assert.equal(await check(n.r), false);
    assert.equal(await check(n.r, { refresh: true }), true, 'File has no refresh: in sync stays in sync');
  });

  it("a failing resource fails with Puppet's message", async () => {
    const { r } = make({ type: 'Exec', title: 'broken', parameters: { command: '/nonexistent/mgmt-no-such-command --flag' } });
    await assert.rejects(check(r), (e: Error) => {
      assert.match(e.message, /Puppet could not (check|apply) Exec\[broken\]: .*mgmt-no-such-command/);
      return true;
    });
    const failing = make({ type: 'Exec', title: 'false', parameters: { command: '/bin/false' } });
    await assert.rejects(check(failing.r), /Puppet could not apply Exec\[false\]: .*returned 1 instead of one of \[0\]/);
  });

  it('an invalid parameter or type is an error reply, and the worker keeps serving', async () => {
    const pid = getPuppetWorker().pid;
    const bad = make({ type: 'File', title: join(root, 'bad'), parameters: { nosuchparam: 1 } });
    await assert.rejects(check(bad.r), /Puppet could not check File\[.*bad\]: .*nosuchparam/);
    const unknown = make({ type: 'Nosuchtype', title: 'x' });
    await assert.rejects(check(unknown.r), /Unknown resource type/);
    const ok = make({ type: 'Notify', title: 'still-fine' });
    assert.equal(await check(ok.r), false);
    assert.equal(getPuppetWorker().pid, pid, 'same worker');
  });

  it('never logs the values of sensitive parameters', async () => {
    const secret = 'hunter2-very-secret';
    const path = join(root, 'secret');
    const lines: string[] = [];
    const f = make({ type: 'File', title: path, parameters: { content: `${secret}\n`, mode: '0600' }, sensitive: ['content'] });
    const n = make({ type: 'Notify', title: 'secret-notify', parameters: { message: secret }, sensitive: ['message'] });
    const e = make({
      type: 'Exec',
      title: 'secret-exec',
      parameters: { command: `/bin/sh -c 'echo ${secret}; exit 3'` },
      sensitive: ['command'],
    });
    assert.equal(await check(f.r, { apply: false }), false);
    assert.equal(await check(f.r), false);
    assert.equal(readFileSync(path, 'utf8'), `${secret}\n`);
    assert.equal(await check(f.r), true);
    assert.equal(await check(n.r, { apply: false }), false);
    assert.equal(await check(n.r), false);
    await assert.rejects(check(e.r), (err: Error) => {
      lines.push(err.message);
      return true;
    });
    lines.push(...f.ctx.lines, ...n.ctx.lines, ...e.ctx.lines, ...env.workerLines);
    const leaks = lines.filter((l) => l.includes(secret));
    assert.deepEqual(leaks, []);
    assert.ok(
      f.ctx.lines.some((l) => l === 'info: changed content [redacted]' || l.startsWith('info: changed ensure')),
      f.ctx.lines.join('\n'),
    );
    assert.ok(n.ctx.lines.includes('info: changed message [redacted]'), n.ctx.lines.join('\n'));
  });
});

describe('puppet worker client', () => {
  const worker = () => getPuppetWorker();
  const sleeper = (title: string, seconds: number) => ({
    resource: { type: 'Exec', title, parameters: { command: `/bin/sleep ${seconds}` }, sensitive: [] },
  });

  it('answers many requests in flight, matched by id', async () => {
    const w = worker();
    w.acquire();
    try {
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          w.request('check', { resource: { type: 'Notify', title: `n${i}`, parameters: { message: `m${i}` }, sensitive: [] } }),
        ),
      );
      replies.forEach((r, i) => {
        assert.equal(r.error, null);
        assert.deepEqual(r.changes, [{ property: 'message', previous: 'absent', desired: `m${i}` }]);
      });
      const pong = await w.request('ping');
      assert.equal(pong.pong, true);
    } finally {
      await w.release();
    }
  });

  it('a timeout rejects clearly, kills the worker and what it ran; queued requests go to a new worker', async () => {
    const w = worker();
    w.acquire();
    try {
      await w.request('ping');
      const old = w.pid!;
      const t0 = Date.now();
      const slow = w.request('apply', sleeper('sleep-timeout', 30), { timeoutMs: 1000 });
      const queued = w.request('check', { resource: { type: 'Notify', title: 'after-timeout', parameters: {}, sensitive: [] } });
      await assert.rejects(slow, (e: Error) => {
        assert.equal(e.name, 'TimeoutError');
        assert.match(e.message, /apply Exec\[sleep-timeout\] timed out after 1000 ms; the worker \(pid \d+\) was killed/);
        return true;
      });
      assert.ok(Date.now() - t0 < 5000);
      const reply = await queued;
      assert.equal(reply.error, null);
      assert.notEqual(w.pid, old, 'a new worker serves the queue');
      await until(() => !isRunning(old), 5000, 'old worker gone');
      assert.ok(!sleepRunning('30'), 'the sleep was killed with the worker');
    } finally {
      await w.release();
    }
  });

  it('an abort rejects at once, also while queued (never sent)', async () => {
    const w = worker();
    w.acquire();
    try {
      await w.request('ping');
      const marker = join(root, 'never');
      const ac = new AbortController();
      const slow = w.request('apply', sleeper('sleep-abort', 31), { signal: ac.signal });
      const neverSent = w.request('apply', { resource: { type: 'File', title: marker, parameters: { content: 'x' }, sensitive: [] } }, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 300));
      ac.abort(new Error('test says stop'));
      await assert.rejects(slow, /apply Exec\[sleep-abort\] was cancelled: test says stop/);
      await assert.rejects(neverSent, /was cancelled/);
      assert.equal((await w.request('ping')).pong, true);
      assert.equal(existsSync(marker), false);
      assert.ok(!sleepRunning('31'));
      await assert.rejects(w.request('ping', {}, { signal: AbortSignal.abort() }), /was cancelled/);
    } finally {
      await w.release();
    }
  });

  it('when the worker dies, pending requests reject with its stderr tail, and the next request restarts it', async () => {
    const w = worker();
    w.acquire();
    try {
      await w.request('ping');
      const pid = w.pid!;
      const pending: Promise<WorkerReply>[] = [w.request('apply', sleeper('sleep-killed', 32)), w.request('ping')];
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');
      for (const p of pending) await assert.rejects(p, new RegExp(`Puppet worker \\(pid ${pid}\\) was killed by SIGKILL`));
      const pong = await w.request('ping');
      assert.equal(pong.pong, true);
      assert.notEqual(w.pid, pid);
      // Puppet ran the sleep in a session of its own (setsid): once the worker is gone it cannot be told apart from
      // a daemon the worker started, so it is left alone; the test kills it.
      for (const p of sleepPids('32')) process.kill(p, 'SIGKILL');
    } finally {
      await w.release();
    }
  });

  it('a missing puppet fails every request clearly, without hanging', async () => {
    await shutdownPuppetWorker();
    env.configure({ puppetBin: join(env.dir, 'no-puppet-here') });
    try {
      await assert.rejects(getPuppetWorker().request('ping'), /cannot start: .*no-puppet-here.*not found/);
    } finally {
      env.configure();
    }
  });

  it('stops the worker when the last user releases it', async () => {
    const w = worker();
    w.acquire();
    w.acquire();
    await w.request('ping');
    const pid = w.pid!;
    await w.release();
    assert.ok(isRunning(pid), 'still held');
    await w.release();
    assert.equal(w.pid, undefined);
    assert.ok(!isRunning(pid), 'stopped on the last release');
  });
});

describe('puppet kind: through the engine', () => {
  it('five puppet vertices share one worker, refresh over a notify edge runs the exec once, a bad vertex fails alone, the worker stops at shutdown', async () => {
    const d = join(root, 'engine');
    await mkdir(d, { recursive: true });
    const marker = join(d, 'refreshed');
    const secret = 'engine-secret-s3cr3t';
    const logged: string[] = [];
    setLogSink({ write: (l) => logged.push(l) });
    setLogLevel('debug');
    const w = getPuppetWorker();
    assert.equal(w.users, 0);
    assert.equal(w.pid, undefined, 'no worker before the run');
    const before = w.startedPids.length;
    const workerLinesBefore = env.workerLines.length;
    let failed: string[];
    try {
      failed = await runGraph(`
graph: fallback
resources:
  file:
  - name: ${d}/trigger
    state: exists
    content: "go\\n"
  puppet:
  - name: File[${d}/a]
    type: File
    title: ${d}/a
    parameters: {content: "a\\n", mode: "0640"}
  - name: File[${d}/b]
    type: File
    title: ${d}/b
    parameters: {ensure: directory}
  - name: Notify[engine]
    type: Notify
    title: engine
    parameters: {message: from the engine}
  - name: File[${d}/secret]
    type: File
    title: ${d}/secret
    parameters: {content: "${secret}\\n"}
    sensitive: [content]
  - name: Exec[refresh-me]
    type: Exec
    title: refresh-me
    parameters:
      command: /bin/sh -c 'echo ran >> ${marker}'
      refreshonly: true
  - name: File[${d}/invalid]
    type: File
    title: ${d}/invalid
    parameters: {content: x, nosuchparam: 1}
edges:
- {name: e1, from: {kind: file, name: ${d}/trigger}, to: {kind: puppet, name: "Exec[refresh-me]"}, notify: true}
- {name: e2, from: {kind: puppet, name: "File[${d}/a]"}, to: {kind: puppet, name: "Notify[engine]"}}
`);
    } finally {
      setLogLevel('info');
      setLogSink({ write: (l) => process.stderr.write(l) });
    }
    const pids = w.startedPids.slice(before);
    assert.equal(pids.length, 1, `one worker for every puppet vertex, got ${pids.join(', ')}`);
    assert.deepEqual(failed, [`puppet[File[${d}/invalid]]`], logged.join(''));
    assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'a\n');
    assert.ok(statSync(join(d, 'b')).isDirectory());
    assert.equal(readFileSync(join(d, 'secret'), 'utf8'), `${secret}\n`);
    assert.equal(readFileSync(marker, 'utf8'), 'ran\n', 'the exec ran once, on the refresh');
    const all = logged.join('');
    assert.match(all, /puppet\[File\[.*\/invalid\]\]: .*nosuchparam/);
    assert.match(all, new RegExp(`puppet\\[File\\[${d}/a\\]\\]: changed ensure absent -> file`));
    assert.match(all, /puppet\[Exec\[refresh-me\]\]: refreshed/);
    assert.ok(!all.includes(secret) && !env.workerLines.slice(workerLinesBefore).some((l) => l.includes(secret)), 'secret leaked');
    // the last vertex's cleanup stops the worker: the engine's shutdown may return before it is gone
    await until(() => !isRunning(pids[0]!), 5000, 'worker stopped after shutdown');
    assert.equal(w.pid, undefined);
  });
});

/** Running `/bin/sleep <seconds>` processes (the tests' slow Puppet execs). */
function sleepPids(seconds: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (cmd[0] === '/bin/sleep' && cmd[1] === seconds && isRunning(Number(e))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

const sleepRunning = (seconds: string) => sleepPids(seconds).length > 0;
