// The file kind where root is needed: owners and groups of other users, set-uid/set-gid bits on their files, and
// what a noop or a symlink must leave untouched about them. The rest of file's tests are in test/unit/file.test.ts.
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
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileKind } from '../../src/resources/file/kind.js';
import { atomicWriteSync, tempPathFor } from '../../src/system/fs/atomic-write.js';
import { check, validResource } from '../harness/resource-context.js';

type Params = Record<string, string | boolean>;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const make = (params: Params, name = String(params.path ?? 'unnamed')) => validResource(fileKind, name, params);

const modeOf = (p: string) => lstatSync(p).mode & 0o7777;

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
  assert.ok(
    ctx.lines.some((l) => l.startsWith('info: would change owner root -> ')),
    ctx.lines.join('\n'),
  );
  const missing = join(dir, 'missing');
  const m = make({ path: missing, state: 'exists', content: 'x' });
  assert.equal(await check(m.r, { apply: false }), false);
  assert.equal(existsSync(missing), false);
  assert.ok(m.ctx.lines.some((l) => l.includes('would create')));
  const gone = make({ path: f, state: 'absent' });
  assert.equal(await check(gone.r, { apply: false }), false);
  assert.equal(existsSync(f), true);
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

test('owner and group by numeric id (and by name), with the change logged', async () => {
  const f = join(dir, 'owned');
  writeFileSync(f, 'x');
  const { r, ctx } = make({ path: f, owner: '65534', group: '65534' });
  assert.equal(await check(r), false);
  assert.equal(lstatSync(f).uid, 65534);
  assert.equal(lstatSync(f).gid, 65534);
  assert.ok(
    ctx.lines.some((l) => l.startsWith('info: owner root -> ')),
    ctx.lines.join('\n'),
  );
  assert.equal(await check(r), true);
  assert.equal(await check(make({ path: f, owner: 'root', group: 'root' }).r), false);
  assert.equal(lstatSync(f).uid, 0);
  await assert.rejects(
    check(make({ path: f, owner: 'no-such-user-here' }).r),
    /no such user 'no-such-user-here' \(not in \/etc\/passwd, and `getent passwd no-such-user-here` finds nothing\)/,
  );
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

test('created files and directories get exactly their mode: bits the umask would strip, set-uid, set-gid and sticky', async () => {
  const old = process.umask(0o077);
  try {
    const cases: [string, string, number][] = [
      ['shared', '0666', 0o666],
      ['suid', '4755', 0o4755],
      ['sticky', '1644', 0o1644],
      ['sgid-dir/', '2775', 0o2775],
      ['tmp-dir/', '1777', 0o1777],
    ];
    for (const [name, mode, want] of cases) {
      const p = join(dir, name);
      assert.equal(await check(make({ path: p, state: 'exists', mode, ...(name.endsWith('/') ? {} : { content: name }) }).r), false);
      assert.equal(modeOf(p), want, `${name} ${mode}`);
    }
    // A rewrite of the content keeps the mode too.
    const f = join(dir, 'shared');
    assert.equal(await check(make({ path: f, state: 'exists', content: 'new', mode: '0666' }).r), false);
    assert.equal(readFileSync(f, 'utf8'), 'new');
    assert.equal(modeOf(f), 0o666);
  } finally {
    process.umask(old);
  }
});

test('atomicWriteSync: same rules as atomicWrite (symlink replaced, mode and owner kept or given), temp names unique', () => {
  const victim = join(dir, 'victim');
  const link = join(dir, 'link');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, link);
  atomicWriteSync(link, 'new', { mode: 0o600 });
  assert.ok(lstatSync(link).isFile());
  assert.equal(modeOf(link), 0o600);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');

  const kept = join(dir, 'kept');
  writeFileSync(kept, 'a');
  chmodSync(kept, 0o640);
  chownSync(kept, 65534, 65534);
  atomicWriteSync(kept, 'b');
  assert.equal(readFileSync(kept, 'utf8'), 'b');
  assert.equal(modeOf(kept), 0o640);
  assert.equal(lstatSync(kept).uid, 65534);
  assert.equal(lstatSync(kept).gid, 65534);
  // existing: what the caller knows is there; null: a new file (default mode, the process's owner), no lstat.
  atomicWriteSync(kept, 'c', { existing: { mode: 0o604, uid: 65534, gid: 0 } });
  assert.equal(modeOf(kept), 0o604);
  assert.equal(lstatSync(kept).gid, 0);
  atomicWriteSync(kept, 'd', { existing: null });
  assert.equal(modeOf(kept), 0o644);
  assert.equal(lstatSync(kept).uid, process.getuid?.() ?? 0);

  const sub = join(dir, 'sub');
  mkdirSync(join(sub, 'occupied'), { recursive: true });
  writeFileSync(join(sub, 'occupied', 'x'), 'x');
  assert.throws(() => atomicWriteSync(join(sub, 'occupied'), 'data'));
  assert.deepEqual(readdirSync(sub), ['occupied'], 'the temp file is removed after a failed rename');
  assert.throws(
    () => atomicWriteSync(join(dir, 'no', 'such', 'f'), 'x'),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.path !== join(dir, 'no', 'such', 'f'),
  );

  const names = new Set<string>();
  for (let i = 0; i < 1000; i++) names.add(tempPathFor(join(dir, 'motd')));
  assert.equal(names.size, 1000);
  for (const n of names) assert.ok(n.startsWith(join(dir, '.motd.mgmt-')), n);
  const long = tempPathFor(join(dir, 'é'.repeat(127)));
  assert.ok(Buffer.byteLength(long.slice(dir.length + 1)) <= 255, 'temp names stay under NAME_MAX');
});
