import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execKind, type ExecParams } from '../../src/resources/exec.js';
import type { Resource, ResourceContext } from '../../src/resources/resource.js';
import { check, recordingContext, startWatch, type RecordingContext } from '../harness/resource-context.js';

type Params = ExecParams;

/** The registry's kinds take loosely typed parameters, as the engine passes them from a graph spec. */
const loose = (p: Params): Readonly<Record<string, unknown>> => p;

function make(params: Params, name = 'test', ctx: ResourceContext = recordingContext(`exec[${name}]`)): Resource {
  return execKind.create(name, loose(params), ctx);
}

/** A resource plus the log lines it wrote. */
function made(params: Params, name = 'test'): { r: Resource; ctx: RecordingContext } {
  const ctx = recordingContext(`exec[${name}]`);
  return { r: make(params, name, ctx), ctx };
}

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-exec-'));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Non-zombie members of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const stdout = (ctx: RecordingContext) => ctx.lines.filter((l) => l.startsWith('info: stdout: ')).map((l) => l.slice('info: stdout: '.length));

test('cmd is split on whitespace with no quote handling, and args are appended', async () => {
  const a = made({ cmd: "echo  'a   b'" });
  assert.equal(await check(a.r), false);
  assert.deepEqual(stdout(a.ctx), ["'a b'"]);
  assert.ok(a.ctx.lines.includes("info: ran: echo  'a   b'"));

  const b = made({ cmd: 'echo x', args: ['y  z'] });
  assert.equal(await check(b.r), false);
  assert.deepEqual(stdout(b.ctx), ['x y  z']);

  const byName = made({}, 'echo from the name');
  assert.equal(await check(byName.r), false);
  assert.deepEqual(stdout(byName.ctx), ['from the name']);
});

test('shell: runs <shell> -c <cmd>', async () => {
  const { r, ctx } = made({ shell: '/bin/sh', cmd: "echo 'a  b' | tr a A" });
  assert.equal(await check(r), false);
  assert.deepEqual(stdout(ctx), ['A  b']);
});

test('env: empty unless given, and then exactly the map', async () => {
  const bare = made({ shell: 'sh', cmd: 'echo "[$HOME][$FOO]"' });
  await check(bare.r);
  assert.deepEqual(stdout(bare.ctx), ['[][]']);
  const given = made({ shell: 'sh', cmd: 'echo "[$HOME][$FOO]"', env: { FOO: 'bar' } });
  await check(given.r);
  assert.deepEqual(stdout(given.ctx), ['[][bar]']);
});

test('cwd: the command runs there', async () => {
  await withDir(async (dir) => {
    const { r, ctx } = made({ cmd: 'pwd', cwd: dir });
    await check(r);
    assert.deepEqual(stdout(ctx), [await realpath(dir)]);
  });
});

test('ifcmd: a non-zero exit skips (state OK), exit 0 runs', async () => {
  await withDir(async (dir) => {
    const marker = join(dir, 'ran');
    assert.equal(await check(make({ cmd: `touch ${marker}`, ifcmd: 'false' })), true);
    assert.equal(existsSync(marker), false);
    assert.equal(await check(make({ cmd: `touch ${marker}`, ifshell: 'sh', ifcmd: `test ! -e ${marker}` })), false);
    assert.equal(existsSync(marker), true);
    // The same guard now says the state is right.
    assert.equal(await check(make({ cmd: `rm ${marker}`, ifshell: 'sh', ifcmd: `test ! -e ${marker}` })), true);
    assert.equal(existsSync(marker), true);
  });
});

test('ifcwd: the guard runs in its own directory', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'flag'), '');
    assert.equal(await check(make({ cmd: 'true', ifcmd: 'test -e flag', ifcwd: dir })), false);
    assert.equal(await check(make({ cmd: 'true', ifcmd: 'test -e flag', ifcwd: '/' })), true);
  });
});

test('nifcmd: exit 0 skips, a non-zero exit runs', async () => {
  await withDir(async (dir) => {
    const marker = join(dir, 'ran');
    assert.equal(await check(make({ cmd: `touch ${marker}`, nifcmd: 'true' })), true);
    assert.equal(existsSync(marker), false);
    assert.equal(await check(make({ cmd: `touch ${marker}`, nifcmd: 'false' })), false);
    assert.equal(existsSync(marker), true);
  });
});

test('creates: runs while the path is missing, skips once it exists', async () => {
  await withDir(async (dir) => {
    const target = join(dir, 'made');
    const r = make({ cmd: `touch ${target}`, creates: target });
    assert.equal(await check(r), false);
    assert.equal(existsSync(target), true);
    assert.equal(await check(r), true);
  });
});

