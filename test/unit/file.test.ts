import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
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
import { fileKind } from '../../src/resources/file.js';
import type { Resource } from '../../src/resources/resource.js';
import { atomicWrite } from '../../src/system/atomic-write.js';
import { watcherStats } from '../../src/system/path-watcher.js';
import { check, recordingContext, startWatch, type RecordingContext } from '../harness/resource-context.js';

type Params = Record<string, string | boolean>;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function make(params: Params, name = String(params.path ?? 'unnamed')): { r: Resource; ctx: RecordingContext } {
  const problems = fileKind.validate?.(name, params) ?? [];
  assert.deepEqual(problems, [], 'test resources must be valid');
  const ctx = recordingContext(`file[${name}]`);
  return { r: fileKind.create(name, params, ctx), ctx };
}

function problems(params: Params, name = '/x'): Array<{ param?: string; message: string }> {
  return fileKind.validate?.(name, params) ?? [];
}

const modeOf = (p: string) => lstatSync(p).mode & 0o7777;

test('state exists with content and mode creates the file; the next check is OK', async () => {
  const f = join(dir, 'motd');
  const { r, ctx } = make({ path: f, state: 'exists', content: 'hello\n', mode: '0600' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(f, 'utf8'), 'hello\n');
  assert.equal(modeOf(f), 0o600);
  assert.ok(ctx.lines.some((l) => /^info: created/.test(l)), ctx.lines.join('\n'));
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

test('content drift is fixed, keeping the existing mode and owner', async () => {
  const f = join(dir, 'conf');
  writeFileSync(f, 'wrong');
  chmodSync(f, 0o640);
  chownSync(f, 65534, 65534);
  const { r, ctx } = make({ path: f, content: 'right' });
  assert.equal(await check(r), false);
  assert.equal(readFileSync(f, 'utf8'), 'right');
  assert.equal(modeOf(f), 0o640);
  assert.equal(lstatSync(f).uid, 65534);
  assert.equal(lstatSync(f).gid, 65534);
  assert.ok(ctx.lines.includes('info: content changed'), ctx.lines.join('\n'));
  assert.equal(await check(r), true);
  // Same size, different bytes: compared byte-wise, not by size.
  writeFileSync(f, 'RIGHT');
  assert.equal(await check(r), false);
  assert.equal(readFileSync(f, 'utf8'), 'right');
});

test('noop reports what would change and touches nothing', async () => {
  const f = join(dir, 'conf');
  writeFileSync(f, 'old');
  chmodSync(f, 0o600);
  const { r, ctx } = make({ path: f, state: 'exists', content: 'new', mode: '0644', owner: '65534' });
  assert.equal(await check(r, { apply: false }), false);
  assert.equal(readFileSync(f, 'utf8'), 'old');
  assert.equal(modeOf(f), 0o600);
  assert.equal(lstatSync(f).uid, 0);
  assert.ok(ctx.lines.includes('info: would change content'), ctx.lines.join('\n'));
  assert.ok(ctx.lines.includes('info: would change mode 0600 -> 0644'), ctx.lines.join('\n'));
  assert.ok(ctx.lines.some((l) => /^info: would change owner root -> /.test(l)), ctx.lines.join('\n'));
  const missing = join(dir, 'missing');
  const m = make({ path: missing, state: 'exists', content: 'x' });
  assert.equal(await check(m.r, { apply: false }), false);
  assert.equal(existsSync(missing), false);
  assert.ok(m.ctx.lines.some((l) => /would create/.test(l)));
  const gone = make({ path: f, state: 'absent' });
  assert.equal(await check(gone.r, { apply: false }), false);
  assert.equal(existsSync(f), true);
});

test('state absent removes a file, and a symlink without touching its target', async () => {
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  const { r, ctx } = make({ path: f, state: 'absent' });
  assert.equal(await check(r), false);
  assert.equal(existsSync(f), false);
  assert.ok(ctx.lines.some((l) => /^info: removed/.test(l)));
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
  assert.ok(ctx.lines.some((l) => /created symlink -> a/.test(l)));

  const f = join(dir, 'file');
  writeFileSync(f, 'x');
  await assert.rejects(check(make({ path: f, state: 'exists', symlink: true, source: 'a' }).r), /is a regular file, not a symlink; set force: true/);
  assert.ok(lstatSync(f).isFile());
  assert.equal(await check(make({ path: f, state: 'exists', symlink: true, source: 'a', force: true }).r), false);
  assert.equal(readlinkSync(f), 'a');
});

test('a symlink at the path is never written through, chmod-ed or chown-ed through', async () => {
  const victim = join(dir, 'victim');
  const link = join(dir, 'link');
  writeFileSync(victim, 'precious');
  chmodSync(victim, 0o644);
  symlinkSync(victim, link);
  await assert.rejects(check(make({ path: link, state: 'exists', content: 'evil' }).r), /is a symlink, not a regular file; set force: true/);
  await assert.rejects(check(make({ path: link, content: 'evil' }).r), /is a symlink/);
  // Metadata only: the owner goes to the link itself, the mode is not applied to symlinks.
  assert.equal(await check(make({ path: link, mode: '0600', owner: '65534' }).r), false);
  assert.equal(lstatSync(link).uid, 65534);
  assert.equal(statSync(victim).uid, 0);
  assert.equal(modeOf(victim), 0o644);
  // With force the link is replaced by a regular file; the target is still untouched.
  assert.equal(await check(make({ path: link, state: 'exists', content: 'mine', force: true }).r), false);
  assert.ok(lstatSync(link).isFile());
  assert.equal(readFileSync(link, 'utf8'), 'mine');
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
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
  assert.ok(purging.ctx.lines.some((l) => /purged file extra/.test(l)), purging.ctx.lines.join('\n'));
  assert.equal(await check(purging.r), true);
});

test('owner and group by numeric id (and by name), with the change logged', async () => {
  const f = join(dir, 'owned');
  writeFileSync(f, 'x');
  const { r, ctx } = make({ path: f, owner: '65534', group: '65534' });
  assert.equal(await check(r), false);
  assert.equal(lstatSync(f).uid, 65534);
  assert.equal(lstatSync(f).gid, 65534);
  assert.ok(ctx.lines.some((l) => /^info: owner root -> /.test(l)), ctx.lines.join('\n'));
  assert.equal(await check(r), true);
  assert.equal(await check(make({ path: f, owner: 'root', group: 'root' }).r), false);
  assert.equal(lstatSync(f).uid, 0);
  await assert.rejects(check(make({ path: f, owner: 'no-such-user-here' }).r), /no such user 'no-such-user-here' \(in \/etc\/passwd\)/);
});

test('an owner change keeps set-uid bits, and mode can be symbolic', async () => {
  const f = join(dir, 'tool');
  writeFileSync(f, 'x');
  chmodSync(f, 0o4755);
  assert.equal(await check(make({ path: f, owner: '65534' }).r), false);
  assert.equal(modeOf(f), 0o4755);
  const { r, ctx } = make({ path: f, mode: 'u-s,go-rx' });
  assert.equal(await check(r), false);
  assert.equal(modeOf(f), 0o700);
  assert.ok(ctx.lines.includes('info: mode 4755 -> 0700'), ctx.lines.join('\n'));
  assert.equal(await check(r), true);
});

test('state unset and a missing file: an error telling to set state: exists', async () => {
  const f = join(dir, 'nope');
  await assert.rejects(check(make({ path: f, content: 'x' }).r), /does not exist; set state: exists to create it/);
  await assert.rejects(check(make({ path: f, mode: '0644' }).r), /set state: exists/);
  assert.equal(existsSync(f), false);
  assert.equal(await check(make({ path: f }).r), true, 'nothing to manage is fine');
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
  assert.ok(noop.ctx.lines.some((l) => /would create .* parent directory .* does not exist/.test(l)), noop.ctx.lines.join('\n'));
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
  assert.match(absent.message, /remove `content` or set state: exists/);
  assert.equal(one({ state: 'absent', source: '/y' }).param, 'source');
  assert.equal(one({ state: 'absent', mode: '0644' }).param, 'mode');
  assert.equal(one({ state: 'absent', owner: 'root' }).param, 'owner');
  assert.equal(one({ state: 'absent', group: 'root' }).param, 'group');
  assert.equal(one({ path: '/d/', content: 'x' }).param, 'content');
  assert.equal(one({ symlink: true }).param, 'symlink');
  assert.equal(one({ path: '/d/', symlink: true, source: '/t' }).param, 'path');
  assert.equal(problems({ path: '/d/', purge: true }).every((p) => p.param === 'purge'), true);
  assert.equal(problems({ path: '/d/', purge: true }).length, 2);
  assert.equal(one({ mode: 'u=rwz' }).param, 'mode');
  assert.match(one({ mode: '0999' }).message, /octal/);
  assert.equal(one({ source: 'relative' }).param, 'source');
  assert.equal(one({ path: '/d/', source: '/s/' }).param, 'recurse');
  assert.equal(one({ path: '/f', source: '/s/' }).param, 'source');
});

test('autoEdges: manages the path, comes after the nearest managed ancestor', () => {
  assert.deepEqual(fileKind.autoEdges?.('/etc/motd', {}), { manages: ['/etc/motd'], afterNearestAncestor: ['/etc/motd'] });
  assert.deepEqual(fileKind.autoEdges?.('x', { path: '/srv/app/', source: '/opt/src/' }), {
    manages: ['/srv/app/'],
    afterNearestAncestor: ['/srv/app/'],
  });
});

test('watch: initial event, then events on overwrite, delete and recreate; one watch per directory', async () => {
  const f = join(dir, 'watched');
  const { r } = make({ path: f, state: 'exists', content: 'x' });
  const w = startWatch(r);
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
    for (let i = 0; i < 1000; i++) many.push(startWatch(make({ path: join(dir, `m${i}`), content: '' }).r));
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
  const w = startWatch(r);
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

async function waitEvents(w: { events: () => number }, atLeast: number, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (w.events() < atLeast) {
    if (Date.now() > end) assert.fail(`expected ${atLeast} watch events, saw ${w.events()}`);
    await new Promise((res) => setTimeout(res, 2));
  }
}
