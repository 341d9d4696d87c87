// `mgmt puppet translate` end to end through the real Puppet face: fixtures/puppet/manifests/*.pp against
// golden graphs and reports (UPDATE_GOLDEN=1 rewrites them), and Puppet's errors with file:line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = join(repo, 'fixtures', 'puppet');
const manifests = join(fixtures, 'manifests');
const PUPPET = process.env.PUPPET_BIN ?? 'puppet';
const UPDATE = process.env.UPDATE_GOLDEN === '1';
let tmp: string;

function mgmt(args: string[]) {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'mgmt.js'), 'puppet', 'translate', '--puppet-bin', PUPPET, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function golden(path: string, actual: string) {
  if (UPDATE || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!UPDATE) assert.fail(`golden file ${path} was missing; written now: check it and rerun`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

before(() => {
  const probe = spawnSync(PUPPET, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(`puppet is not available: install the Debian package "puppet"`);
  tmp = mkdtempSync(join(tmpdir(), 'mgmt-puppet-translate-'));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('mgmt puppet translate --manifest', () => {
  for (const file of readdirSync(manifests)
    .filter((f) => f.endsWith('.pp'))
    .sort()) {
    const base = file.replace(/\.pp$/, '');
    it(file, () => {
      const report = join(tmp, `${base}.report.json`);
      const r = mgmt(['--manifest', join(manifests, file), '--facts', join(fixtures, 'facts.yaml'), '--node', 'golden.example.test', '--report', report]);
      assert.equal(r.code, 0, r.stderr);
      const norm = (s: string) => s.split(manifests + '/').join('<manifests>/');
      golden(join(fixtures, 'expected', `manifest-${base}.yaml`), norm(r.stdout));
      golden(join(fixtures, 'expected', `manifest-${base}.report.json`), norm(readFileSync(report, 'utf8')));
      assert.ok(!r.stdout.includes('pw\\n') && !readFileSync(report, 'utf8').includes('pw\\n'), 'Sensitive value leaked');
      assert.match(r.stderr, /resources: \d+ native/);
    });
  }
  it('--strict (=degraded) fails while anything is degraded or a fallback, naming them; --strict=fallback lets degraded through', () => {
    // validate_cmd is dropped with a note: the resource is degraded (site.pp is all native since backups are kept)
    const r = mgmt(['--code', "file { '/tmp/x': content => 'x', validate_cmd => '/bin/true %' }", '--facts', join(fixtures, 'facts.yaml'), '--strict']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /--strict=degraded: \d+ fallback and \d+ degraded resource\(s\): \w+\[/);
    const ok = mgmt(['--code', "file { '/tmp/x': content => 'x' }", '--facts', join(fixtures, 'facts.yaml'), '--strict']);
    assert.equal(ok.code, 0, ok.stderr);
    // degraded only (loglevel is native with a note; a service timeout is degraded): refused by =degraded, let through by =fallback
    const code = "service { 'x': ensure => running, timeout => 5, loglevel => 'debug' }";
    const deg = mgmt(['--code', code, '--facts', join(fixtures, 'facts.yaml'), '--strict=degraded']);
    assert.equal(deg.code, 1);
    assert.match(deg.stderr, /--strict=degraded: 0 fallback and 1 degraded resource\(s\): Service\[x\] \(degraded: timeout: /);
    const fb = mgmt(['--code', code, '--facts', join(fixtures, 'facts.yaml'), '--strict=fallback']);
    assert.equal(fb.code, 0, fb.stderr);
    assert.match(fb.stderr, /loglevel: only sets the level of Puppet’s own messages .*\(native, noted\)/);
    const fail = mgmt(['--code', "service { 'x': ensure => running, enable => mask }", '--facts', join(fixtures, 'facts.yaml'), '--strict=fallback']);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /--strict=fallback: 1 fallback resource\(s\): Service\[x\]/);
    const bad = mgmt(['--code', code, '--strict=never']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--strict takes fallback .* or degraded/);
  });
  it('compile errors: exit 1 with Puppet’s file:line, nothing on stdout', () => {
    const bad = join(tmp, 'bad.pp');
    writeFileSync(bad, "notify { 'a': }\nnotify { 'a': }\n");
    const r = mgmt(['--manifest', bad, '--facts', join(fixtures, 'facts.yaml')]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Duplicate declaration: Notify\[a\].*bad\.pp.*line: 2/);
    const syntax = mgmt(['--code', "file { '/x': \n", '--facts', join(fixtures, 'facts.yaml')]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /Syntax error|line: \d+/);
  });
  it('--catalog reads a catalog without Ruby; usage errors exit 2', () => {
    const r = mgmt(['--catalog', join(fixtures, 'catalogs', 'p01-file-content.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^graph: node1\.example\.test$/m);
    // (no input at all is not a usage error: it compiles the environment's main manifest, see puppet-environments.test.ts)
    assert.equal(mgmt(['--catalog', 'a', '--code', 'b']).code, 2);
  });
});
