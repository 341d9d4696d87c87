// Owner names through NSS (src/system/tools/nss.ts, ids.ts): local files first, then getent, batched, with a
// deadline and a short cache. A stand-in getent (a small script answering from files in a scratch directory, and
// counting its runs in a log) plays the name service; the last test runs the real getent. The real thing, with an
// NSS source configured in a private mount namespace, is test/integration/nss-owner.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdResolver, UnknownAccountError } from '../../src/system/tools/ids.js';
import { NssError, NssLookup, type NssOptions } from '../../src/system/tools/nss.js';
import { isRunning } from '../../src/system/proc/launcher.js';

let dir = '';
let fake = '';

// The stand-in: `getent DB -- KEY...` prints the entry of each key it knows (by name, or by id for a number) and
// exits 2 when one is missing, as getent does. Its behaviour comes from the file `mode`: `hang` (ignores SIGTERM
// and never answers), `fold` (names are matched case-insensitively, the answer spelled in lower case, as SSSD
// does without case sensitivity).
const FAKE = `
import { appendFileSync, readFileSync } from 'node:fs';
const dir = process.argv[2];
const [db, dashes, ...keys] = process.argv.slice(3);
appendFileSync(dir + '/runs', process.pid + ' ' + db + ' ' + keys.length + '\\n');
let mode = '';
try { mode = readFileSync(dir + '/mode', 'utf8').trim(); } catch {}
if (mode === 'hang') {
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1000);
} else {
  if (dashes !== '--') { console.error('getent: expected --'); process.exit(1); }
  const byName = new Map(), byId = new Map();
  for (const l of readFileSync(dir + '/' + db, 'utf8').split('\\n')) {
    if (l === '') continue;
    const f = l.split(':');
    if (!byName.has(f[0])) byName.set(f[0], l);
    if (!byId.has(f[2])) byId.set(f[2], l);
  }
  let out = '', rc = 0;
  for (const k of keys) {
    const l = /^[0-9]+$/.test(k) ? byId.get(k) : byName.get(mode === 'fold' ? k.toLowerCase() : k);
    if (l === undefined) rc = 2; else out += l + '\\n';
  }
  process.stdout.write(out, () => process.exit(rc));
}
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-nss-'));
  writeFileSync(join(dir, 'fake-getent.mjs'), FAKE);
  fake = join(dir, 'getent');
  writeFileSync(fake, `#!/bin/sh\nexec ${process.execPath} ${join(dir, 'fake-getent.mjs')} ${dir} "$@"\n`);
  chmodSync(fake, 0o755);
  writeFileSync(join(dir, 'etc-passwd'), 'root:x:0:0:root:/root:/bin/bash\nlocalbob:x:1500:1500::/home/localbob:/bin/sh\n');
  writeFileSync(join(dir, 'etc-group'), 'root:x:0:\nlocalbob:x:1500:\n');
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh name service (passwd and group files of the stand-in), local files, and a resolver over both. */
function setup(users: string[], groups: string[], opts: NssOptions = {}): { ids: IdResolver; nss: NssLookup; runs: () => string[] } {
  writeFileSync(join(dir, 'passwd'), users.map((l) => `${l}\n`).join(''));
  writeFileSync(join(dir, 'group'), groups.map((l) => `${l}\n`).join(''));
  writeFileSync(join(dir, 'runs'), '');
  writeFileSync(join(dir, 'mode'), '');
  const nss = new NssLookup({ getent: [fake], ...opts });
  const ids = new IdResolver({ passwdFile: join(dir, 'etc-passwd'), groupFile: join(dir, 'etc-group'), nss });
  const runs = () => readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean);
  return { ids, nss, runs };
}

/** Waits for a condition another process brings about (polled every 10 ms, 5 s at most). */
async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ALICE = 'ldapalice:x:71001:71002:LDAP Alice:/home/ldapalice:/bin/sh';
const STAFF = 'ldapstaff:x:71002:ldapalice';

test('a name /etc/passwd holds starts no process; a name it lacks is asked of NSS (uid, gid, home, and back to the name)', async () => {
  const { ids, nss, runs } = setup([ALICE], [STAFF]);
  assert.equal(await ids.resolveUser('localbob'), 1500);
  assert.equal(await ids.resolveGroup('localbob'), 1500);
  assert.equal(await ids.resolveUser('4242'), 4242);
  assert.equal(await ids.nameOf(0, 'passwd'), 'root');
  assert.equal(nss.runs, 0, 'local names and numbers need no getent');
  assert.equal(await ids.resolveUser('ldapalice'), 71001);
  assert.equal(await ids.resolveGroup('ldapstaff'), 71002);
  assert.deepEqual(await ids.passwdEntry('ldapalice'), { name: 'ldapalice', uid: 71001, gid: 71002, home: '/home/ldapalice' });
  assert.equal(await ids.nameOf(71001, 'passwd'), 'ldapalice');
  assert.equal(await ids.nameOf(71002, 'group'), 'ldapstaff');
  assert.equal(await ids.nameOf(4242, 'passwd'), '4242', 'an id nobody knows is shown as the number');
  assert.equal(nss.runs, runs().length);
});

