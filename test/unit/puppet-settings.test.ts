import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PRIVATE_SETTINGS, privateArgs, puppetEnv } from '../../src/puppet/runtime/puppet-home.js';
import { BOOT_FEATURE, rubyBootEnv, rubyCompileCacheDir } from '../../src/puppet/runtime/ruby-boot.js';
import {
  checkSettings,
  DEBIAN_MODULES,
  PUPPET_SETTINGS,
  settingFlagOptions,
  settingsArgs,
  settingsFromFlags,
  settingsHelp,
  withNodeCertname,
} from '../../src/puppet/runtime/puppet-settings.js';

describe('Puppet settings from the command line', () => {
  it("accepts Puppet's spelling and the dashed one; the underscore one wins; modulepath is split", () => {
    const opts = settingFlagOptions();
    assert.ok('hiera_config' in opts && 'hiera-config' in opts && 'environmentpath' in opts);
    assert.deepEqual(settingsFromFlags({ 'hiera-config': '/a.yaml', environment: 'staging', modulepath: '/m1::/m2' }), {
      environment: 'staging',
      hiera_config: '/a.yaml',
      modulepath: ['/m1', '/m2'],
    });
    assert.equal(settingsFromFlags({ hiera_config: '/u.yaml', 'hiera-config': '/d.yaml' }).hiera_config, '/u.yaml');
  });

  it("passes them to Puppet as its own flags, paths made absolute, Debian's modules appended to a modulepath", () => {
    assert.deepEqual(settingsArgs({ confdir: 'conf', environment: 'staging', modulepath: ['mods'], environmentpath: 'a:/b', certname: 'n1' }), [
      '--confdir',
      resolve('conf'),
      '--environment',
      'staging',
      '--environmentpath',
      `${resolve('a')}:/b`,
      '--modulepath',
      `${resolve('mods')}:${DEBIAN_MODULES}`,
      '--certname',
      'n1',
    ]);
    assert.deepEqual(settingsArgs({ modulepath: [DEBIAN_MODULES, '/x'] }), ['--modulepath', `${DEBIAN_MODULES}:/x`]);
    assert.deepEqual(settingsArgs({}), [], "nothing given: everything is Puppet's own");
  });

  it('the node is the certname unless --certname is given', () => {
    assert.deepEqual(withNodeCertname({}, 'web1'), { certname: 'web1' });
    assert.deepEqual(withNodeCertname({ certname: 'c' }, 'web1'), { certname: 'c' });
    assert.deepEqual(withNodeCertname({ environment: 'e' }, undefined), { environment: 'e' });
  });

  it('--help lists every setting', () => {
    const help = settingsHelp();
    for (const name of Object.keys(PUPPET_SETTINGS)) assert.match(help, new RegExp(`^  --${name} `, 'm'));
  });
});

describe('checking the files and directories the user named', () => {
  it('names the flag, the path and what to do; a puppet.conf in --confdir must be a readable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mgmt-settings-'));
    try {
      writeFileSync(join(dir, 'hiera.yaml'), 'version: 5\n');
      assert.deepEqual(
        checkSettings({ confdir: dir, hiera_config: join(dir, 'hiera.yaml'), ssldir: dir, codedir: dir, environmentpath: `/nonexistent:${dir}` }),
        [],
      );
      const problems = checkSettings({
        config: join(dir, 'missing.conf'),
        hiera_config: dir,
        ssldir: join(dir, 'hiera.yaml'),
        environmentpath: '/nonexistent-a:/nonexistent-b',
      });
      assert.deepEqual(problems, [
        `--config ${join(dir, 'missing.conf')}: no such file; give a readable puppet.conf, or leave --config out to read CONFDIR/puppet.conf`,
        `--hiera_config ${dir}: not a regular file; give a readable Hiera 5 hiera.yaml, or leave --hiera_config out for CONFDIR/hiera.yaml`,
        `--ssldir ${join(dir, 'hiera.yaml')}: not a directory; give the directory that holds certs/CERTNAME.pem, or leave --ssldir out for Puppet's own`,
        '--environmentpath /nonexistent-a:/nonexistent-b: no readable directory in it; give the directories that hold your environments',
      ]);
      mkdirSync(join(dir, 'puppet.conf'));
      assert.deepEqual(checkSettings({ confdir: dir }), [
        `${join(dir, 'puppet.conf')} (puppet.conf of --confdir): not a regular file; make it readable, or point --config at another`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what Puppet writes goes to our private directory', () => {
  it('every private setting is under the directory, given on the command line', () => {
    const args = privateArgs('/p');
    assert.equal(args.length, PRIVATE_SETTINGS.length * 2);
    for (const [setting] of PRIVATE_SETTINGS) {
      const value = args[args.indexOf(`--${setting}`) + 1]!;
      assert.ok(value.startsWith('/p/'), `${setting} -> ${value}`);
    }
    for (const s of ['vardir', 'statedir', 'statefile', 'lastrunreport', 'client_datadir', 'clientbucketdir', 'rundir', 'logdir']) {
      assert.ok(args.includes(`--${s}`), s);
    }
  });

  it("our module's lib goes first on RUBYLIB, before the user's", () => {
    assert.equal(puppetEnv('/m', { PATH: '/bin' }).RUBYLIB, '/m/lib');
    assert.equal(puppetEnv('/m', { RUBYLIB: '/u' }).RUBYLIB, '/m/lib:/u');
  });

  it("loads our boot file first, keeping the user's RUBYOPT after it", () => {
    const none = { MGMT_RUBY_CACHE: '' };
    assert.equal(puppetEnv('/m', none).RUBYOPT, `-r${BOOT_FEATURE}`);
    assert.equal(puppetEnv('/m', { ...none, RUBYOPT: '-W0' }).RUBYOPT, `-r${BOOT_FEATURE} -W0`);
    assert.equal(puppetEnv('/m', none).MGMT_RUBY_CACHE, '', 'an empty MGMT_RUBY_CACHE turns the cache off');
  });

  it('keeps the Ruby compile cache in MGMT_RUBY_CACHE, else under XDG_CACHE_HOME or ~/.cache, created private', () => {
    assert.equal(rubyCompileCacheDir({ HOME: '/h' }), '/h/.cache/mgmt/ruby');
    assert.equal(rubyCompileCacheDir({ HOME: '/h', XDG_CACHE_HOME: '/x' }), '/x/mgmt/ruby');
    assert.equal(rubyCompileCacheDir({ HOME: '/h', XDG_CACHE_HOME: 'relative' }), '/h/.cache/mgmt/ruby');
    assert.equal(rubyCompileCacheDir({ HOME: '/h', MGMT_RUBY_CACHE: '/c' }), '/c');
    assert.equal(rubyCompileCacheDir({ HOME: '/h', MGMT_RUBY_CACHE: '' }), undefined);
    assert.equal(rubyCompileCacheDir({ MGMT_RUBY_CACHE: 'relative' }), undefined);
    assert.equal(rubyCompileCacheDir({}), undefined);
    const home = mkdtempSync(join(tmpdir(), 'mgmt-ruby-boot-'));
    try {
      const env = rubyBootEnv({ HOME: home });
      assert.equal(env.MGMT_RUBY_CACHE, join(home, '.cache', 'mgmt', 'ruby'));
      assert.equal(statSync(env.MGMT_RUBY_CACHE).mode & 0o777, 0o700);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
