// Issue 11 item 5 (no child of ours outlives us; one copy per exec vertex; SIGTERM exits within 1 s) and item 9's
// exec output bound, as attacks on the real `mgmt` command: a command that traps and ignores SIGTERM and starts a
// child that ignores it too, under a timeout, a converged exit, SIGINT, SIGTERM and a double signal; and a command
// that writes 100 MB.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { allProcs } from '../../src/system/proc/proc-table.js';
import { isRunning } from '../../src/system/proc/launcher.js';
import { mgmt, waitUntil, scratchDirPerTest } from '../harness/cli.js';

let dir = '';
scratchDirPerTest('mgmt-proc-test-', (d) => (dir = d));

const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

/**
 * The attacker's command, for a shell: ignores SIGTERM, starts a child that inherits that, and appends both pids
 * (the first is also its process group) to `pids`. Before that, any process of an earlier copy still running is
 * appended to `overlaps`.
 */
const stubborn = (d: string) =>
  `trap '' TERM; ` +
  `for p in $(cat ${d}/pids 2>/dev/null); do if [ -r /proc/$p/stat ] && ! grep -q ') Z ' /proc/$p/stat; then echo $p >> ${d}/overlaps; fi; done; ` +
  `sleep 60 & echo $$ $! >> ${d}/pids; wait`;

/** The (leader, child) pairs the stubborn command recorded. */
function copies(): [number, number][] {
  if (!existsSync(`${dir}/pids`)) return [];
  return readFileSync(`${dir}/pids`, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ').map(Number) as [number, number]);
}

/** Every process of those groups (or those pids) that is still running (zombies are dead). */
function survivors(): number[] {
  const pairs = copies();
  const groups = new Set(pairs.map(([leader]) => leader));
  const pids = new Set(pairs.flat());
  const out: number[] = [];
  for (const [pid, info] of allProcs()) {
    if (info.state === 'Z' || info.state === 'X') continue;
    if (groups.has(info.pgrp) || pids.has(pid)) out.push(pid);
  }
  return out;
}

const execGraph = (fields: string) => `graph: g\nresources:\n  exec:\n  - {name: stubborn, shell: /bin/sh, ${fields}}\n`;

/** Starts mgmt on the graph and waits until the stubborn command's first copy runs (both pids recorded). */
async function startStubborn(graph: string, args: string[] = []) {
  const c = mgmt(['run', '--yaml', write('g.yaml', graph), '--tmp-prefix', ...args]);
  await waitUntil(() => copies().length >= 1, 10_000, 'the command and its child to start');
  return c;
}

/** Sends `sig` and returns the exit code and how long the exit took (from the signal to the end of mgmt's output). */
async function stopWith(c: ReturnType<typeof mgmt>, ...sigs: NodeJS.Signals[]): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  for (const [i, sig] of sigs.entries()) {
    c.child.kill(sig);
    if (i < sigs.length - 1) await c.waitForLog(new RegExp(`${sig}: stopping`));
  }
  const code = await c.exited;
  return { code, ms: performance.now() - t0 };
}

describe('no child of ours outlives us (a command that ignores SIGTERM and starts a child)', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} during its run: exits within 1 s and no process of its group survives`, async () => {
      const c = await startStubborn(execGraph(`cmd: ${JSON.stringify(stubborn(dir))}`));
      const { code, ms } = await stopWith(c, sig);
      assert.equal(code, 0, c.stderr());
      assert.deepEqual(survivors(), [], 'checked at once: nothing of the group is left when mgmt has exited');
      assert.ok(ms < 1000, `${sig}: exit took ${ms.toFixed(0)} ms`);
      assert.match(c.stderr(), new RegExp(`${sig}: stopped in \\d+ ms`));
      process.stdout.write(`# ${sig} with a stubborn command running: exit in ${ms.toFixed(0)} ms\n`);
    });
  }

  it('a double signal: kills at once, exit 130, no survivor', async () => {
    const c = await startStubborn(execGraph(`cmd: ${JSON.stringify(stubborn(dir))}`));
    const { code, ms } = await stopWith(c, 'SIGINT', 'SIGINT');
    assert.equal(code, 130, c.stderr());
    assert.deepEqual(survivors(), []);
    assert.ok(ms < 1000, `exit took ${ms.toFixed(0)} ms`);
    process.stdout.write(`# double SIGINT: exit in ${ms.toFixed(0)} ms\n`);
  });

  it('a converged exit with a stubborn watch command running: no survivor', async () => {
    const t0 = performance.now();
    const c = mgmt([
      'run',
      '--yaml',
      write('g.yaml', execGraph(`cmd: 'true', watchshell: /bin/sh, watchcmd: ${JSON.stringify(stubborn(dir))}`)),
      '--tmp-prefix',
      '--converged-timeout',
      '1',
    ]);
    const code = await c.exited;
    assert.equal(code, 0, c.stderr());
    assert.equal(copies().length, 1, 'the watch command ran');
    assert.deepEqual(survivors(), []);
    assert.match(c.stderr(), /converged for 1 s; exiting/);
    process.stdout.write(`# converged exit (1 s) with a stubborn watch command: ${(performance.now() - t0).toFixed(0)} ms in all\n`);
  });

  it('timeouts: a timed-out copy is gone before the retry starts (never two at once), and SIGTERM leaves none', async () => {
    // Explicit retries with no delay: each retry starts the moment the previous copy counts as done.
    const c = await startStubborn(execGraph(`cmd: ${JSON.stringify(stubborn(dir))}, meta: {timeout: 200, retry: -1}`));
    await waitUntil(() => copies().length >= 3, 15_000, 'three copies, one after another');
    const { ms } = await stopWith(c, 'SIGTERM');
    assert.equal(
      existsSync(`${dir}/overlaps`),
      false,
      `a copy found an earlier one still running: ${existsSync(`${dir}/overlaps`) ? readFileSync(`${dir}/overlaps`, 'utf8') : ''}`,
    );
    assert.deepEqual(survivors(), []);
    assert.ok(ms < 1000, `exit took ${ms.toFixed(0)} ms`);
    assert.match(c.stderr(), /timed out after 200 ms \(metaparam timeout\)/);
  });
});

