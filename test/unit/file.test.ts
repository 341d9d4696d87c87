import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileKind } from '../../src/resources/file/kind.js';
import { SYNC_MAX_BYTES } from '../../src/system/fs/sync-slices.js';
import { atomicWrite, atomicWriteSync } from '../../src/system/fs/atomic-write.js';
import { watchPath, watcherStats } from '../../src/system/fs/path-watcher.js';
import { check, startWatch, validResource } from '../harness/resource-context.js';

type Params = Record<string, string | boolean | string[]>;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const make = (params: Params, name = String(params.path ?? 'unnamed')) => validResource(fileKind, name, params);

function problems(params: Params, name = '/x'): { param?: string; message: string; severity?: 'warning' }[] {
  return fileKind.validate?.(name, params) ?? [];
}

const modeOf = (p: string) => lstatSync(p).mode & 0o7777;

test('state exists with content and mode creates the file; the next check is OK', async () => {
  const f = join(dir, 'motd');
  const { r, ctx } = make({ path: f, state: 'exists', content: 'hello\n', mode: '0600' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(f, 'utf8'), 'hello\n');
  assert.equal(modeOf(f), 0o600);
  assert.ok(
    ctx.lines.some((l) => l.startsWith('info: created')),
    ctx.lines.join('\n'),
  );
  assert.equal(await check(r), true);
  assert.deepEqual(readdirSync(dir), ['motd'], 'no temp file is left behind');
});

test('new files default to 0644, new directories to 0755, whatever the umask', async () => {
  const old = process.umask(0o077);
  try {
    const f = join(dir, 'f');
    const d = join(dir, 'd');
    assert.equal(await check(make({ path: f, state: 'exists', content: '' }).r), false);
    assert.equal(await check(make({ path: `${d}/`, state: 'exists' }).r), false);
    assert.equal(modeOf(f), 0o644);
    assert.equal(modeOf(d), 0o755);
    assert.ok(lstatSync(d).isDirectory());
  } finally {
    process.umask(old);
  }
});

test('state absent removes a file, and a symlink without touching its target', async () => {
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  const { r, ctx } = make({ path: f, state: 'absent' });
  assert.equal(await check(r), false);
  assert.equal(existsSync(f), false);
  assert.ok(ctx.lines.some((l) => l.startsWith('info: removed')));
  assert.equal(await check(r), true);

  const target = join(dir, 'target');
  const link = join(dir, 'link');
  writeFileSync(target, 'keep me');
  symlinkSync(target, link);
  assert.equal(await check(make({ path: link, state: 'absent' }).r), false);
  assert.equal(existsSync(link), false);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
});

test('state absent on a directory needs recurse or force', async () => {
  const d = join(dir, 'd');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'sub', 'f'), 'x');
  await assert.rejects(check(make({ path: `${d}/`, state: 'absent' }).r), /is a directory; set recurse: true \(or force: true\)/);
  assert.equal(existsSync(d), true);
  assert.equal(await check(make({ path: `${d}/`, state: 'absent', recurse: true }).r), false);
  assert.equal(existsSync(d), false);
  mkdirSync(d);
  assert.equal(await check(make({ path: d, state: 'absent', force: true }).r), false);
  assert.equal(existsSync(d), false);
});

test('symlink: created with a relative target, retargeted, and replacing a file needs force', async () => {
  const link = join(dir, 'link');
  const { r, ctx } = make({ path: link, state: 'exists', symlink: true, source: 'a' });
  assert.equal(await check(r), false);
  assert.equal(readlinkSync(link), 'a');
  assert.equal(await check(r), true);
  const re = make({ path: link, symlink: true, source: '../b' });
  assert.equal(await check(re.r), false);
  assert.equal(readlinkSync(link), '../b');
  assert.ok(re.ctx.lines.includes('info: symlink target a -> ../b'), re.ctx.lines.join('\n'));
  assert.ok(ctx.lines.some((l) => l.includes('created symlink -> a')));

  const f = join(dir, 'file');
  writeFileSync(f, 'x');
  await assert.rejects(check(make({ path: f, state: 'exists', symlink: true, source: 'a' }).r), /is a regular file, not a symlink; set force: true/);
  assert.ok(lstatSync(f).isFile());
  assert.equal(await check(make({ path: f, state: 'exists', symlink: true, source: 'a', force: true }).r), false);
  assert.equal(readlinkSync(f), 'a');
});