test('an unknown name is an error that says where it was looked for and what to do; the files-only resolver says so too', async () => {
  const { ids } = setup([ALICE], [STAFF]);
  await assert.rejects(ids.resolveUser('ghost'), (e: Error) => {
    assert.ok(e instanceof UnknownAccountError);
    assert.equal(
      e.message,
      `no such user 'ghost' (not in ${join(dir, 'etc-passwd')}, and \`getent passwd ghost\` finds nothing): create it first, or correct the name`,
    );
    return true;
  });
  await assert.rejects(
    ids.resolveGroup('ghosts'),
    /^UnknownAccountError: no such group 'ghosts' \(not in .*etc-group, and `getent group ghosts` finds nothing\)/,
  );
  await assert.rejects(ids.passwdEntry('ghost'), UnknownAccountError);
  await assert.rejects(ids.resolveUser('99999999999'), /user id 99999999999 is out of range/);
  const filesOnly = new IdResolver({ passwdFile: join(dir, 'etc-passwd'), groupFile: join(dir, 'etc-group'), nss: undefined });
  await assert.rejects(filesOnly.resolveUser('ldapalice'), /no such user 'ldapalice' \(in .*etc-passwd\)/);
});

test('the storm: 10,000 distinct directory users resolved at once start a handful of getent runs, not 10,000', async () => {
  const n = 10_000;
  const users = Array.from({ length: n }, (_, i) => `u${i}:x:${100_000 + i}:100:user ${i}:/home/u${i}:/bin/sh`);
  const { ids, nss, runs } = setup(users, ['staff:x:100:']);
  const t0 = performance.now();
  const uids = await Promise.all(users.map((_, i) => ids.resolveUser(`u${i}`)));
  const ms = performance.now() - t0;
  uids.forEach((uid, i) => assert.equal(uid, 100_000 + i));
  const started = runs();
  assert.equal(nss.runs, started.length);
  assert.ok(started.length <= 15, `${started.length} getent runs for ${n} names: ${started.join(', ')}`);
  assert.ok(
    started.every((r) => Number(r.split(' ')[2]) <= 1000),
    'at most 1,000 keys per run',
  );
  // The same 10,000 again, and the names back from the ids (as change messages need them): cached, then batched.
  await Promise.all(users.map((_, i) => ids.resolveUser(`u${i}`)));
  assert.equal(runs().length, started.length, 'answers are reused');
  const names = await Promise.all(users.map((_, i) => ids.nameOf(100_000 + i, 'passwd')));
  names.forEach((name, i) => assert.equal(name, `u${i}`));
  assert.ok(runs().length <= 2 * started.length + 1, `${runs().length} runs in all`);
  // One name asked 10,000 times at once: one run.
  const one = setup([ALICE], [STAFF]);
  await Promise.all(Array.from({ length: n }, () => one.ids.resolveUser('ldapalice')));
  assert.equal(one.runs().length, 1);
  console.log(`# ${n} distinct names: ${started.length} getent runs, ${ms.toFixed(0)} ms`);
});

test('answers are kept for a short time: an entry found for foundTtlMs, a missing one for missingTtlMs; a local account is seen at once', async () => {
  let now = 0;
  const { ids, runs } = setup([ALICE], [STAFF], { now: () => now, foundTtlMs: 30_000, missingTtlMs: 5_000 });
  await assert.rejects(ids.resolveUser('carol'), UnknownAccountError);
  assert.equal(await ids.resolveUser('ldapalice'), 71001);
  assert.equal(runs().length, 2);
  // carol is added to the directory, alice's uid changes there.
  writeFileSync(join(dir, 'passwd'), `ldapalice:x:71009:71002::/home/ldapalice:/bin/sh\ncarol:x:72000:100::/home/carol:/bin/sh\n`);
  now = 4_999;
  await assert.rejects(ids.resolveUser('carol'), UnknownAccountError, 'still remembered as missing');
  assert.equal(await ids.resolveUser('ldapalice'), 71001, 'still remembered');
  assert.equal(runs().length, 2);
  now = 5_001;
  assert.equal(await ids.resolveUser('carol'), 72000, 'asked again once the missing answer expired');
  assert.equal(await ids.resolveUser('ldapalice'), 71001);
  now = 30_001;
  assert.equal(await ids.resolveUser('ldapalice'), 71009, 'asked again once the found answer expired');
  assert.equal(runs().length, 4);
  // dave: unknown to NSS (remembered), then created locally (as a user resource would): found at once.
  await assert.rejects(ids.resolveUser('dave'), UnknownAccountError);
  appendFileSync(join(dir, 'etc-passwd'), 'dave:x:1600:1600::/home/dave:/bin/sh\n');
  assert.equal(await ids.resolveUser('dave'), 1600);
  assert.equal(runs().length, 5);
  writeFileSync(join(dir, 'etc-passwd'), 'root:x:0:0:root:/root:/bin/bash\nlocalbob:x:1500:1500::/home/localbob:/bin/sh\n');
});

