// Symlink-safe paths (system/fs/safe-path.ts), written as the attacks: a user's symlink above a managed path that
// leads somewhere the user does not own is refused by every kind that writes files, while links that lead to what
// their owner owns keep working; a parent replaced after a check is never written through; temp files a crash
// left behind are swept. As root, the "unprivileged user" is nobody (65534): the links are chowned to it.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileKind } from '../../src/resources/file/kind.js';
import { lineKind } from '../../src/resources/line.js';
import { iniKind } from '../../src/resources/ini.js';
import { hostKind } from '../../src/resources/host.js';
import type { ResourceKind as Kind, Resource } from '../../src/resources/resource.js';
import { forgetChecks, openDirSync, openEditedSync, UnsafePathError } from '../../src/system/fs/safe-path.js';
import { forgetSweptDirs, isOurTempName } from '../../src/system/fs/stale-temps.js';
import { atomicWrite, atomicWriteSync, tempPathFor } from '../../src/system/fs/atomic-write.js';
import { pathProblem } from '../../src/system/fs/path-check.js';
import { check, recordingContext } from '../harness/resource-context.js';
import { readGraphFile } from '../../src/graph/read.js';
import { formatDiagnostic } from '../../src/graph/diagnostics.js';
import { registry } from '../../src/cli/registry.js';

const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const REFUSED = /refusing to follow the symlink .* belongs to/;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-safe-path-'));
  forgetSweptDirs();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A symlink owned by an unprivileged user: us when we are not root, else nobody. */
function userLink(target: string, link: string): void {
  symlinkSync(target, link);
  if (ROOT) lchownSync(link, NOBODY, NOBODY);
}

/** A directory the link's owner does not own: as root a root-owned one of ours, else /etc (root's). */
function foreignDir(): string {
  if (!ROOT) return '/etc';
  const d = join(dir, 'outside');
  mkdirSync(d);
  return d;
}

function make(kind: Kind, name: string, params: Record<string, unknown>): Resource {
  assert.deepEqual(kind.validate?.(name, params) ?? [], [], 'test resources must be valid');
  return kind.create(name, params, recordingContext(`${kind.kind}[${name}]`));
}

test('the attack: a user symlinks a parent of a managed file to a directory they do not own; the setuid file is refused', async () => {
  const outside = foreignDir();
  userLink(outside, join(dir, 'sub'));
  const name = `mgmt-attack-${process.pid}.txt`;
  const r = make(fileKind, join(dir, 'sub', name), { path: join(dir, 'sub', name), state: 'exists', content: 'x', mode: '4755' });
  await assert.rejects(check(r), REFUSED);
  assert.equal(existsSync(join(outside, name)), false, 'nothing was written through the link');
  await assert.rejects(check(r, { apply: false }), REFUSED, 'noop refuses too');
});

test('the same link above a directory resource, a removal, a line, an ini setting and a hosts file: all refused', async () => {
  const outside = foreignDir();
  const sub = join(dir, 'sub');
  userLink(outside, sub);
  const target = join(sub, 'victim');
  await assert.rejects(check(make(fileKind, `${target}/`, { path: `${target}/`, state: 'exists' })), REFUSED);
  await assert.rejects(check(make(fileKind, target, { path: target, state: 'absent' })), REFUSED);
  await assert.rejects(check(make(lineKind, 'l', { path: target, line: 'evil' })), REFUSED);
  await assert.rejects(check(make(iniKind, 'i', { path: target, section: 's', setting: 'k', value: 'v' })), REFUSED);
  await assert.rejects(check(make(hostKind, 'evil.example', { target, ip: '10.0.0.1' })), REFUSED);
  assert.equal(existsSync(target), false);
});