test('a directory where a file is wanted needs force and names the current type', async () => {
  const p = join(dir, 'p');
  mkdirSync(join(p, 'inner'), { recursive: true });
  await assert.rejects(check(make({ path: p, state: 'exists', content: 'x' }).r), /is a directory, not a regular file; set force: true/);
  assert.equal(await check(make({ path: p, state: 'exists', content: 'x', force: true }).r), false);
  assert.equal(readFileSync(p, 'utf8'), 'x');
  await assert.rejects(check(make({ path: `${p}/`, state: 'exists' }).r), /is a regular file, not a directory/);
});

test('source: a file is copied and drift in the copy or the source is fixed', async () => {
  const src = join(dir, 'src.txt');
  const dst = join(dir, 'dst.txt');
  writeFileSync(src, 'v1');
  const { r } = make({ path: dst, state: 'exists', source: src });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(dst, 'utf8'), 'v1');
  assert.equal(await check(r), true);
  writeFileSync(src, 'v2');
  assert.equal(await check(r), false);
  assert.equal(readFileSync(dst, 'utf8'), 'v2');
  writeFileSync(dst, 'tampered');
  assert.equal(await check(r), false);
  assert.equal(readFileSync(dst, 'utf8'), 'v2');
  rmSync(src);
  await assert.rejects(check(r), /source .* does not exist/);
});

test('source: a directory is copied recursively (files, directories, symlinks), purge removes extras', async () => {
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  mkdirSync(join(src, 'a', 'b'), { recursive: true });
  writeFileSync(join(src, 'top.txt'), 'top');
  writeFileSync(join(src, 'a', 'b', 'deep.sh'), '#!/bin/sh\n');
  chmodSync(join(src, 'a', 'b', 'deep.sh'), 0o755);
  symlinkSync('top.txt', join(src, 'ln'));
  const { r, ctx } = make({ path: `${dst}/`, state: 'exists', source: `${src}/`, recurse: true });
  assert.equal(await check(r), false, ctx.lines.join('\n'));
  assert.equal(readFileSync(join(dst, 'top.txt'), 'utf8'), 'top');
  assert.equal(readFileSync(join(dst, 'a', 'b', 'deep.sh'), 'utf8'), '#!/bin/sh\n');
  assert.equal(modeOf(join(dst, 'a', 'b', 'deep.sh')), 0o755, 'copied files keep the source permission bits');
  assert.equal(readlinkSync(join(dst, 'ln')), 'top.txt');
  assert.equal(await check(r), true, ctx.lines.join('\n'));

  writeFileSync(join(dst, 'a', 'b', 'deep.sh'), 'changed');
  writeFileSync(join(dst, 'extra'), 'not in source');
  assert.equal(await check(r), false);
  assert.equal(readFileSync(join(dst, 'a', 'b', 'deep.sh'), 'utf8'), '#!/bin/sh\n');
  assert.equal(existsSync(join(dst, 'extra')), true, 'without purge, extra entries stay');
  assert.equal(await check(r), true);

  const purging = make({ path: `${dst}/`, source: `${src}/`, recurse: true, purge: true });
  assert.equal(await check(purging.r), false);
  assert.equal(existsSync(join(dst, 'extra')), false);
  assert.ok(
    purging.ctx.lines.some((l) => l.includes('purged file extra')),
    purging.ctx.lines.join('\n'),
  );
  assert.equal(await check(purging.r), true);
});

