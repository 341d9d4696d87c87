import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describeOutcome, isRunning, outputTail, run, SpawnError, startLines, type OutputStream, type ProcessResult } from '../../src/system/proc/launcher.js';

type Line = [OutputStream, string];

function collect(): { lines: Line[]; onLine: (s: OutputStream, l: string) => void } {
  const lines: Line[] = [];
  return { lines, onLine: (s, l) => lines.push([s, l]) };
}

/** Pids of the processes in a process group that are not zombies (from /proc). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
  }
  return out;
}

/** Polls until `cond` holds (a few ms at a time); fails after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

test('argv: runs the program with its arguments and streams stdout lines', async () => {
  const c = collect();
  const r = await run({ command: { argv: ['echo', 'a  b', 'c'] } }, c.onLine);
  assert.equal(r.code, 0);
  assert.equal(r.signal, null);
  assert.equal(r.aborted, false);
  assert.deepEqual(c.lines, [['stdout', 'a  b c']]);
  assert.deepEqual(r.stdoutTail, ['a  b c']);
  assert.equal(isRunning(r.pid), false);
});

test('shell: runs [shell, -c, cmd], stdout and stderr separately, final line without newline', async () => {
  const c = collect();
  const r = await run({ command: { shell: 'sh', cmd: "echo one | tr o O; printf 'two\\nthree'; printf err >&2" } }, c.onLine);
  assert.equal(r.code, 0);
  assert.deepEqual(
    c.lines.filter(([s]) => s === 'stdout').map(([, l]) => l),
    ['One', 'two', 'three'],
  );
  assert.deepEqual(r.stderrTail, ['err']);
});

test('captureStdout: stdout whole and byte for byte (a lone \\r, no final newline), not split into lines', async () => {
  const c = collect();
  const r = await run({ command: { shell: 'sh', cmd: "printf 'a\\rb\\r\\n\\nc'; printf err >&2" }, captureStdout: true }, c.onLine);
  assert.equal(r.code, 0);
  assert.deepEqual(r.stdout, Buffer.from('a\rb\r\n\nc'));
  assert.deepEqual(r.stdoutTail, []);
  assert.deepEqual(c.lines, [['stderr', 'err']]);
  const plain = await run({ command: { argv: ['echo', 'x'] } });
  assert.equal(plain.stdout, undefined);
});

test('captureStderr: stderr whole and byte for byte, not split into lines', async () => {
  const c = collect();
  const r = await run({ command: { shell: 'sh', cmd: "printf 'a\\rb\\n\\nc' >&2; echo out" }, captureStderr: true }, c.onLine);
  assert.equal(r.code, 0);
  assert.deepEqual(r.stderr, Buffer.from('a\rb\n\nc'));
  assert.deepEqual(r.stderrTail, []);
  assert.deepEqual(c.lines, [['stdout', 'out']]);
});

test('env: empty by default (programs still found on /usr/bin:/bin), or exactly the given map', async () => {
  const empty = collect();
  await run({ command: { shell: 'sh', cmd: 'echo "[$HOME][$USER][$FOO]"; env | wc -l' } }, empty.onLine);
  // Only what sh itself sets (PWD) can appear; nothing is inherited from us.
  assert.equal(empty.lines[0]?.[1], '[][][]');
  assert.ok(Number(empty.lines[1]?.[1]) <= 2, `environment not empty: ${empty.lines[1]?.[1]} variables`);

  const given = collect();
  await run({ command: { shell: 'sh', cmd: 'echo "[$HOME][$FOO]"' }, env: { FOO: 'bar baz' } }, given.onLine);
  assert.deepEqual(given.lines, [['stdout', '[][bar baz]']]);

  const plain = await run({ command: { argv: ['sleep', '0'] } });
  assert.equal(plain.code, 0);
});

test('cwd: the command runs in the given directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-proc-'));
  try {
    const c = collect();
    await run({ command: { argv: ['pwd'] }, cwd: dir }, c.onLine);
    assert.deepEqual(c.lines, [['stdout', await realpath(dir)]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('non-zero exit: code, tails and their descriptions; the tail keeps the last 20 lines', async () => {
  const r = await run({ command: { shell: 'sh', cmd: 'for i in $(seq 1 30); do echo out$i; done; echo bad >&2; echo worse >&2; exit 3' } });
  assert.equal(r.code, 3);
  assert.equal(r.stdoutTail.length, 20);
  assert.equal(r.stdoutTail[0], 'out11');
  assert.equal(describeOutcome(r), 'exited with code 3');
  assert.equal(outputTail(r), 'stderr: bad | worse');
  const quiet: ProcessResult = { ...r, stderrTail: [] };
  assert.equal(outputTail(quiet, 2), 'stdout: out29 | out30');
});

test('command not found: a clear error naming the PATH searched', async () => {
  await assert.rejects(run({ command: { argv: ['no-such-command-xyz'] } }), (e: unknown) => {
    assert.ok(e instanceof SpawnError);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.message, "command not found: 'no-such-command-xyz' (searched PATH=/usr/bin:/bin, the default: the command's env has no PATH)");
    return true;
  });
  await assert.rejects(run({ command: { argv: ['no-such-command-xyz'] }, env: { PATH: '/nope' } }), {
    message: "command not found: 'no-such-command-xyz' (searched PATH=/nope)",
  });
  await assert.rejects(run({ command: { shell: '/no/such/shell', cmd: 'true' } }), { message: "command not found: '/no/such/shell' (no such file)" });
  await assert.rejects(run({ command: { argv: ['true'] }, cwd: '/no/such/dir' }), { message: "working directory not found: '/no/such/dir'" });
  await assert.rejects(run({ command: { argv: [] } }), { message: 'empty command' });
});

test('abort kills the whole process group, background children included', async () => {
  const ac = new AbortController();
  let pgid = 0;
  let members: number[] = [];
  const t0 = Date.now();
  const done = run({ command: { shell: 'sh', cmd: 'echo $$; sleep 100 & sleep 100' }, signal: ac.signal }, (_s, l) => {
    pgid = Number(l);
  });
  await until(() => {
    members = pgid ? groupMembers(pgid) : [];
    return members.filter((p) => comm(p) === 'sleep').length === 2;
  });
  ac.abort(new DOMException('deadline', 'TimeoutError'));
  const r = await done;
  assert.equal(r.pid, pgid);
  assert.equal(r.aborted, true);
  assert.equal(r.timedOut, true);
  assert.equal(describeOutcome(r), 'timed out');
  assert.ok(Date.now() - t0 < 1500, 'took the SIGKILL path: SIGTERM should have been enough');
  // The leader is reaped by us; the sleeps were orphaned to pid 1, which reaps them later: they may linger as
  // zombies (kill(pid, 0) still succeeds on a zombie), but none may still run.
  assert.throws(() => process.kill(pgid, 0));
  for (const pid of members) assert.equal(isRunning(pid), false, `pid ${pid} (${comm(pid)}) still running`);
  assert.deepEqual(groupMembers(pgid), []);
});

test('abort escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
  const ac = new AbortController();
  let ready = false;
  const t0 = Date.now();
  const done = run({ command: { shell: 'sh', cmd: "trap '' TERM; sleep 100 & echo ready; wait" }, signal: ac.signal, killGraceMs: 100 }, () => (ready = true));
  await until(() => ready);
  ac.abort();
  const r = await done;
  assert.equal(r.aborted, true);
  assert.equal(r.timedOut, false);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(describeOutcome(r), 'was cancelled');
  assert.ok(Date.now() - t0 < 1500);
  assert.deepEqual(groupMembers(r.pid), []);
});

test('an already aborted signal: the process is killed at once', async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await run({ command: { argv: ['sleep', '100'] }, signal: ac.signal });
  assert.equal(r.aborted, true);
  assert.equal(isRunning(r.pid), false);
});

test('what the command leaves running in its group is killed when it exits', async () => {
  const c = collect();
  const t0 = Date.now();
  const r = await run({ command: { shell: 'sh', cmd: 'sleep 100 & echo $!' } }, c.onLine);
  assert.equal(r.code, 0);
  assert.equal(r.aborted, false);
  assert.ok(Date.now() - t0 < 1500);
  const bg = Number(c.lines[0]?.[1]);
  assert.ok(bg > 0);
  assert.equal(isRunning(bg), false);
  assert.deepEqual(groupMembers(r.pid), []);
});

test('startLines: lines arrive while it runs; stop() kills the group and reports aborted', async () => {
  const c = collect();
  let exit: ProcessResult | undefined;
  const p = await startLines({ command: { shell: 'sh', cmd: 'echo a; echo b >&2; sleep 100 & sleep 100' } }, c.onLine, (r) => (exit = r));
  assert.ok(isRunning(p.pid));
  await until(() => c.lines.length === 2 && groupMembers(p.pid).filter((x) => comm(x) === 'sleep').length === 2);
  const members = groupMembers(p.pid);
  assert.deepEqual(c.lines.slice().sort(), [
    ['stderr', 'b'],
    ['stdout', 'a'],
  ]);
  const r = await p.stop();
  assert.equal(r.aborted, true);
  await new Promise((res) => setImmediate(res));
  assert.equal(exit, r);
  for (const pid of members) assert.equal(isRunning(pid), false);
  assert.throws(() => process.kill(p.pid, 0));
  assert.equal(await p.stop(), r, 'stop() is idempotent');
});

test('startLines: the process exiting by itself calls onExit with its code', async () => {
  const exited = new Promise<ProcessResult>((resolve) => {
    void startLines({ command: { shell: 'sh', cmd: 'echo x >&2; exit 4' } }, () => undefined, resolve);
  });
  const r = await exited;
  assert.equal(r.code, 4);
  assert.equal(r.aborted, false);
  assert.deepEqual(r.stderrTail, ['x']);
});

test('startLines: a command that cannot start rejects', async () => {
  await assert.rejects(
    startLines(
      { command: { argv: ['no-such-watch-xyz'] } },
      () => undefined,
      () => undefined,
    ),
    /command not found: 'no-such-watch-xyz'/,
  );
});

test('isRunning: true for a live process, false for one that is gone', async () => {
  assert.equal(isRunning(process.pid), true);
  const r = await run({ command: { argv: ['true'] } });
  assert.equal(isRunning(r.pid), false);
});

test('startLines with stdin: a long-lived process answers line by line, and exits when its input closes', async () => {
  const c = collect();
  let exit: ProcessResult | undefined;
  const p = await startLines({ command: { argv: ['cat'] }, stdin: 'pipe' }, c.onLine, (r) => (exit = r));
  assert.ok(p.stdin);
  p.stdin.write('{"id":1}\n');
  await until(() => c.lines.length === 1);
  p.stdin.write('{"id":2}\n');
  await until(() => c.lines.length === 2);
  assert.deepEqual(c.lines, [
    ['stdout', '{"id":1}'],
    ['stdout', '{"id":2}'],
  ]);
  p.stdin.end();
  const r = await p.exited;
  assert.equal(r.code, 0);
  assert.equal(r.aborted, false);
  assert.equal(exit, r);
  const plain = await startLines(
    { command: { argv: ['true'] } },
    () => undefined,
    () => undefined,
  );
  assert.equal(plain.stdin, undefined);
  await plain.exited;
});

test('startLines: signal() reaches the whole group without waiting, and nothing once it is gone', async () => {
  const p = await startLines(
    { command: { shell: 'sh', cmd: 'sleep 30 & sleep 30; wait' } },
    () => undefined,
    () => undefined,
  );
  await until(() => groupMembers(p.pid).length === 3);
  p.signal('SIGTERM');
  const r = await p.exited;
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(r.aborted, false);
  assert.deepEqual(groupMembers(p.pid), []);
  p.signal('SIGTERM'); // gone: a no-op
});

test('lines end at \\n, \\r\\n and a lone \\r, also when \\r and \\n arrive in different reads', async () => {
  const c = collect();
  await run({ command: { shell: 'sh', cmd: "printf 'a\\r'; sleep 0.1; printf '\\nb\\r\\n\\nc\\rd'" } }, c.onLine);
  assert.deepEqual(
    c.lines.map(([, l]) => l),
    ['a', 'b', '', 'c', 'd'],
  );
});

test('lineMax: a 1 MB line without a newline is cut, the rest counted and never held; the next line is whole', async () => {
  const c = collect();
  const r = await run({ command: { shell: 'sh', cmd: "head -c 1000000 /dev/zero | tr '\\0' x; echo; echo short" }, lineMax: 1000 }, c.onLine);
  assert.deepEqual(
    c.lines.map(([, l]) => l),
    [`${'x'.repeat(1000)} [... 999000 more characters]`, 'short'],
  );
  assert.equal(r.stdoutTail.length, 2);
  assert.ok((r.stdoutTail[0]?.length ?? 0) <= 2003, 'the tail keeps a bounded line');
});

/** Runs a module script in a child Node process with the launcher's URL bound to `L`; resolves with its stdout. */
function nodeScript(body: string): Promise<{ code: number | null; out: string }> {
  const url = new URL('../../src/system/proc/launcher.js', import.meta.url).href;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const L = await import(${JSON.stringify(url)});\n${body}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** A command that ignores SIGTERM and starts a child that ignores it too, printing `<leader> <child>` once both run. */
const STUBBORN = "trap '' TERM; sleep 60 & echo $$ $!; wait";

test('no child outlives us: process.exit kills every group we started, even one that ignores SIGTERM', async () => {
  const { code, out } = await nodeScript(`
await L.startLines({ command: { shell: 'sh', cmd: ${JSON.stringify(STUBBORN)} } }, (_s, line) => {
  process.stdout.write(line + '\\n');
  process.exit(0);
}, () => {});
`);
  assert.equal(code, 0);
  const [leader, child] = out.trim().split(' ').map(Number);
  assert.ok(leader && child, out);
  // SIGKILL was sent before our process exited; a loaded machine may take a moment to schedule the deaths
  await until(() => groupMembers(leader).length === 0).catch(() =>
    assert.deepEqual(groupMembers(leader), [], 'no member of the group runs once our process has exited'),
  );
  assert.equal(isRunning(child), false);
});

test('stopAllGroups: SIGTERM, then SIGKILL after the grace, waits until every group is gone, and refuses new commands', async () => {
  const { code, out } = await nodeScript(`
const pids = [];
for (let i = 0; i < 3; i++) {
  await new Promise((ready) => L.startLines({ command: { shell: 'sh', cmd: ${JSON.stringify(STUBBORN)} } }, (_s, line) => { pids.push(line); ready(); }, () => {}));
}
const t0 = performance.now();
await L.stopAllGroups(300);
const ms = Math.round(performance.now() - t0);
const refused = await L.run({ command: { argv: ['true'] } }).then(() => 'ran', (e) => e.code);
process.stdout.write(JSON.stringify({ pids, ms, live: L.liveGroupCount(), refused }) + '\\n');
// Exit without the exit hook's help: the groups must already be gone.
process.removeAllListeners('exit');
process.exit(0);
`);
  assert.equal(code, 0);
  const r = JSON.parse(out) as { pids: string[]; ms: number; live: number; refused: string };
  assert.equal(r.pids.length, 3);
  assert.ok(r.ms >= 300 && r.ms < 1000, `stopped in ${r.ms} ms`);
  assert.equal(r.live, 0);
  assert.equal(r.refused, 'ESHUTDOWN');
  for (const pair of r.pids) {
    const [leader, child] = pair.split(' ').map(Number);
    assert.deepEqual(groupMembers(leader!), []);
    assert.equal(isRunning(child!), false);
  }
});
