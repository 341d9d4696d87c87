// Issue 12, point 1: a file owned by a user that the same manifest creates, the user declared after the file.
// Puppet orders them by the file's autorequire of its owner; so does `mgmt puppet`, which converges in ONE run.
// Under --noop the file reports what it would change ("not yet created"), not "no such user". A File without
// ensure whose path is missing is left alone, as Puppet does. Every other translated type that names a user or
// group the run creates does the same under --noop: ssh_authorized_key (in the user's home, and with a target whose
// directories do not exist yet), cron, exec's user and group (the guards cannot run as an account that does not
// exist: the plan is reported without them), archive's user and group, user's groups. The accounts are real ones (`mgmtaw<hex>`, the kinds look them up in
// /etc/passwd and /etc/group), removed at the end with the user's crontab; needs root, as the other account tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_TOOL_PATH } from '../../src/system/tools/tool-path.js';
import { killAll, mgmtRun } from '../harness/cli.js';
import { killPuppetApplies, puppetApply } from '../harness/puppet-apply.js';
import { whyNoRealUsers } from '../harness/scratch-accounts.js';

const USER = `mgmtaw${randomBytes(3).toString('hex')}`;
const GROUP = `${USER}g`;
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIBxautoorder';
const tool = (...argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, encoding: 'utf8', timeout: 30_000 });
const idOf = (file: string, name: string): number | undefined => {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(':')[2]);
};
const uidOf = (name: string) => idOf('/etc/passwd', name);
const gidOf = (name: string) => idOf('/etc/group', name);
const crontabOf = (user: string) => tool('crontab', '-l', '-u', user);