test('state unset and a missing file: content or source is an error telling to set state: exists; owner, group and mode alone are in sync (Puppet: a File without ensure)', async () => {
  const f = join(dir, 'nope');
  await assert.rejects(check(make({ path: f, content: 'x' }).r), /does not exist; set state: exists to create it/);
  await assert.rejects(check(make({ path: f, source: '/etc/hostname' }).r), /set state: exists/);
  for (const apply of [true, false]) {
    assert.equal(await check(make({ path: f, mode: '0600' }).r, { apply }), true);
    assert.equal(await check(make({ path: f, owner: 'no-such-user-yet', group: 'no-such-group-yet', mode: '0600' }).r, { apply }), true);
  }
  assert.equal(existsSync(f), false);
  assert.equal(await check(make({ path: f }).r), true, 'nothing to manage is fine');
});

test('noop with an owner or group that does not exist yet reports the plan ("not yet created") instead of failing; applying still fails', async () => {
  const f = join(dir, 'owned');
  const missing = make({ path: f, state: 'exists', content: 'x', owner: 'no-such-user-yet', group: 'no-such-group-yet' });
  assert.equal(await check(missing.r, { apply: false }), false);
  assert.deepEqual(missing.ctx.lines, [
    'info: would set owner to no-such-user-yet (not yet created)',
    'info: would set group to no-such-group-yet (not yet created)',
    'info: would create file',
  ]);
  assert.equal(existsSync(f), false);
  writeFileSync(f, 'old');
  chmodSync(f, 0o644);
  const existing = make({ path: f, content: 'x', owner: 'no-such-user-yet', mode: '0600' });
  assert.equal(await check(existing.r, { apply: false }), false);
  assert.deepEqual(existing.ctx.lines, [
    'info: would set owner to no-such-user-yet (not yet created)',
    'info: would change content',
    'info: would change mode 0644 -> 0600',
  ]);
  assert.equal(readFileSync(f, 'utf8'), 'old');
  await assert.rejects(check(make({ path: f, content: 'x', owner: 'no-such-user-yet' }).r), /no such user 'no-such-user-yet'/);
});

test('a missing parent is an error naming it, unless recurse creates it', async () => {
  const f = join(dir, 'a', 'b', 'f');
  await assert.rejects(
    check(make({ path: f, state: 'exists', content: 'x' }).r),
    new RegExp(`parent directory ${join(dir, 'a', 'b')} does not exist; manage it .* or set recurse: true`),
  );
  // Under noop the parent may come from a resource that did not run either: report, do not fail.
  const noop = make({ path: f, state: 'exists', content: 'x' });
  assert.equal(await check(noop.r, { apply: false }), false);
  assert.ok(
    noop.ctx.lines.some((l) => /would create .* parent directory .* does not exist/.test(l)),
    noop.ctx.lines.join('\n'),
  );
  assert.equal(await check(make({ path: f, state: 'exists', content: 'x', recurse: true }).r), false);
  assert.equal(readFileSync(f, 'utf8'), 'x');
});

test('atomicWrite: replaces a symlink instead of writing through it, and cleans up its temp file on failure', async () => {
  const victim = join(dir, 'victim');
  const link = join(dir, 'link');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, link);
  await atomicWrite(link, 'new', { mode: 0o600 });
  assert.ok(lstatSync(link).isFile());
  assert.equal(modeOf(link), 0o600);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  const sub = join(dir, 'sub');
  mkdirSync(join(sub, 'occupied'), { recursive: true });
  writeFileSync(join(sub, 'occupied', 'x'), 'x');
  await assert.rejects(atomicWrite(join(sub, 'occupied'), 'data'));
  assert.deepEqual(readdirSync(sub), ['occupied'], 'the temp file is removed after a failed rename');
});

