// `mgmt puppet diff` flags that change what is compiled or shown, each checked by its effect on the output of the
// real CLI on a temporary control repository (real git, real Puppet, real r10k): --bootstrap-script (r10k
// installs a module from a local git repository into each checkout, from the Puppetfile of that ref),
// --hiera-config, --environment, --display-detail-add and --display-source; and a compile worker started before its
// code exists (as the CLI starts them, while git and the bootstrap run) still puts a module's lib on Ruby's load path.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompilePool } from '../../src/puppet/diff/compile-pool.js';
import { killAll, mgmtRun } from '../harness/cli.js';
import { git } from '../harness/control-repo.js';
import type { DiffEntry } from '../../src/puppet/diff/entry.js';

const NODE = 'flags.example.com';

function write(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function commit(dir: string, what: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', what);
  return git(dir, 'rev-parse', 'HEAD');
}

function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'test');
}

const SITE = `node default {
  if defined('extmod') { include extmod }
  file { '/etc/owner': ensure => file, owner => lookup('flags::owner') }
}
`;

// r10k keeps its git cache inside the checkout (nothing is written outside it), and installs the Puppetfile's
// modules into modules/. The scrubbed environment gives it BASEDIR (the checkout) and PWD.
const BOOTSTRAP = `#!/bin/sh
set -e
printf 'cachedir: %s/.r10k-cache\\n' "$BASEDIR" > "$BASEDIR/.r10k.yaml"
r10k puppetfile install --config "$BASEDIR/.r10k.yaml" --moduledir "$BASEDIR/modules"
`;

let root: string;
let repo: string;
/** c[0] base; c[1] the Puppetfile moves extmod to v2; c[2] only the global Hiera data changes; c[3] two files added. */
const c: string[] = [];
let facts: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'mgmt-diff-flags-'));
  // The module r10k installs, two tagged versions in a local git repository.
  const mod = join(root, 'extmod');
  initRepo(mod);
  write(mod, { 'manifests/init.pp': 'class extmod { file { \'/etc/extmod\': ensure => file, content => "v1\\n" } }\n' });
  commit(mod, 'v1');
  git(mod, 'tag', 'v1');
  write(mod, { 'manifests/init.pp': 'class extmod { file { \'/etc/extmod\': ensure => file, content => "v2\\n" } }\n' });
  commit(mod, 'v2');
  git(mod, 'tag', 'v2');

  repo = join(root, 'control');
  initRepo(repo);
  const puppetfile = (ref: string) => `mod 'extmod',\n  :git => '${mod}',\n  :ref => '${ref}'\n`;
  write(repo, {
    'manifests/site.pp': SITE,
    Puppetfile: puppetfile('v1'),
    'bootstrap.sh': BOOTSTRAP,
    'fail.sh': '#!/bin/sh\necho "cannot reach the module server" >&2\nexit 3\n',
    // The environment's own Hiera layer, and a second configuration given only with --hiera-config.
    'hiera.yaml': '---\nversion: 5\ndefaults:\n  datadir: data\n  data_hash: yaml_data\nhierarchy:\n  - name: common\n    path: common.yaml\n',
    'data/common.yaml': 'flags::owner: root\n',
    'hiera-alt.yaml': '---\nversion: 5\ndefaults:\n  datadir: alt-data\n  data_hash: yaml_data\nhierarchy:\n  - name: common\n    path: common.yaml\n',
    'alt-data/common.yaml': 'flags::owner: alt1\n',
  });
  chmodSync(join(repo, 'bootstrap.sh'), 0o755);
  chmodSync(join(repo, 'fail.sh'), 0o755);
  c.push(commit(repo, 'base'));
  write(repo, { Puppetfile: puppetfile('v2') });
  c.push(commit(repo, 'extmod v2'));
  write(repo, { 'alt-data/common.yaml': 'flags::owner: alt2\n' });
  c.push(commit(repo, 'global hiera data'));
  write(repo, {
    'manifests/site.pp': SITE.replace(
      '\n}\n',
      `\n  file { '/etc/added': ensure => file, content => "new\\n", mode => '0644' }\n  file { '/etc/env-name': ensure => file, content => "\${environment}\\n" }\n}\n`,
    ),
  });
  c.push(commit(repo, 'two files added'));

  facts = join(root, 'facts.yaml');
  writeFileSync(facts, `---\nfqdn: ${NODE}\nnetworking:\n  fqdn: ${NODE}\nos:\n  family: Debian\n`);
});

let pool: CompilePool | undefined;

after(async () => {
  await pool?.close();
  killAll();
  rmSync(root, { recursive: true, force: true });
});

/** The keys of an octocatalog-diff JSON entry the tests compare. */
type Entry = Pick<DiffEntry, 'diff_type' | 'type' | 'title' | 'structure' | 'old_value' | 'new_value'>;

async function diff(from: string, to: string, ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return mgmtRun(['puppet', 'diff', '--basedir', repo, '-f', from, '-t', to, '-n', NODE, '--fact-file', facts, '--parallel', '2', '--no-color', ...flags]);
}

async function diffJson(from: string, to: string, ...flags: string[]): Promise<{ code: number; entries: Entry[]; stderr: string }> {
  const r = await diff(from, to, '--output-format', 'json', ...flags);
  assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, entries: (JSON.parse(r.stdout) as { diff: Entry[] }).diff, stderr: r.stderr };
}

const summary = (es: Entry[]) =>
  es.map((e) => `${e.diff_type} ${e.type}[${e.title}] ${e.structure.join('::')} ${JSON.stringify(e.old_value)} ${JSON.stringify(e.new_value)}`);