test('an edited file (line) follows a symlink at its path only to a file the link owner owns', async () => {
  const outside = foreignDir();
  const victim = ROOT ? join(outside, 'passwd') : '/etc/passwd';
  if (ROOT) writeFileSync(victim, 'root:x:0:0\n');
  const before = existsSync(victim) ? readFileSync(victim) : undefined;
  const link = join(dir, 'conf');
  userLink(victim, link);
  await assert.rejects(check(make(lineKind, 'l', { path: link, line: 'evil' })), REFUSED);
  if (before) assert.deepEqual(readFileSync(victim), before, 'the file the link leads to is untouched');
  // A link to a file of the same owner is followed, as Puppet does: the file is edited, the link stays.
  const own = join(dir, 'own.conf');
  writeFileSync(own, 'a\n');
  if (ROOT) chownSync(own, NOBODY, NOBODY);
  const ownLink = join(dir, 'own-link');
  userLink(own, ownLink);
  assert.equal(await check(make(lineKind, 'l2', { path: ownLink, line: 'b' })), false);
  assert.equal(readFileSync(own, 'utf8'), 'a\nb\n');
  assert.ok(lstatSync(ownLink).isSymbolicLink());
});

test('links that lead to what their owner owns keep working: root anywhere, a user through their own directories', async () => {
  const real = join(dir, 'real');
  mkdirSync(real);
  const link = join(dir, 'www');
  if (ROOT) {
    symlinkSync(real, link); // root's link to root's directory, like /var/www -> /srv/www
  } else {
    userLink(real, link); // our link to our directory
  }
  const f = join(link, 'index.html');
  assert.equal(await check(make(fileKind, f, { path: f, state: 'exists', content: 'hi' })), false);
  assert.equal(readFileSync(join(real, 'index.html'), 'utf8'), 'hi');
  // And a user's link (nobody's, as root) to that user's own directory: alice's ~/.ssh through her own links.
  const home = join(dir, 'home');
  mkdirSync(home);
  const dotfiles = join(home, 'dotfiles');
  mkdirSync(dotfiles);
  if (ROOT) {
    chownSync(home, NOBODY, NOBODY);
    chownSync(dotfiles, NOBODY, NOBODY);
  }
  userLink('dotfiles', join(home, '.ssh'));
  const keys = join(home, '.ssh', 'authorized_keys');
  assert.equal(await check(make(fileKind, keys, { path: keys, state: 'exists', content: 'ssh-ed25519 AAAA\n' })), false);
  assert.equal(readFileSync(join(dotfiles, 'authorized_keys'), 'utf8'), 'ssh-ed25519 AAAA\n');
});

test('a relative link that climbs out of the user-owned part is refused like an absolute one', async () => {
  const user = join(dir, 'u');
  mkdirSync(user);
  if (ROOT) chownSync(user, NOBODY, NOBODY);
  userLink('../..', join(user, 'up')); // u/up -> the temp dir's parent, which the user does not own
  const f = join(user, 'up', `mgmt-climb-${process.pid}`);
  await assert.rejects(check(make(fileKind, f, { path: f, state: 'exists', content: 'x' })), REFUSED);
  assert.equal(existsSync(join(dir, '..', `mgmt-climb-${process.pid}`)), false);
});

test('the resolution itself: errors say what is missing, what is not a directory, and which link is refused', () => {
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => openDirSync(join(dir, 'missing', 'x')), { code: 'ENOENT', message: `${join(dir, 'missing')} does not exist` });
  assert.throws(() => openDirSync(join(dir, 'file', 'x')), { code: 'ENOTDIR' });
  userLink(foreignDir(), join(dir, 'l'));
  assert.throws(
    () => openDirSync(join(dir, 'l')),
    (e: unknown) => e instanceof UnsafePathError && REFUSED.test(e.message),
  );
  symlinkSync('loop', join(dir, 'loop'));
  if (ROOT) lchownSync(join(dir, 'loop'), NOBODY, NOBODY);
  assert.throws(() => openDirSync(join(dir, 'loop', 'x')), { code: 'ELOOP' });
  const { entry, real } = openEditedSync(join(dir, 'file'));
  assert.equal(real, join(dir, 'file'));
  entry.dir.release();
});