test('atomicWrite and atomicWriteSync: the mode asked for, whatever the umask cut from it, set-uid/set-gid bits included', async () => {
  const old = process.umask(0o077);
  try {
    for (const [i, mode] of [0o644, 0o600, 0o2755, 0o4711, 0o1777].entries()) {
      const a = join(dir, `async-${i}`);
      const s = join(dir, `sync-${i}`);
      await atomicWrite(a, 'x', { mode });
      atomicWriteSync(s, 'x', { mode });
      assert.equal(modeOf(a), mode, `async ${mode.toString(8)}`);
      assert.equal(modeOf(s), mode, `sync ${mode.toString(8)}`);
      // a replaced file's mode is kept, set-id bits included, when the owner is given too
      atomicWriteSync(s, 'y', { uid: process.getuid!(), gid: process.getgid!() });
      assert.equal(modeOf(s), mode, `sync rewrite ${mode.toString(8)}`);
    }
  } finally {
    process.umask(old);
  }
});

test('a directory with state exists is created with its mode; mode drift is fixed', async () => {
  const d = join(dir, 'private');
  const { r, ctx } = make({ path: `${d}/`, state: 'exists', mode: '0700' });
  assert.equal(await check(r), false);
  assert.ok(statSync(d).isDirectory());
  assert.equal(modeOf(d), 0o700);
  chmodSync(d, 0o755);
  assert.equal(await check(r), false);
  assert.equal(modeOf(d), 0o700);
  assert.ok(ctx.lines.includes('info: mode 0755 -> 0700'), ctx.lines.join('\n'));
  assert.equal(await check(r), true);
});

test('validate: each problem names its parameter and says what to do', () => {
  const one = (params: Params, name = '/x') => {
    const ps = problems(params, name);
    assert.equal(ps.length, 1, JSON.stringify(ps));
    return ps[0]!;
  };
  assert.deepEqual(problems({ path: '/etc/motd', state: 'exists', content: 'x', mode: '0644' }), []);
  assert.deepEqual(problems({}, '/etc/motd'), []);
  assert.deepEqual(problems({ path: '/etc/app/', state: 'exists', source: '/srv/app/', recurse: true, purge: true }), []);
  assert.deepEqual(problems({ path: '/x', symlink: true, source: '../relative', state: 'exists' }), []);
  assert.deepEqual(problems({ path: '/x', state: '' }), [], 'empty state means unset');

  assert.equal(one({ path: 'etc/motd' }).param, 'path');
  assert.match(one({}, 'relative').message, /not absolute/);
  assert.match(one({ path: '/etc//motd' }).message, /not normalized.*"\/etc\/motd"/);
  assert.match(one({ path: '/etc/./motd' }).message, /not normalized/);
  assert.match(one({ path: '/etc/../motd' }).message, /not normalized/);
  assert.match(one({ path: '/srv/a//' }).message, /write "\/srv\/a\/"/);
  assert.deepEqual(one({ content: 'x', source: '/y' }).param, 'content');
  const absent = one({ state: 'absent', content: 'x' });
  assert.equal(absent.param, 'content');
  assert.equal(absent.severity, 'warning', 'content beside state: absent is ignored with a warning (issue 11, item 10)');
  assert.match(absent.message, /`content` is ignored: state is absent/);
  assert.equal(one({ state: 'absent', source: '/y' }).param, 'source');
  assert.equal(one({ state: 'absent', mode: '0644' }).param, 'mode');
  assert.equal(one({ state: 'absent', owner: 'root' }).param, 'owner');
  assert.equal(one({ state: 'absent', group: 'root' }).param, 'group');
  assert.equal(one({ path: '/d/', content: 'x' }).param, 'content');
  assert.equal(one({ symlink: true }).param, 'symlink');
  assert.equal(one({ path: '/d/', symlink: true, source: '/t' }).param, 'path');
  assert.equal(
    problems({ path: '/d/', purge: true }).every((p) => p.param === 'purge'),
    true,
  );
  assert.equal(
    problems({ path: '/d/', purge: true }).length,
    1,
    'purge needs recurse (a source is optional: without one, purge removes what the graph does not manage)',
  );
  assert.equal(one({ path: '/d', purge: true, recurse: true }).param, 'purge');
  assert.equal(one({ path: '/d/', ignore: ['x'] }).param, 'ignore');
  assert.equal(one({ path: '/d/', recurse: true, purge: true, ignore: ['a/b'] }).param, 'ignore');
  assert.equal(one({ mode: 'u=rwz' }).param, 'mode');
  assert.match(one({ mode: '0999' }).message, /octal/);
  assert.equal(one({ source: 'relative' }).param, 'source');
  assert.equal(one({ path: '/d/', source: '/s/' }).param, 'recurse');
  assert.equal(one({ path: '/f', source: '/s/' }).param, 'source');
});