describe('mgmt puppet diff: --bootstrap-script', () => {
  it('runs the script in each checkout: r10k installs the module version of each ref', async () => {
    // Without it the module is at neither ref (the manifest includes it only when defined): nothing differs.
    const bare = await diffJson(c[0]!, c[1]!);
    assert.equal(bare.code, 0);
    assert.deepEqual(bare.entries, []);

    const r = await diffJson(c[0]!, c[1]!, '--bootstrap-script', 'bootstrap.sh');
    assert.equal(r.code, 2);
    assert.deepEqual(summary(r.entries), ['~ File[/etc/extmod] parameters::content "v1\\n" "v2\\n"']);
    // Each checkout was a temporary copy: the repository itself got no modules and no r10k cache.
    assert.equal(existsSync(join(repo, 'modules', 'extmod')), false);
    assert.equal(existsSync(join(repo, '.r10k-cache')), false);
  });

  it('a failing script is an error (exit 1) naming the script, the ref and what it printed', async () => {
    const r = await diff(c[0]!, c[1]!, '--bootstrap-script', 'fail.sh');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--bootstrap-script fail\\.sh at (${c[0]}|${c[1]}) failed \\(exit 3\\).*cannot reach the module server`));
  });
});

describe('mgmt puppet diff: --hiera-config', () => {
  it("reads the global Hiera layer from the given file of each checkout, above the environment's own", async () => {
    // Only alt-data/ changed: the environment's hiera.yaml never reads it.
    const bare = await diffJson(c[1]!, c[2]!);
    assert.equal(bare.code, 0);
    const r = await diffJson(c[1]!, c[2]!, '--hiera-config', 'hiera-alt.yaml');
    assert.equal(r.code, 2);
    assert.deepEqual(summary(r.entries), ['~ File[/etc/owner] parameters::owner "alt1" "alt2"']);
  });
});

describe('mgmt puppet diff: --environment', () => {
  const contentOf = (es: Entry[]) => (es.find((e) => e.title === '/etc/env-name')?.new_value as { parameters: { content: string } }).parameters.content;

  it('compiles each checkout as the named environment ($environment)', async () => {
    const dflt = await diffJson(c[2]!, c[3]!);
    assert.equal(contentOf(dflt.entries), 'production\n');
    const r = await diffJson(c[2]!, c[3]!, '--environment', 'staging');
    assert.equal(r.code, 2);
    assert.equal(contentOf(r.entries), 'staging\n');
  });
});

describe('mgmt puppet diff: --display-detail-add and --display-source', () => {
  it('--display-detail-add lists every parameter of an added resource', async () => {
    const plain = await diff(c[2]!, c[3]!);
    assert.equal(plain.code, 2, plain.stderr);
    const block = (out: string) => out.slice(out.indexOf('+ File[/etc/added]')).split('\n').slice(0, 4);
    assert.deepEqual(block(plain.stdout).slice(0, 2), ['+ File[/etc/added]', '  + File[/etc/env-name]']);
    const detail = await diff(c[2]!, c[3]!, '--display-detail-add');
    assert.equal(detail.code, 2, detail.stderr);
    assert.deepEqual(block(detail.stdout), ['+ File[/etc/added]', '      content: "new\\n"', '      ensure: "file"', '      mode: "0644"']);
  });

  it("--display-source shows each resource's manifest file:line, relative to the repository", async () => {
    const plain = await diff(c[1]!, c[3]!);
    assert.doesNotMatch(plain.stdout, /site\.pp/);
    const r = await diff(c[1]!, c[3]!, '--hiera-config', 'hiera-alt.yaml', '--display-source');
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stdout.split('\n');
    assert.ok(lines.includes('  + File[/etc/added]  (manifests/site.pp:4)'), r.stdout);
    assert.ok(lines.includes('  + File[/etc/env-name]  (manifests/site.pp:5)'), r.stdout);
    assert.ok(lines.includes('  ~ File[/etc/owner]  (manifests/site.pp:3)'), r.stdout);
  });
});

describe('compile workers started before their code exists', () => {
  it("a module that arrives after the worker started (a bootstrap's r10k) has its lib on Ruby's load path", async () => {
    // The worker is started on an empty environment and is ready (Puppet loaded, the compiler warmed up) before the
    // module exists; its function requires the module's own Ruby file, which needs lib/ on the load path.
    const env = mkdtempSync(join(root, 'env-'));
    const ready = new Promise<void>((resolve) => {
      const log = (m: string) => {
        if (m.startsWith('Puppet worker ready')) resolve();
      };
      pool = new CompilePool([{ id: 'to', envDir: env, manifest: join(env, 'manifests'), modulepath: [join(env, 'modules')] }], 1, {
        debug: () => undefined,
        info: log,
        warn: () => undefined,
        error: () => undefined,
      });
    });
    await pool!.prestart(1);
    await ready;
    write(env, {
      'modules/helpermod/lib/puppet_x/helpermod/words.rb': 'module PuppetX\n  module Helpermod\n    def self.greet(who) = "hello #{who}\\n"\n  end\nend\n',
      'modules/helpermod/lib/puppet/functions/helpermod/greet.rb':
        "require 'puppet_x/helpermod/words'\n\nPuppet::Functions.create_function(:'helpermod::greet') do\n  def greet(who)\n    PuppetX::Helpermod.greet(who)\n  end\nend\n",
      'manifests/site.pp': "file { '/etc/greeting': ensure => file, content => helpermod::greet('world') }\n",
    });
    const r = await pool!.compile('to', NODE, { fqdn: NODE });
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.catalog.resources.find((x) => x.title === '/etc/greeting')?.parameters.content, 'hello world\n');
  });
});
