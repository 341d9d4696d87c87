import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-run-'));
  writeFileSync(join(dir, 'facts.json'), JSON.stringify({ kernel: 'Linux', os: { family: 'Debian' } }));
});
afterEach(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});
after(killAll);

const site = (content: string) => `
file { '${dir}/out': ensure => directory }
file { '${dir}/out/app.conf': content => "${content}\\n", mode => '0640' }
exec { 'reload':
  command     => '/bin/sh -c "echo reloaded >> ${dir}/out/reloads"',
  refreshonly => true,
  subscribe   => File['${dir}/out/app.conf'],
}
notify { 'greeting': message => 'hello from puppet' }
`;

describe('mgmt puppet (compile, translate, run)', () => {
  it('applies a manifest: native files, a refresh to an exec, a notify; exits 0 once converged', async () => {
    writeFileSync(join(dir, 'site.pp'), site('port=1'));
    const r = await mgmtRun(['puppet', '--manifest', join(dir, 'site.pp'), '--facts', join(dir, 'facts.json'), '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'out/app.conf'), 'utf8'), 'port=1\n');
    assert.equal(statSync(join(dir, 'out/app.conf')).mode & 0o7777, 0o640);
    assert.equal(readFileSync(join(dir, 'out/reloads'), 'utf8'), 'reloaded\n');
    assert.match(r.stderr, /msg\[greeting\]: hello from puppet/);
    assert.match(r.stderr, /4 resources: 4 native/);
  });

  it('Sensitive values from the manifest are applied and never printed (issue 11, item 3)', async () => {
    const secret = 's3cr3t-pp-Tok3n';
    writeFileSync(
      join(dir, 'secret.pp'),
      `exec { 'secret-cmd': command => Sensitive('/bin/echo ${secret}') }
exec { 'secret-env': command => '/bin/sh -c "echo $TOKEN > ${dir}/token; echo $TOKEN"', environment => Sensitive(['TOKEN=${secret}']) }
exec { 'secret-fails': command => Sensitive('/bin/sh -c "echo ${secret}; exit 5"') }
notify { 'secret-note': message => Sensitive('the token is ${secret}') }
`,
    );
    for (const extra of [[], ['--noop'], ['-v']]) {
      const r = await mgmtRun([
        'puppet',
        '--manifest',
        join(dir, 'secret.pp'),
        '--facts',
        join(dir, 'facts.json'),
        '--converged-timeout',
        '0',
        '--tmp-prefix',
        ...extra,
      ]);
      const all = r.stderr + r.stdout;
      assert.ok(!all.includes(secret) && !all.includes(secret.slice(0, 8)), `printed with ${extra.join(' ')}:\n${all}`);
      if (extra.includes('--noop')) assert.match(r.stderr, /exec\[secret-cmd\]: would run: \[redacted\]/);
      else {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /exec\[secret-cmd\]: ran: \[redacted\]/);
        assert.match(r.stderr, /exec\[secret-fails\]: .*'\[redacted\]' exited with code 5; its output is not shown/);
        assert.equal(readFileSync(join(dir, 'token'), 'utf8'), `${secret}\n`);
      }
    }
  });

  it('--node names the node and is Puppet’s certname ($trusted), as puppet apply --certname', async () => {
    writeFileSync(join(dir, 'node.pp'), `notify { 'who': message => "\${trusted['certname']} \${facts['clientcert']}" }\n`);
    const common = ['--facts', join(dir, 'facts.json'), '--node', 'web1.example.test'];
    const r = await mgmtRun(['puppet', '--manifest', join(dir, 'node.pp'), ...common, '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /msg\[who\]: web1\.example\.test web1\.example\.test/);
    const t = await mgmtRun(['puppet', 'translate', '--manifest', join(dir, 'node.pp'), ...common]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /body: "web1\.example\.test web1\.example\.test"/);
  });

  it('a compile error: Puppet’s message with file and line, exit 1, nothing applied', async () => {
    writeFileSync(join(dir, 'bad.pp'), `file { '${dir}/never': content => 'x' }\nfile { '${dir}/never': content => 'y' }\n`);
    const r = await mgmtRun(['puppet', '--manifest', join(dir, 'bad.pp'), '--facts', join(dir, 'facts.json'), '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Duplicate declaration/);
    assert.match(r.stderr, /bad\.pp:\d+/);
    assert.match(r.stderr, /nothing was applied/);
    assert.equal(existsSync(join(dir, 'never')), false);
  });

  it('--strict refuses a manifest with a fallback resource and applies nothing', async () => {
    writeFileSync(join(dir, 'site.pp'), `${site('x')}\nservice { 'nosuch': ensure => running, enable => mask }\n`);
    const r = await mgmtRun([
      'puppet',
      '--manifest',
      join(dir, 'site.pp'),
      '--facts',
      join(dir, 'facts.json'),
      '--strict',
      '--converged-timeout',
      '0',
      '--tmp-prefix',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--strict=degraded: 1 fallback and 0 degraded resource\(s\): Service\[nosuch\] \(fallback: /);
    assert.equal(existsSync(join(dir, 'out')), false);
  });

  it('a service is native svc on any host; without systemd as PID 1 it fails with the reason, the rest applies', async (t) => {
    if (existsSync('/run/systemd/system')) {
      t.skip('this machine runs systemd as PID 1: the service would really be started');
      return;
    }
    writeFileSync(join(dir, 'site.pp'), `${site('svc')}\nservice { 'web': name => 'mgmt-test-nosuch', ensure => running, enable => true }\n`);
    const r = await mgmtRun(['puppet', '--manifest', join(dir, 'site.pp'), '--facts', join(dir, 'facts.json'), '--converged-timeout', '0', '--tmp-prefix']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /5 resources: 5 native/);
    assert.match(r.stderr, /svc\[mgmt-test-nosuch\]: .*systemd is not the init system on this machine/);
    assert.equal(readFileSync(join(dir, 'out/app.conf'), 'utf8'), 'svc\n');
  });

  it('while running: an edit recompiles and swaps; a compile error keeps the running graph', async () => {
    const manifest = join(dir, 'site.pp');
    writeFileSync(manifest, site('v1'));
    const c = mgmt(['puppet', '--manifest', manifest, '--facts', join(dir, 'facts.json'), '--tmp-prefix']);
    await waitUntil(() => existsSync(join(dir, 'out/reloads')), 20000, 'the first apply');
    const t0 = performance.now();
    writeFileSync(manifest, site('v2'));
    await waitUntil(() => readFileSync(join(dir, 'out/app.conf'), 'utf8') === 'v2\n', 10000, 'the recompiled graph');
    const took = performance.now() - t0;
    await waitUntil(() => readFileSync(join(dir, 'out/reloads'), 'utf8') === 'reloaded\nreloaded\n', 5000, 'the refresh after the edit');
    writeFileSync(manifest, 'file { oops');
    await c.waitForLog(/Puppet could not compile .*site\.pp/, 10000);
    await c.waitForLog(/changed but has errors; the running graph is unchanged/);
    writeFileSync(join(dir, 'out/app.conf'), 'drift');
    await waitUntil(() => readFileSync(join(dir, 'out/app.conf'), 'utf8') === 'v2\n', 3000, 'the running graph still repairs');
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    assert.ok(took < 10000, `save to applied: ${took.toFixed(0)} ms`);
  });
});