test('autoEdges: manages the path, comes after the nearest managed ancestor', () => {
  assert.deepEqual(fileKind.autoEdges?.('/etc/motd', {}), { manages: ['/etc/motd'], afterNearestAncestor: ['/etc/motd'] });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- optional in the kind's type; TypeScript narrows it after the first call
  assert.deepEqual(fileKind.autoEdges?.('x', { path: '/srv/app/', source: '/opt/src/' }), {
    manages: ['/srv/app/'],
    afterNearestAncestor: ['/srv/app/'],
  });
});

test('watch: initial event, then events on overwrite, delete and recreate; one watch per directory', async () => {
  const f = join(dir, 'watched');
  const { r } = make({ path: f, state: 'exists', content: 'x' });
  const w = await startWatch(r);
  try {
    await waitEvents(w, 1);
    let n = w.events();
    writeFileSync(f, 'overwritten');
    await waitEvents(w, n + 1);
    n = w.events();
    rmSync(f);
    await waitEvents(w, n + 1);
    n = w.events();
    writeFileSync(f, 'back');
    await waitEvents(w, n + 1);

    // 1,000 more file resources in the same directory add no watch.
    const before = watcherStats();
    const many = [];
    for (let i = 0; i < 1000; i++) many.push(await startWatch(make({ path: join(dir, `m${i}`), content: '' }).r));
    assert.equal(watcherStats(), before);
    await Promise.all(many.map((m) => m.stop()));
  } finally {
    await w.stop();
  }
  assert.equal(watcherStats(), 0, 'watches are released on abort');
});

test('watch: a change in the source (a file, or anywhere in a directory tree) is an event', async () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  const { r } = make({ path: join(dir, 'dst') + '/', state: 'exists', source: `${src}/`, recurse: true });
  const w = await startWatch(r);
  try {
    await waitEvents(w, 1);
    const n = w.events();
    writeFileSync(join(src, 'sub', 'new'), 'x');
    await waitEvents(w, n + 1);
    const m = w.events();
    mkdirSync(join(dir, 'dst'));
    await waitEvents(w, m + 1);
    const k = w.events();
    writeFileSync(join(dir, 'dst', 'inner'), 'x');
    await waitEvents(w, k + 1);
  } finally {
    await w.stop();
  }
});

/** Counts turns of the event loop (setImmediate callbacks) until `stop()`. */
function loopTurns(): { stop: () => number } {
  let n = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    n++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      on = false;
      return n;
    },
  };
}

