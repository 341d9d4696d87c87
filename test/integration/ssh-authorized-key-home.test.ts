// The ssh:authorized_key kind in a real user's home: the user is created with useradd and removed with userdel in
// cleanup, so it needs root. The kind against files given by `target`: test/unit/ssh-authorized-key.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { sshAuthorizedKeyKind } from '../../src/resources/ssh-authorized-key.js';
import { passwdEntry } from '../../src/system/tools/ids.js';
import { check, validResource } from '../harness/resource-context.js';

const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIBx';
const K2 = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQ';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mgmt-sshkey-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const make = (name: string, params: Record<string, unknown>) => validResource(sshAuthorizedKeyKind, name, params);
describe('ssh:authorized_key in a real user’s home', { skip: process.getuid?.() !== 0 && 'needs root to create a user' }, () => {
  const user = `mgmtak${process.pid % 100000}`;
  let home = '';
  let base = '';
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'mgmt-sshkey-home-'));
    home = join(base, user);
    const r = spawnSync('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', '--user-group', user], { encoding: 'utf8' });
    assert.equal(r.status, 0, `useradd: ${r.stderr}`);
  });
  after(() => {
    spawnSync('userdel', [user]);
    spawnSync('groupdel', [user]);
    rmSync(base, { recursive: true, force: true });
  });

  it('finds the home in /etc/passwd and creates ~/.ssh (0700) and the file (0600) owned by the user', async () => {
    mkdirSync(home);
    const pw = await passwdEntry(user);
    chownSync(home, pw.uid, pw.gid);
    const { r } = make('me@laptop', { user, type: 'ssh-ed25519', key: K1 });
    assert.equal(await check(r), false);
    const ssh = join(home, '.ssh');
    const file = join(ssh, 'authorized_keys');
    assert.equal(readFileSync(file, 'utf8'), `ssh-ed25519 ${K1} me@laptop\n`);
    for (const [p, mode] of [
      [ssh, 0o700],
      [file, 0o600],
    ] as const) {
      const st = statSync(p);
      assert.equal(st.mode & 0o7777, mode, p);
      assert.deepEqual([st.uid, st.gid], [pw.uid, pw.gid], p);
    }
    assert.equal(await check(r), true);
  });

  it('refuses a ~/.ssh that the user made a symlink (to /root/.ssh, say)', async () => {
    const ssh = join(home, '.ssh');
    rmSync(ssh, { recursive: true, force: true });
    const decoy = join(base, 'decoy');
    mkdirSync(decoy, { recursive: true });
    symlinkSync(decoy, ssh);
    await assert.rejects(check(make('me@laptop', { user, type: 'ssh-ed25519', key: K1 }).r), /\.ssh is a symlink; not following it/);
    assert.throws(() => statSync(join(decoy, 'authorized_keys')), /ENOENT/);
  });

  it('says when the user does not exist', async () => {
    await assert.rejects(
      check(make('k', { user: 'mgmt-no-such-user', type: 'ssh-rsa', key: K2 }).r),
      /no such user 'mgmt-no-such-user' \(not in \/etc\/passwd, and `getent passwd mgmt-no-such-user` finds nothing\)/,
    );
  });
});