describe('exec output is bounded', () => {
  /** Peak resident memory of a process (VmHWM), in MB. */
  const peakMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

  it('100 MB of output, as one line and as 2.4 million lines: memory stays bounded, the log too', async () => {
    const g = write(
      'g.yaml',
      `graph: g
resources:
  exec:
  - {name: one-line, shell: /bin/sh, cmd: "head -c 100000000 /dev/zero | tr '\\\\0' x"}
  - {name: many-lines, shell: /bin/sh, cmd: "yes 0123456789012345678901234567890123456789 | head -c 100000000"}
`,
    );
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    const pid = c.child.pid!;
    await c.waitForLog(/exec\[one-line\]: ran: /, 60_000);
    await c.waitForLog(/exec\[many-lines\]: ran: /, 60_000);
    const peak = peakMb(pid);
    await stopWith(c, 'SIGTERM');
    process.stdout.write(`# 2 x 100 MB of exec output: peak RSS ${peak.toFixed(0)} MB, log ${c.stderr().length} bytes\n`);
    assert.ok(peak < 150, `peak RSS ${peak.toFixed(0)} MB`);
    const log = c.stderr();
    assert.ok(log.length < 64 * 1024, `log of ${log.length} bytes`);
    assert.match(log, /exec\[one-line\]: stdout: x{4096} \[\.\.\. 99995904 more characters\]/);
    assert.match(log, /exec\[many-lines\]: \.\.\. 2438925 more output lines not logged/);
    assert.equal(log.match(/exec\[many-lines\]: stdout: /g)?.length, 100);
    assert.equal(isRunning(pid), false);
  });
});

describe('healing in a long-running mgmt', () => {
  it('a resource failing for a while is retried until it succeeds, then its dependent runs', async () => {
    const g = write(
      'g.yaml',
      `graph: g
resources:
  exec:
  - {name: needs-ready, shell: /bin/sh, cmd: 'test -e ${dir}/ready', creates: ${dir}/ready}
  file:
  - {name: after, path: ${dir}/after, state: exists}
edges:
- {name: e, from: {kind: exec, name: needs-ready}, to: {kind: file, name: after}}
`,
    );
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await c.waitForLog(/exec\[needs-ready\]: error: check\/apply failed \(1st time\): .*retrying in 1 s and at once on a change; 1 dependent waits/);
    assert.equal(existsSync(`${dir}/after`), false, 'the dependent waits');
    // The cause goes away; `creates` is watched, so the change itself brings the retry.
    const t0 = performance.now();
    writeFileSync(`${dir}/ready`, '');
    await c.waitForLog(/exec\[needs-ready\]: recovered/);
    await waitUntil(() => existsSync(`${dir}/after`), 5000, 'the dependent to run');
    const healed = performance.now() - t0;
    const { code } = await stopWith(c, 'SIGTERM');
    assert.equal(code, 0, c.stderr());
    process.stdout.write(`# healed ${healed.toFixed(0)} ms after the cause went away\n`);
  });

  it('SIGTERM while a resource is failing: exit 1, the failure listed with its last error', async () => {
    const g = write('g.yaml', `graph: g\nresources:\n  exec:\n  - {name: bad, cmd: 'false'}\n`);
    const c = mgmt(['run', '--yaml', g, '--tmp-prefix']);
    await c.waitForLog(/exec\[bad\]: error: check\/apply failed \(1st time\)/);
    const { code } = await stopWith(c, 'SIGTERM');
    assert.equal(code, 1);
    assert.match(c.stderr(), /1 resource\(s\) failed: exec\[bad\]\n.*exec\[bad\]: still failing, was being retried; last error: 'false' exited with code 1/);
  });
});