test('content over SYNC_MAX_BYTES goes through fs/promises: created, compared byte-wise, repaired, without blocking the loop', async () => {
  const f = join(dir, 'big');
  const big = 'x'.repeat(SYNC_MAX_BYTES + 4096);
  const { r, ctx } = make({ path: f, state: 'exists', content: big, mode: '0640' });
  let turns = loopTurns();
  assert.equal(await check(r), false);
  assert.ok(turns.stop() >= 4, 'the event loop kept turning while the big file was written');
  assert.equal(readFileSync(f, 'utf8'), big);
  assert.equal(modeOf(f), 0o640);
  turns = loopTurns();
  assert.equal(await check(r), true);
  assert.ok(turns.stop() >= 4, 'the event loop kept turning while the big file was read');
  // Same size, one byte different at the very end: still found and repaired.
  writeFileSync(f, `${big.slice(0, -1)}y`);
  assert.equal(await check(r), false);
  assert.equal(readFileSync(f, 'utf8'), big);
  assert.equal(modeOf(f), 0o640);
  assert.ok(ctx.lines.includes('info: content changed'), ctx.lines.join('\n'));
  assert.deepEqual(readdirSync(dir), ['big'], 'no temp file is left behind');

  // Small content is checked with the sync calls: no round trip through the thread pool.
  const small = make({ path: join(dir, 'small'), state: 'exists', content: 'x'.repeat(SYNC_MAX_BYTES) });
  assert.equal(await check(small.r), false);
  turns = loopTurns();
  assert.equal(await check(small.r), true);
  assert.ok(turns.stop() <= 1, 'a small file is compared without waiting for the event loop');

  // A big source file is read through fs/promises too.
  const src = join(dir, 'big-src');
  writeFileSync(src, big);
  const copy = make({ path: join(dir, 'big-copy'), state: 'exists', source: src });
  assert.equal(await check(copy.r), false);
  assert.equal(readFileSync(join(dir, 'big-copy'), 'utf8'), big);
  assert.equal(await check(copy.r), true);
});

test('a missing parent is only looked at when the create fails: named for files, directories and symlinks', async () => {
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'x');
  await assert.rejects(check(make({ path: join(plain, 'f'), state: 'exists', content: 'x' }).r), new RegExp(`parent ${plain} is not a directory`));
  await assert.rejects(check(make({ path: `${join(plain, 'd')}/`, state: 'exists' }).r), new RegExp(`parent ${plain} is not a directory`));
  await assert.rejects(check(make({ path: join(plain, 'f'), state: 'exists', content: 'x' }).r, { apply: false }), /is not a directory/);

  const missing = join(dir, 'm', 'n');
  const why = new RegExp(`parent directory ${missing} does not exist; manage it .* or set recurse: true`);
  await assert.rejects(check(make({ path: `${missing}/d/`, state: 'exists' }).r), why);
  await assert.rejects(check(make({ path: `${missing}/l`, state: 'exists', symlink: true, source: 'x' }).r), why);
  await assert.rejects(check(make({ path: `${missing}/f`, state: 'exists', content: 'y'.repeat(SYNC_MAX_BYTES + 1) }).r), why);
  assert.equal(existsSync(join(dir, 'm')), false);

  const noop = make({ path: `${missing}/f`, state: 'exists', content: 'x', recurse: true });
  assert.equal(await check(noop.r, { apply: false }), false);
  assert.ok(noop.ctx.lines.includes(`info: would create parent directories ${missing}`), noop.ctx.lines.join('\n'));
  assert.ok(noop.ctx.lines.includes('info: would create file'), noop.ctx.lines.join('\n'));
  assert.equal(existsSync(join(dir, 'm')), false, 'noop creates nothing');

  const d = make({ path: `${missing}/d/`, state: 'exists', recurse: true });
  assert.equal(await check(d.r), false);
  assert.ok(lstatSync(`${missing}/d`).isDirectory());
  assert.deepEqual(d.ctx.lines, [`info: created parent directories ${missing}`, 'info: created directory (mode 0755)']);
  const other = join(dir, 'o', 'p');
  const l = make({ path: `${other}/l`, state: 'exists', symlink: true, source: 'x', recurse: true });
  assert.equal(await check(l.r), false);
  assert.equal(readlinkSync(`${other}/l`), 'x');
  const big = join(dir, 'q', 'r', 'big');
  assert.equal(await check(make({ path: big, state: 'exists', content: 'z'.repeat(SYNC_MAX_BYTES + 1), recurse: true }).r), false);
  assert.equal(statSync(big).size, SYNC_MAX_BYTES + 1);
});

