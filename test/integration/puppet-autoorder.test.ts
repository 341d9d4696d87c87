// Issue 12, point 1: a file owned by a user that the same manifest creates, the user declared after the file.
// Puppet orders them by the file's autorequire of its owner; so does `mgmt puppet`, which converges in ONE run.
// Under --noop the file reports what it would change ("not yet created"), not "no such user". A File without
// ensure whose path is missing is left alone, as Puppet does. The account is a real one (`mgmtaw<hex>`, the file
// kind looks owners up in /etc/passwd), removed at the end; needs root, as the other account tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_TOOL_PATH } from '../../src/system/tools/tool-path.js';
import { killAll, mgmtRun } from '../harness/cli.js';
import { whyNoRealUsers } from '../harness/scratch-accounts.js';

const USER = `mgmtaw${randomBytes(3).toString('hex')}`;
const tool = (...argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' }, encoding: 'utf8', timeout: 30_000 });
const uidOf = (name: string): number | undefined => {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(':')[2]);
};

let dir: string | undefined;
before(async () => {
  const why = whyNoRealUsers();
  if (why) throw new Error(`cannot run: ${why}`);
  dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-autoorder-'));
  writeFileSync(join(dir, 'facts.json'), JSON.stringify({ kernel: 'Linux', os: { family: 'Debian' } }));
  mkdirSync(join(dir, 'www'));
  writeFileSync(
    join(dir, 'site.pp'),
    [
      `file { '${dir}/www': owner => '${USER}' }`,
      `file { '${dir}/missing': owner => '${USER}', mode => '0600' }`,
      `user { '${USER}': ensure => present, shell => '/usr/sbin/nologin' }`,
      '',
    ].join('\n'),
  );
});
after(async () => {
  killAll();
  if (uidOf(USER) !== undefined) tool('userdel', USER);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mgmt puppet orders by Puppet’s autorequires', () => {
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
    assert.doesNotMatch(r.stderr, /no such user|does not exist; set state/);
    assert.equal(uidOf(USER), undefined);
    assert.equal(statSync(join(dir!, 'www')).uid, 0);
  });

  it('converges in one run: the user first, then the owner; the File without ensure whose path is missing is left alone', async () => {
    const r = await mgmtRun(['puppet', '--manifest', join(dir!, 'site.pp'), '--facts', join(dir!, 'facts.json'), '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    const uid = uidOf(USER);
    assert.ok(uid !== undefined, r.stderr);
    assert.equal(statSync(join(dir!, 'www')).uid, uid);
    assert.equal(existsSync(join(dir!, 'missing')), false);
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