test('a name service that does not answer: the deadline kills getent, every waiting lookup fails saying so, and nothing is remembered', async () => {
  const { ids, nss, runs } = setup([ALICE], [STAFF], { timeoutMs: 300 });
  writeFileSync(join(dir, 'mode'), 'hang');
  const t0 = performance.now();
  const results = await Promise.allSettled([nss.lookup('passwd', 'ldapalice'), nss.lookup('passwd', 'other'), nss.lookup('passwd', 'ldapalice')]);
  const ms = performance.now() - t0;
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof NssError, String(r.reason));
    assert.match(
      (r.reason as Error).message,
      /^cannot look up 'ldapalice' and 1 more: getent passwd \(2 keys\) timed out after 0\.3 s; the name service \(see \/etc\/nsswitch\.conf: LDAP, SSSD\.\.\.\) did not answer/,
    );
  }
  assert.ok(ms < 3000, `${ms} ms`);
  const [pid] = runs()[0]!.split(' ');
  assert.equal(isRunning(Number(pid)), false, 'the getent that ignored SIGTERM was killed');
  // Messages do not fail on it: the id is shown as a number.
  assert.equal(await ids.nameOf(71001, 'passwd'), '71001');
  writeFileSync(join(dir, 'mode'), '');
  assert.equal(await ids.resolveUser('ldapalice'), 71001, 'the failure was not remembered');
  assert.equal(nss.runs, 3, 'the two keys in one run, the id for the message, the name again');
});

test('a check cancelled while the name service hangs gives up at once, and the getent nobody waits for any more is killed', async () => {
  const { nss, runs } = setup([ALICE], [STAFF], { timeoutMs: 10_000 });
  writeFileSync(join(dir, 'mode'), 'hang');
  const first = new AbortController();
  const second = new AbortController();
  const t0 = performance.now();
  const a = nss.lookup('passwd', 'ldapalice', first.signal);
  const b = nss.lookup('passwd', 'other', second.signal);
  const c = nss.lookup('passwd', 'other', second.signal);
  await waitFor(() => runs().length === 1, 'getent to start');
  const pid = Number(runs()[0]!.split(' ')[0]);
  first.abort(new Error('check cancelled'));
  await assert.rejects(a, /check cancelled/);
  assert.equal(isRunning(pid), true, 'another lookup still waits for the run');
  second.abort(new Error('shutting down'));
  await assert.rejects(b, /shutting down/);
  await assert.rejects(c, /shutting down/);
  await waitFor(() => !isRunning(pid), 'the abandoned getent to be killed');
  assert.ok(performance.now() - t0 < 5000, 'long before the 10 s deadline');
  writeFileSync(join(dir, 'mode'), '');
  assert.equal((await nss.lookup('passwd', 'ldapalice'))?.[2], '71001', 'nothing was remembered from the cancelled run');
  assert.equal(nss.runs, 2);
});

test('getent missing is an error that names the package', async () => {
  const nss = new NssLookup({ getent: [join(dir, 'no-such-getent')] });
  await assert.rejects(nss.lookup('passwd', 'alice'), /cannot look up 'alice' through NSS: getent is not installed .*install the Debian package "libc-bin"/);
});

test('a service that answers in another spelling (SSSD without case sensitivity): each key gets its own entry', async () => {
  const { ids, nss } = setup([ALICE, 'bob:x:71003:71002::/home/bob:/bin/sh'], [STAFF]);
  writeFileSync(join(dir, 'mode'), 'fold');
  const [a, b, g] = await Promise.all([nss.lookup('passwd', 'LDAPAlice'), nss.lookup('passwd', 'bob'), nss.lookup('passwd', 'ghost')]);
  assert.equal(a?.[2], '71001');
  assert.equal(b?.[2], '71003');
  assert.equal(g, undefined);
  assert.equal(nss.runs, 3, 'one run for the three, then one each for the two it could not pair');
  // Every key found: the lines pair up in order, in one run.
  const [x, y] = await Promise.all([nss.lookup('passwd', 'BOB'), nss.lookup('passwd', 'LdapAlice')]);
  assert.deepEqual([x?.[2], y?.[2]], ['71003', '71001']);
  assert.equal(nss.runs, 4);
  assert.equal(await ids.resolveUser('LDAPAlice'), 71001, 'remembered under the spelling asked');
  assert.equal(nss.runs, 4);
});

test('the real getent: keys that look like options are only keys, keys that cannot match are not asked', async () => {
  const nss = new NssLookup();
  assert.equal((await nss.lookup('passwd', 'root'))?.[2], '0');
  assert.equal((await nss.lookup('passwd', '0'))?.[0], 'root');
  assert.equal((await nss.lookup('group', 'root'))?.[2], '0');
  assert.equal(await nss.lookup('passwd', '--help'), undefined);
  assert.equal(await nss.lookup('passwd', '-s'), undefined);
  const before = nss.runs;
  for (const k of ['', 'a:b', 'a\nb', 'a\0b']) assert.equal(await nss.lookup('passwd', k), undefined);
  assert.equal(nss.runs, before);
});