test('thousands of files created at once: no watch event is lost (the sync work leaves the loop time to read them)', async () => {
  const n = 5000; // ~25,000 inotify events: more than the kernel queues (16,384 by default) if nobody reads them
  const sub = join(dir, 'many');
  mkdirSync(sub);
  const rs = Array.from({ length: n }, (_, i) => make({ path: join(sub, `f${i}`), state: 'exists', content: `content ${i}\n` }).r);
  const ws = await Promise.all(rs.map((r) => startWatch(r)));
  // The resources do not report the echo of their own writes; an independent subscriber to each path sees
  // every event the kernel delivered through the same shared directory watch.
  const seen = new Array<number>(n).fill(0);
  const unwatch = rs.map((_, i) => watchPath(join(sub, `f${i}`), () => seen[i]!++));
  try {
    for (const w of ws) await waitEvents(w, 1);
    const results = await Promise.all(rs.map((r) => check(r)));
    assert.ok(results.every((ok) => !ok));
    for (let i = 0; i < n; i++) await waitEvents({ events: () => seen[i]! }, 1, 5000);
    assert.equal(readFileSync(join(sub, `f${n - 1}`), 'utf8'), `content ${n - 1}\n`);
    // The writers' own watches swallowed exactly their echo: nothing more to report.
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(new Set(ws.map((w) => w.events())), new Set([1]));
  } finally {
    for (const u of unwatch) u();
    await Promise.all(ws.map((w) => w.stop()));
  }
});

test('a file resource does not report the echo of its own write, but reports a write right after it', async () => {
  const p = join(dir, 'echo');
  const { r } = make({ path: p, state: 'exists', content: 'mine\n' });
  const w = await startWatch(r);
  try {
    await waitEvents(w, 1);
    assert.equal(await check(r), false);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(w.events(), 1, 'our own atomic write is not drift');
    writeFileSync(p, 'theirs\n');
    await waitEvents(w, 2);
  } finally {
    await w.stop();
  }
});

async function waitEvents(w: { events: () => number }, atLeast: number, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (w.events() < atLeast) {
    if (Date.now() > end) assert.fail(`expected ${atLeast} watch events, saw ${w.events()}`);
    await new Promise((res) => setTimeout(res, 2));
  }
}

test('replacenondir replaces a file or symlink of another type without force, but never a directory', async () => {
  const asLink = join(dir, 'was-file');
  writeFileSync(asLink, 'plain');
  const a = make({ path: asLink, state: 'exists', symlink: true, source: 'target', replacenondir: true });
  assert.equal(await check(a.r), false);
  assert.equal(readlinkSync(asLink), 'target');

  const asFile = join(dir, 'was-link');
  writeFileSync(join(dir, 'real'), 'real content');
  symlinkSync('real', asFile);
  const b = make({ path: asFile, state: 'exists', content: 'now a file\n', replacenondir: true });
  assert.equal(await check(b.r), false);
  assert.equal(lstatSync(asFile).isFile(), true);
  assert.equal(readFileSync(join(dir, 'real'), 'utf8'), 'real content', 'the link target was not written through');

  const asDir = join(dir, 'was-file-2');
  writeFileSync(asDir, 'plain');
  const c = make({ path: `${asDir}/`, state: 'exists', replacenondir: true });
  assert.equal(await check(c.r), false);
  assert.equal(statSync(asDir).isDirectory(), true);

  const keepDir = join(dir, 'a-dir');
  mkdirSync(keepDir);
  const d = make({ path: keepDir, state: 'exists', content: 'x', replacenondir: true });
  await assert.rejects(check(d.r), /is a directory, not a regular file; set force: true to replace it/);
  assert.equal(statSync(keepDir).isDirectory(), true);
});