let dir: string | undefined;
before(async () => {
  const why = whyNoRealUsers();
  if (why) throw new Error(`cannot run: ${why}`);
  dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-autoorder-'));
  chmodSync(dir, 0o755); // the user's exec writes in its home below
  writeFileSync(join(dir, 'facts.json'), JSON.stringify({ kernel: 'Linux', os: { family: 'Debian' } }));
  mkdirSync(join(dir, 'www'));
  mkdirSync(join(dir, 'src', 'app'), { recursive: true });
  writeFileSync(join(dir, 'src', 'app', 'readme.txt'), 'hello\n');
  const tar = tool('tar', '-cf', join(dir, 'src', 'app.tar'), '-C', join(dir, 'src'), 'app/readme.txt');
  assert.equal(tar.status, 0, tar.stderr);
  writeFileSync(
    join(dir, 'site.pp'),
    [
      `file { '${dir}/www': owner => '${USER}' }`,
      `file { '${dir}/missing': owner => '${USER}', mode => '0600' }`,
      `file { '${dir}/home': ensure => directory, owner => '${USER}' }`,
      `ssh_authorized_key { 'me@home': user => '${USER}', type => 'ssh-ed25519', key => '${KEY}', require => File['${dir}/home'] }`,
      `file { '${dir}/keys': ensure => directory }`,
      `ssh_authorized_key { 'me@keys': user => '${USER}', type => 'ssh-ed25519', key => '${KEY}', target => '${dir}/keys/${USER}/authorized_keys', require => File['${dir}/keys'] }`,
      `cron { 'nightly': user => '${USER}', command => '/bin/true', hour => 2, minute => 0 }`,
      `exec { 'as-user': command => '/bin/sh -c "id -un > ${dir}/home/ran-as"', user => '${USER}', unless => '/bin/sh -c "test -s ${dir}/home/ran-as"', require => File['${dir}/home'] }`,
      `exec { 'as-group': command => '/bin/sh -c "id -gn > ${dir}/ran-group"', group => '${GROUP}', creates => '${dir}/ran-group', require => Group['${GROUP}'] }`,
      // Puppet's exec autorequires its user, not its group: the group is required explicitly, as Puppet needs it.
      `group { '${GROUP}': ensure => present }`,
      `archive { '${dir}/app.tar': source => 'file://${dir}/src/app.tar', extract => true, extract_path => '${dir}/home', creates => '${dir}/home/app/readme.txt', user => '${USER}', group => '${GROUP}', require => File['${dir}/home'] }`,
      `user { '${USER}': ensure => present, home => '${dir}/home', shell => '/usr/sbin/nologin', groups => ['${GROUP}'] }`,
      '',
    ].join('\n'),
  );
});
after(async () => {
  killAll();
  killPuppetApplies();
  if (uidOf(USER) !== undefined) {
    tool('crontab', '-r', '-u', USER);
    tool('userdel', USER);
  }
  if (gidOf(USER) !== undefined) tool('groupdel', USER);
  if (gidOf(GROUP) !== undefined) tool('groupdel', GROUP);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mgmt puppet orders by Puppet’s autorequires; --noop reports the plan for accounts the run creates', () => {
  it('--noop reports the plan: the user would be created, the owner would be set "(not yet created)"', async () => {
    const r = await mgmtRun([
      'puppet',
      '--manifest',
      join(dir!, 'site.pp'),
      '--facts',
      join(dir!, 'facts.json'),
      '--noop',
      '--converged-timeout',
      '0',
      '--tmp-prefix',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`file\\[${dir!}/www\\]: would set owner to ${USER} \\(not yet created\\)`));
    assert.match(
      r.stderr,
      new RegExp(`ssh:authorized_key\\[me@home\\]: would add the key "me@home" to ~${USER}/\\.ssh/authorized_keys \\(user ${USER} not yet created\\)`),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `ssh:authorized_key\\[me@keys\\]: would create ${dir!}/keys/${USER} \\(0700\\) and add the key "me@keys" to ${dir!}/keys/${USER}/authorized_keys \\(${dir!}/keys does not exist yet\\)`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(`crontab:entry\\[nightly\\]: would add the entry "nightly" to ${USER}'s crontab: 0 2 \\* \\* \\* \\(the user does not exist yet\\)`),
    );
    assert.match(r.stderr, new RegExp(`exec\\[as-user\\]: would run: .*\\(as user '${USER}', not yet created; nifcmd not run\\)`));
    assert.match(r.stderr, new RegExp(`exec\\[as-group\\]: would run: .*\\(as group '${GROUP}', not yet created\\)`));
    assert.match(r.stderr, new RegExp(`user\\[${USER}\\]: would create the user \\(groups ${GROUP}, .*\\), but group '${GROUP}' does not exist \\(yet\\)`));
    assert.match(
      r.stderr,
      new RegExp(`archive\\[${dir!}/app\\.tar\\]: would download file://${dir!}/src/app\\.tar to ${dir!}/app\\.tar and extract it into ${dir!}/home`),
    );
    assert.doesNotMatch(r.stderr, /no such (user|group)|does not exist; set state|cannot create/);
    assert.equal(uidOf(USER), undefined);
    assert.equal(gidOf(GROUP), undefined);
    assert.equal(statSync(join(dir!, 'www')).uid, 0);
    assert.equal(existsSync(join(dir!, 'keys')), false);
    assert.equal(existsSync(join(dir!, 'home')), false);
    assert.equal(existsSync(join(dir!, 'app.tar')), false);
  });

  it('puppet apply --noop on the same manifest fails nothing either, and plans the same resources', async () => {
    const r = await puppetApply(join(dir!, 'puppet-noop'), join(dir!, 'site.pp'), { noop: true, logLevel: 'notice' });
    assert.equal(r.code, 0, r.out); // --detailed-exitcodes: 4 or 6 had a resource failed
    assert.doesNotMatch(r.out.replace(/^Error: Facter:.*$/gm, ''), /^Error:/m);
    for (const ref of [
      `User[${USER}]`,
      `Group[${GROUP}]`,
      'Ssh_authorized_key[me@home]',
      'Ssh_authorized_key[me@keys]',
      'Cron[nightly]',
      'Exec[as-user]',
      'Exec[as-group]',
      `Archive[${dir!}/app.tar]`,
    ]) {
      assert.match(r.out, new RegExp(`${ref.replace(/[[\]]/g, '\\$&')}/\\w+: .*\\(noop\\)`), ref);
    }
    assert.equal(uidOf(USER), undefined);
  });

  it('converges in one run: the user first, then the owner; the File without ensure whose path is missing is left alone', async () => {
    const r = await mgmtRun(['puppet', '--manifest', join(dir!, 'site.pp'), '--facts', join(dir!, 'facts.json'), '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    const uid = uidOf(USER);
    assert.ok(uid !== undefined, r.stderr);
    assert.equal(statSync(join(dir!, 'www')).uid, uid);
    assert.equal(existsSync(join(dir!, 'missing')), false);
    // The keys: ~/.ssh made in the home the run created, and the target's own directory under the one it created.
    for (const file of [join(dir!, 'home', '.ssh', 'authorized_keys'), join(dir!, 'keys', USER, 'authorized_keys')]) {
      assert.equal(readFileSync(file, 'utf8'), `ssh-ed25519 ${KEY} ${file.includes('/keys/') ? 'me@keys' : 'me@home'}\n`, file);
      assert.equal(statSync(file).uid, uid, file);
    }
    assert.match(crontabOf(USER).stdout, /# Puppet Name: nightly\n0 2 \* \* \* \/bin\/true\n/);
    assert.equal(readFileSync(join(dir!, 'home', 'ran-as'), 'utf8'), `${USER}\n`);
    assert.equal(readFileSync(join(dir!, 'ran-group'), 'utf8'), `${GROUP}\n`);
    // The user is in the group the run created; the archive was extracted as that user and group.
    assert.match(readFileSync('/etc/group', 'utf8'), new RegExp(`^${GROUP}:x:${gidOf(GROUP)}:${USER}$`, 'm'));
    const readme = join(dir!, 'home', 'app', 'readme.txt');
    assert.equal(readFileSync(readme, 'utf8'), 'hello\n');
    assert.deepEqual([statSync(readme).uid, statSync(readme).gid], [uid, gidOf(GROUP)]);
    const again = await mgmtRun([
      'puppet',
      '--manifest',
      join(dir!, 'site.pp'),
      '--facts',
      join(dir!, 'facts.json'),
      '--converged-timeout',
      '0',
      '--tmp-prefix',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /owner|created/, again.stderr);
  });
});