test('refreshonly: nothing without a refresh; runs on refresh; guards still apply on refresh', async () => {
  await withDir(async (dir) => {
    const marker = join(dir, 'ran');
    const r = make({ cmd: `touch ${marker}`, refreshonly: true });
    assert.equal(await check(r), true);
    assert.equal(existsSync(marker), false);
    assert.equal(await check(r, { refresh: true }), false);
    assert.equal(existsSync(marker), true);

    const guarded = make({ cmd: `rm ${marker}`, refreshonly: true, creates: marker });
    assert.equal(await check(guarded, { refresh: true }), true);
    const ifGuarded = make({ cmd: `rm ${marker}`, refreshonly: true, ifcmd: 'false' });
    assert.equal(await check(ifGuarded, { refresh: true }), true);
    assert.equal(existsSync(marker), true);
  });
});

test('refresh without refreshonly: runs (guards apply)', async () => {
  assert.equal(await check(make({ cmd: 'true' }), { refresh: true }), false);
  assert.equal(await check(make({ cmd: 'true', nifcmd: 'true' }), { refresh: true }), true);
});

test('noop (apply=false): runs nothing, says what it would run, returns false', async () => {
  await withDir(async (dir) => {
    const marker = join(dir, 'ran');
    const { r, ctx } = made({ cmd: `touch ${marker}` });
    assert.equal(await check(r, { apply: false }), false);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(ctx.lines, [`info: would run: touch ${marker}`]);
    // Guards still decide under noop.
    assert.equal(await check(make({ cmd: `touch ${marker}`, ifcmd: 'false' }), { apply: false }), true);
  });
});

test('a non-zero exit is an error naming the code and the last output lines', async () => {
  const { r, ctx } = made({ shell: 'sh', cmd: 'echo progress; echo oops >&2; exit 3' });
  await assert.rejects(check(r), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /exited with code 3/);
    assert.match(e.message, /stderr: oops/);
    return true;
  });
  assert.ok(ctx.lines.includes('info: stdout: progress'));
  assert.ok(ctx.lines.includes('info: stderr: oops'));
  await assert.rejects(check(make({ shell: 'sh', cmd: 'echo only-stdout; exit 1' })), /exited with code 1; stdout: only-stdout/);
});

test('command not found: a clear error', async () => {
  await assert.rejects(check(make({ cmd: 'no-such-cmd-xyz --flag' })), {
    message: "cmd: command not found: 'no-such-cmd-xyz' (searched PATH=/usr/bin:/bin, the default: the command's env has no PATH)",
  });
  await assert.rejects(check(make({ cmd: 'true', ifcmd: 'no-such-guard-xyz' })), /^Error: ifcmd: command not found: 'no-such-guard-xyz'/);
});