test('a parent directory replaced between two checks (by a rename, as a deploy does) is followed, never the old one', async () => {
  const a = join(dir, 'a');
  mkdirSync(a);
  const f = join(a, 'f');
  const r = make(fileKind, f, { path: f, state: 'exists', content: 'one' });
  assert.equal(await check(r), false);
  renameSync(a, join(dir, 'old'));
  mkdirSync(a);
  // A held directory's path is stat'ed once per turn of the event loop (see safe-path.ts); the rename's inotify
  // event reaches the resource in a later turn, as this await does.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await check(r), false, 'the new directory has no file yet');
  assert.equal(readFileSync(f, 'utf8'), 'one');
  assert.deepEqual(readdirSync(join(dir, 'old')), ['f']);
});

test('a crash left temp files of ours: the first write in their directory removes the stale ones, and only those', async () => {
  const d = join(dir, 'd');
  mkdirSync(d);
  const gonePid = join(d, '.conf.mgmt-999999999-0123456789ab'); // no such process
  const oldStyle = join(d, '.conf.mgmt-0123456789ab'); // no PID in the name: older than this process
  const livePid = join(d, `.conf.mgmt-${process.ppid}-0123456789ab`); // its writer still runs
  const fresh = join(d, '.conf.mgmt-89abcdef0123'); // no PID, but newer than this process
  const notOurs = join(d, '.conf.swp');
  const victim = join(dir, 'victim');
  for (const p of [gonePid, oldStyle, livePid, fresh, notOurs, victim]) writeFileSync(p, 'partial');
  const linkTemp = join(d, '.other.mgmt-999999998-0123456789ab'); // a symlink with our name: removed, never followed
  symlinkSync(victim, linkTemp);
  const past = new Date(Date.now() - 3600_000);
  utimesSync(oldStyle, past, past);
  utimesSync(gonePid, past, past);
  assert.ok([gonePid, oldStyle, livePid, fresh, linkTemp].every((p) => isOurTempName(p.slice(d.length + 1))));
  assert.ok(isOurTempName(tempPathFor(join(d, 'conf')).slice(d.length + 1)), 'the names we write are recognised');

  const noop = make(fileKind, join(d, 'conf'), { path: join(d, 'conf'), state: 'exists', content: 'x' });
  await check(noop, { apply: false });
  assert.ok(existsSync(gonePid), 'noop changes nothing, temp files included');

  assert.equal(await check(make(fileKind, join(d, 'conf'), { path: join(d, 'conf'), state: 'exists', content: 'x' })), false);
  assert.deepEqual(readdirSync(d).sort(), ['.conf.mgmt-89abcdef0123', `.conf.mgmt-${process.ppid}-0123456789ab`, '.conf.swp', 'conf'].sort());
  assert.equal(readFileSync(victim, 'utf8'), 'partial', 'the symlink was removed, not what it led to');
});

test('path checks: NUL, an over-long component or path, and non-UTF-8 are refused by validation, in every path-taking kind', () => {
  const long = `/tmp/${'a'.repeat(256)}`;
  const deep = `/${'d/'.repeat(2100)}f`;
  assert.match(pathProblem('/tmp/a\0b') ?? '', /contains a NUL byte/);
  assert.match(pathProblem(long) ?? '', /component of 256 bytes.*at most 255 bytes/);
  assert.equal(pathProblem(`/tmp/${'a'.repeat(255)}`), undefined);
  assert.match(pathProblem(deep) ?? '', /is 4202 bytes long; a path may have at most 4095 bytes/);
  assert.match(pathProblem('/tmp/caf\uFFFD') ?? '', /is not valid UTF-8/);
  assert.match(pathProblem('/tmp/\uD800x') ?? '', /is not valid UTF-8/);
  assert.equal(pathProblem('/tmp/café/日本'), undefined);
  for (const bad of ['/tmp/a\0b', long, deep, '/tmp/caf\uFFFD']) {
    const file = fileKind.validate?.(bad, { path: bad, state: 'exists' }) ?? [];
    assert.ok(
      file.some((p) => p.param === 'path' && /NUL|bytes|UTF-8/.test(p.message)),
      JSON.stringify(file),
    );
    const line = lineKind.validate?.('l', { path: bad, line: 'x' }) ?? [];
    assert.ok(
      line.some((p) => p.param === 'path'),
      JSON.stringify(line),
    );
    const ini = iniKind.validate?.('i', { path: bad, section: 's', setting: 'k', value: 'v' }) ?? [];
    assert.ok(
      ini.some((p) => p.param === 'path'),
      JSON.stringify(ini),
    );
    const host = hostKind.validate?.('h.example', { target: bad, ip: '10.0.0.1' }) ?? [];
    assert.ok(
      host.some((p) => p.param === 'target'),
      JSON.stringify(host),
    );
  }
});

