// Owners known only to NSS, for real: the mgmt CLI runs in a private mount namespace whose /etc/nsswitch.conf adds
// Debian's libnss-extrausers after `files` (users and groups from /var/lib/extrausers/{passwd,group}, bind-mounted
// from a scratch directory), as an LDAP or SSSD host adds its directory. /usr/bin/getent is bind-mounted with a
// wrapper that counts its runs. The host's own files and name service are not changed.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/mgmt.js', import.meta.url));
const EXTRAUSERS_LIB = ['/usr/lib/libnss_extrausers.so.2', '/usr/lib/x86_64-linux-gnu/libnss_extrausers.so.2', '/lib/x86_64-linux-gnu/libnss_extrausers.so.2'];
const skip = process.getuid?.() !== 0 ? 'needs root (mount namespaces, chown)' : false;

let sandbox = '';
const live = new Set<ChildProcess>();

/** The NSS sandbox: nsswitch.conf with extrausers, the extra users' files, and the counting getent. */
before(() => {
  if (skip) return;
  if (!EXTRAUSERS_LIB.some((p) => existsSync(p))) {
    throw new Error('libnss-extrausers is not installed: run `node scripts/system-deps.mjs` (as root) first');
  }
  sandbox = mkdtempSync(join(tmpdir(), 'mgmt-nss-'));
  const conf = readFileSync('/etc/nsswitch.conf', 'utf8').replace(
    /^(passwd|group):(\s*)(.*)$/gm,
    (_l, db: string, sp: string, rest: string) => `${db}:${sp}files extrausers ${rest.replace(/\bfiles\b/, '').trim()}`,
  );
  assert.match(conf, /^passwd:\s*files extrausers/m);
  writeFileSync(join(sandbox, 'nsswitch.conf'), conf);
  mkdirSync(join(sandbox, 'extrausers'));
  copyFileSync('/usr/bin/getent', join(sandbox, 'getent.real'));
  writeFileSync(join(sandbox, 'getent'), `#!/bin/sh\necho "$$ $#" >> ${join(sandbox, 'getent.log')}\nexec ${join(sandbox, 'getent.real')} "$@"\n`, {
    mode: 0o755,
  });
});
afterEach(() => {
  for (const c of live) c.kill('SIGKILL');
});
after(() => {
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

/** The directory's users and groups (what LDAP would serve), and an empty getent log. */
function directory(users: string[], groups: string[]): void {
  writeFileSync(join(sandbox, 'extrausers', 'passwd'), users.map((l) => `${l}\n`).join(''));
  writeFileSync(join(sandbox, 'extrausers', 'group'), groups.map((l) => `${l}\n`).join(''));
  writeFileSync(join(sandbox, 'getent.log'), '');
}

const getentRuns = () => readFileSync(join(sandbox, 'getent.log'), 'utf8').split('\n').filter(Boolean);

interface Run {
  readonly child: ChildProcess;
  stderr(): string;
  readonly exited: Promise<number>;
}

/** `mgmt ARGS` inside the namespace (unshare without --fork execs: the child's pid is mgmt's). */
function mgmtInNss(args: string[]): Run {
  const mounts = [
    `mount --bind ${join(sandbox, 'nsswitch.conf')} /etc/nsswitch.conf`,
    `mount --bind ${join(sandbox, 'extrausers')} /var/lib/extrausers`,
    `mount --bind ${join(sandbox, 'getent')} /usr/bin/getent`,
  ].join(' && ');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec "$@"`, 'sh', process.execPath, BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code) => {
      live.delete(child);
      resolve(code ?? 128);
    }),
  );
  return { child, stderr: () => err, exited };
}

async function until(pred: () => boolean, what: string, run: Run, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; stderr:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ALICE = 'nssalice:x:71001:71002:NSS Alice:/home/nssalice:/bin/sh';
const STAFF = 'nssstaff:x:71002:nssalice';

test('a file owned by a user and group only NSS knows: owner set by name, drift repaired, an exec runs as that user', { skip }, async () => {
  directory([ALICE], [STAFF]);
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-nss-owner-'));
  try {
    const f = join(dir, 'owned');
    writeFileSync(f, 'hi\n');
    const g = join(dir, 'g.yaml');
    writeFileSync(
      g,
      `graph: nss
resources:
  file:
  - {name: owned, path: ${f}, owner: nssalice, group: nssstaff}
  exec:
  - {name: whoami, shell: sh, cmd: 'id -u; id -g', user: nssalice}
`,
    );
    assert.equal(lstatSync(f).uid, 0);
    const run = mgmtInNss(['run', '--yaml', g, '--tmp-prefix']);
    await until(() => lstatSync(f).uid === 71001 && lstatSync(f).gid === 71002, 'the owner set', run);
    await until(() => /exec\[whoami\]: stdout: 71002$/m.test(run.stderr()), "the exec's output", run);
    assert.match(run.stderr(), /file\[owned\]: owner root -> nssalice/);
    assert.match(run.stderr(), /file\[owned\]: group root -> nssstaff/);
    assert.match(run.stderr(), /exec\[whoami\]: stdout: 71001$/m, 'the exec ran as the NSS user, with its primary group from NSS');
    // Drift: someone gives the file back to root; the watch sees it and the owner is set again.
    chownSync(f, 0, 0);
    await until(() => lstatSync(f).uid === 71001 && lstatSync(f).gid === 71002, 'the drift repaired', run);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(getentRuns().length >= 1, 'NSS was asked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an owner no source knows: a clear error naming the resource, where the name was looked for, and what to do', { skip }, async () => {
  directory([ALICE], [STAFF]);
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-nss-owner-'));
  try {
    const f = join(dir, 'owned');
    writeFileSync(f, 'hi\n');
    const g = join(dir, 'g.yaml');
    const f2 = join(dir, 'grouped');
    writeFileSync(f2, 'hi\n');
    writeFileSync(g, `graph: nss\nresources:\n  file:\n  - {name: owned, path: ${f}, owner: nssalcie}\n  - {name: grouped, path: ${f2}, group: nssstaf}\n`);
    const run = mgmtInNss(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(await run.exited, 1, run.stderr());
    assert.match(
      run.stderr(),
      /file\[owned\]: .*no such user 'nssalcie' \(not in \/etc\/passwd, and `getent passwd nssalcie` finds nothing\): create it first, or correct the name/,
    );
    assert.match(run.stderr(), /file\[grouped\]: .*no such group 'nssstaf' \(not in \/etc\/group, and `getent group nssstaf` finds nothing\)/);
    assert.equal(lstatSync(f).uid, 0, 'nothing changed');
    assert.equal(lstatSync(f2).gid, 0, 'nothing changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('10,000 files owned by 10,000 directory users: a handful of getent runs, every owner right', { skip }, async () => {
  const n = 10_000;
  const users = Array.from({ length: n }, (_, i) => `nssu${i}:x:${200_000 + i}:71002::/home/nssu${i}:/bin/sh`);
  directory(users, [STAFF]);
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-nss-owner-'));
  try {
    const lines = ['graph: many', 'resources:', '  file:', `  - {name: d, path: ${dir}/d/, state: exists}`];
    for (let i = 0; i < n; i++) lines.push(`  - {name: f${i}, path: ${dir}/d/f${i}, state: exists, content: "x", owner: nssu${i}}`);
    const g = join(dir, 'g.yaml');
    writeFileSync(g, `${lines.join('\n')}\n`);
    const t0 = Date.now();
    const run = mgmtInNss(['run', '--yaml', g, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(await run.exited, 0, run.stderr().slice(-3000));
    const ms = Date.now() - t0;
    for (let i = 0; i < n; i++) assert.equal(lstatSync(join(dir, 'd', `f${i}`)).uid, 200_000 + i, `f${i}`);
    const runs = getentRuns();
    const keys = runs.reduce((sum, r) => sum + Number(r.split(' ')[1]) - 2, 0); // "$#" minus the database and "--"
    console.log(`# ${n} owners through NSS: ${runs.length} getent runs (${keys} keys), mgmt run ${ms} ms`);
    assert.ok(runs.length <= 30, `${runs.length} getent runs`);
    assert.ok(keys >= n, `every owner was asked of NSS (${keys} keys)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