test('timeout through the signal kills the whole process group', async () => {
  const base = recordingContext('exec[t]');
  let pgid = 0;
  const ctx: ResourceContext = {
    ...base,
    log: {
      ...base.log,
      info: (m) => {
        base.log.info(m);
        if (m.startsWith('stdout: ')) pgid = Number(m.slice('stdout: '.length));
      },
    },
  };
  const r = make({ shell: 'sh', cmd: 'echo $$; sleep 100 & sleep 100' }, 't', ctx);
  const ac = new AbortController();
  const done = check(r, { signal: ac.signal });
  let members: number[] = [];
  await until(() => {
    members = pgid ? groupMembers(pgid) : [];
    return members.length >= 2 && members.every((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep' || p === pgid);
  });
  const sleeps = members.filter((p) => p !== pgid);
  assert.ok(sleeps.length >= 1);
  ac.abort(new DOMException('meta.timeout reached', 'TimeoutError'));
  await assert.rejects(done, /timed out; its process group was killed/);
  assert.deepEqual(groupMembers(pgid), [], 'no process of the group may still run');
  assert.throws(() => process.kill(pgid, 0));

  // A cancellation that is not a timeout says so.
  const ac2 = new AbortController();
  ac2.abort();
  await assert.rejects(check(make({ cmd: 'sleep 100' }), { signal: ac2.signal }), /was cancelled/);
});

test('watch: one event when ready; each watchcmd output line is an event; stop ends it', async () => {
  const w = await startWatch(make({ cmd: 'true', watchshell: 'sh', watchcmd: 'echo one; echo two >&2; exec sleep 100' }));
  await until(() => w.events() >= 3);
  await w.stop();
  assert.equal(w.events(), 3);
});

test('watch: the watch command exiting rejects the watch with its code and stderr', async () => {
  const r = make({ cmd: 'true', watchshell: 'sh', watchcmd: 'echo line; echo broken >&2; exit 4' });
  const ac = new AbortController();
  let events = 0;
  await assert.rejects(
    r.watch({ signal: ac.signal, event: () => events++ }),
    /watchcmd 'echo line; echo broken >&2; exit 4' exited with code 4; stderr: broken/,
  );
  assert.ok(events >= 1);
  // EOF with exit 0 is an error too.
  await assert.rejects(make({ cmd: 'true', watchcmd: 'true' }).watch({ signal: ac.signal, event: () => undefined }), /exited with code 0/);
  // And a watch command that cannot start.
  await assert.rejects(
    make({ cmd: 'true', watchcmd: 'no-such-watch-xyz' }).watch({ signal: ac.signal, event: () => undefined }),
    /watchcmd: command not found/,
  );
});

test('watch: creates is watched', async () => {
  await withDir(async (dir) => {
    const target = join(dir, 'made');
    const w = await startWatch(make({ cmd: `touch ${target}`, creates: target }));
    await until(() => w.events() >= 1);
    const next = w.next();
    await writeFile(target, '');
    await next;
    await w.stop();
  });
});

test('watch without watchcmd or creates: one event, then waits for the abort', async () => {
  const w = await startWatch(make({ cmd: 'true' }));
  await until(() => w.events() === 1);
  await w.stop();
  assert.equal(w.events(), 1);
});

test('validate: paths, command, args with shell, env names', () => {
  const v = (p: Params, name = 'n') => (execKind.validate?.(name, loose(p)) ?? []).map((x) => `${x.param ?? ''}: ${x.message}`);
  assert.deepEqual(v({ cmd: 'true', cwd: '/tmp', creates: '/tmp/x', env: { A: 'b' }, refreshonly: true, watchcmd: 'x' }), []);
  assert.deepEqual(v({ cmd: '  ' }), ['cmd: exec needs a command: `cmd` (or else the name) is empty']);
  assert.deepEqual(v({}, ''), ['cmd: exec needs a command: `cmd` (or else the name) is empty']);
  assert.deepEqual(v({ cmd: 'x', shell: 'sh', args: ['a'] }), ['args: `args` cannot be used with `shell`: put the arguments in `cmd`']);
  assert.deepEqual(v({ cmd: 'x', cwd: 'rel', ifcwd: 'a/b', nifcwd: '.', watchcwd: 'w', creates: 'c' }), [
    "cwd: `cwd` must be an absolute path, got 'rel'",
    "ifcwd: `ifcwd` must be an absolute path, got 'a/b'",
    "nifcwd: `nifcwd` must be an absolute path, got '.'",
    "watchcwd: `watchcwd` must be an absolute path, got 'w'",
    "creates: `creates` must be an absolute path, got 'c'",
  ]);
  assert.deepEqual(v({ cmd: 'x', env: { 'A=B': '1', '': '2' } }), [
    "env: invalid environment variable name 'A=B'",
    "env: invalid environment variable name ''",
  ]);
  // Empty strings of emptyIsUnset parameters mean unset (old mgmt examples spell them that way).
  assert.deepEqual(v({ cmd: 'x', shell: '', cwd: '', ifcmd: '', watchcmd: '', args: ['a'] }), []);
  if (process.getuid?.() === 0) assert.deepEqual(v({ cmd: 'x', user: 'nobody' }), []);
});

test('autoEdges: after the directory that is the cwd', () => {
  assert.deepEqual(execKind.autoEdges?.('n', loose({ cmd: 'x', cwd: '/srv/app' })), { afterPath: ['/srv/app/'] });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- optional in the kind's type; TypeScript narrows it after the first call
  assert.deepEqual(execKind.autoEdges?.('n', loose({ cmd: 'x', cwd: '/srv//app/' })), { afterPath: ['/srv/app/'] });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- optional in the kind's type; TypeScript narrows it after the first call
  assert.deepEqual(execKind.autoEdges?.('n', loose({ cmd: 'x' })), {});
});

test('the kind: refreshable, named by cmd, legacy parameters map into metaparams', () => {
  assert.equal(execKind.kind, 'exec');
  assert.equal(execKind.refreshable, true);
  assert.equal(execKind.nameParam, 'cmd');
  const { timeout, pollint, state } = execKind.params;
  assert.ok(timeout?.deprecated && pollint?.deprecated && state?.deprecated);
  assert.deepEqual(timeout.toMeta?.(5), { timeout: 5000 });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- optional in the kind's type; TypeScript narrows it after the first call
  assert.equal(timeout.toMeta?.(0), undefined);
  assert.deepEqual(pollint.toMeta?.(30), { poll: 30 });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- optional in the kind's type; TypeScript narrows it after the first call
  assert.equal(pollint.toMeta?.(0), undefined);
  assert.equal(state.toMeta?.('present'), undefined);
  for (const [name, def] of Object.entries(execKind.params)) assert.ok(def.doc.length > 10, `${name} has no doc`);
});

test('output is logged bounded: the first 100 lines, each cut at 4096 characters, then how many more there were', async () => {
  const { r, ctx } = made({ shell: 'sh', cmd: "head -c 1000000 /dev/zero | tr '\\0' x; echo; seq 1 10000; exit 3" });
  await assert.rejects(check(r), /exited with code 3; stdout: 9996 \| 9997 \| 9998 \| 9999 \| 10000$/);
  const out = stdout(ctx);
  assert.equal(out.length, 100);
  assert.equal(out[0], `${'x'.repeat(4096)} [... 995904 more characters]`);
  assert.equal(out[99], '99');
  assert.deepEqual(
    ctx.lines.filter((l) => l.includes('more output lines')),
    ['info: ... 9901 more output lines not logged (the last lines of each stream are in its messages)'],
  );
  assert.ok(ctx.lines.join('\n').length < 100 * 4200, 'the log is bounded');
});