test('a graph file with non-UTF-8 bytes in a path is refused with its file and line, not turned into another file', async () => {
  const g = join(dir, 'g.yaml');
  const head = Buffer.from(`graph: g\nresources:\n  file:\n  - name: ${dir}/caf`);
  writeFileSync(g, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('\n    state: exists\n    content: x\n')]));
  const errors = (await readGraphFile(registry, g)).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  assert.equal(errors.length, 1, errors.join('\n'));
  // the reader refuses the line before any kind sees it (a graph is UTF-8 text)
  assert.match(errors[0]!, new RegExp(`^${g.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: error: this line is not UTF-8`));
  // a path that reached a kind by another door (a translation, a collected export) with the bytes already turned
  // into U+FFFD is refused by the path check itself
  const problems = fileKind.validate!(`${dir}/caf\uFFFD`, { state: 'exists', content: 'x' });
  assert.match(problems.map((p) => p.message).join('\n'), /not valid UTF-8/);
  assert.equal(existsSync(join(dir, 'caf\uFFFD')), false);
});

test('atomicWrite given a plain path resolves its parent under the same rule, so a later kind is safe by default', async () => {
  const outside = foreignDir();
  userLink(outside, join(dir, 'sub'));
  const name = `mgmt-later-${process.pid}`;
  await assert.rejects(atomicWrite(join(dir, 'sub', name), 'x'), REFUSED);
  assert.throws(() => atomicWriteSync(join(dir, 'sub', name), 'x'), REFUSED);
  assert.equal(existsSync(join(outside, name)), false);
  await atomicWrite(join(dir, 'plain'), 'ok');
  assert.equal(readFileSync(join(dir, 'plain'), 'utf8'), 'ok');
});

test('a directory whose every step only root or we can change is written by its path; any other step keeps the descriptor', () => {
  // dir: ours, in /tmp (root's, sticky), so no one else can rename or replace any step to dir/a.
  // In a later turn, the first use stats the path and goes through the descriptor; a second use in the same turn
  // (a batch) lstats every step and names entries by path when they are all root's or ours.
  const byPath = (d: string) => {
    openDirSync(d).release(); // held (cached) from here on
    forgetChecks(); // a later turn: the path is checked again
    const first = openDirSync(d);
    const second = openDirSync(d);
    try {
      assert.equal(first.at('f'), `/proc/self/fd/${first.fd}/f`, 'the first use in a turn: through the descriptor');
      return second.at('f') === join(d, 'f');
    } finally {
      first.release();
      second.release();
    }
  };
  const a = join(dir, 'a');
  mkdirSync(a);
  assert.equal(byPath(a), true);
  atomicWriteSync(join(a, 'f'), 'one');
  assert.equal(readFileSync(join(a, 'f'), 'utf8'), 'one');
  chmodSync(dir, 0o777); // others may write dir: they could swap a
  assert.equal(byPath(a), false, 'checked again at the next turn: the descriptor from then on');
  atomicWriteSync(join(a, 'f'), 'two');
  assert.equal(readFileSync(join(a, 'f'), 'utf8'), 'two');
  chmodSync(dir, 0o1777); // sticky: only an entry's owner may rename it
  const b = join(dir, 'b');
  mkdirSync(b);
  assert.equal(byPath(b), true);
  if (ROOT) {
    const c = join(dir, 'c');
    mkdirSync(c);
    chownSync(c, NOBODY, NOBODY); // nobody could rename c away and put a symlink in its place
    assert.equal(byPath(c), false);
  }
  symlinkSync(b, join(dir, 'link'));
  assert.equal(byPath(join(dir, 'link')), false, 'a path through a symlink keeps the descriptor');
  chmodSync(dir, 0o700);
});
