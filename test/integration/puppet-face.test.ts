// Integration tests of the companion Puppet module (puppet-module/): the `puppet mgmtgraph` face's `catalog`
// action and its JSON-lines `worker`, run with the real Debian Puppet (installed by scripts/system-deps.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WORKER_OPS, type WorkerOp } from '../../src/puppet/runtime/protocol.js';
import { inheritedEnv, type LineProcess, run, startLines } from '../../src/system/proc/launcher.js';

// dist/test/integration/ -> repository root
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const moduleDir = join(repo, 'puppet-module');
const PUPPET = process.env.PUPPET_BIN ?? 'puppet';
const TIMEOUT_MS = 60_000;

type Json = Record<string, unknown>;
interface CatalogResource {
  type: string;
  title: string;
  file: string | null;
  line: number | null;
  tags: string[];
  exported: boolean;
  virtual: boolean;
  parameters: Json;
  sensitive: string[];
  collected_from?: string;
}
interface CatalogDoc {
  format: string;
  version: number;
  node: string;
  environment: string;
  resources: CatalogResource[];
  edges: { source: string; target: string }[];
  classes: string[];
  collectors: { type: string; query: unknown }[];
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every Puppet still running, stopped (with its process group) after the suite. */
const running = new Set<AbortController>();
const killChildren = () => {
  for (const stop of running) stop.abort();
};

let dir: string; // per-suite temp root
let modulepath: string;
let common: string[]; // flags every puppet invocation gets
let factsFile: string;
let factpath: string;

const write = (name: string, text: string): string => {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
};

async function puppet(args: string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  const stop = new AbortController();
  running.add(stop);
  try {
    const r = await run({
      command: { argv: [PUPPET, ...args] },
      env: { ...inheritedEnv(), ...env },
      captureStdout: true,
      captureStderr: true,
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(TIMEOUT_MS)]),
      killSignal: 'SIGKILL',
    });
    const stderr = r.stderr?.toString() ?? '';
    if (r.timedOut) throw new Error(`puppet ${args.join(' ')} timed out\n${stderr}`);
    return { code: r.code, stdout: r.stdout?.toString() ?? '', stderr };
  } finally {
    running.delete(stop);
  }
}

const catalogRun = (extra: string[], env: Readonly<Record<string, string>> = {}) => puppet(['mgmtgraph', 'catalog', ...common, ...extra], env);

function parseCatalog(r: Run): CatalogDoc {
  assert.equal(r.code, 0, `catalog failed:\n${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `stdout must be exactly one JSON document:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, /Notice:|Warning:|Info:/);
  const doc = JSON.parse(lines[0]!) as CatalogDoc;
  assert.equal(doc.format, 'mgmtgraph-catalog');
  assert.equal(doc.version, 1);
  return doc;
}

const find = (doc: CatalogDoc, ref: string): CatalogResource => {
  const r = doc.resources.find((x) => `${x.type}[${x.title}]` === ref);
  assert.ok(r, `${ref} missing; have: ${doc.resources.map((x) => `${x.type}[${x.title}]`).join(', ')}`);
  return r;
};
const hasEdge = (doc: CatalogDoc, source: string, target: string) =>
  assert.ok(
    doc.edges.some((e) => e.source === source && e.target === target),
    `missing edge ${source} -> ${target}; have ${JSON.stringify(doc.edges)}`,
  );
const refs = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [v as string]);
const lineOf = (text: string, needle: string): number => {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `needle ${needle} not in manifest`);
  return i + 1;
};

before(async () => {
  const probe = spawnSync(PUPPET, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `puppet is not available (${probe.error?.message ?? probe.stderr}); install the Debian package "puppet" ` +
        '(npm test does it through scripts/system-deps.mjs)',
    );
  }
  assert.ok(existsSync(join(moduleDir, 'lib/puppet/face/mgmtgraph.rb')), `module not found at ${moduleDir}`);
  dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-face-'));
  // --modulepath lists directories CONTAINING modules, and a module's directory must carry its short name.
  const mp = join(dir, 'modules');
  mkdirSync(mp);
  symlinkSync(moduleDir, join(mp, 'mgmtgraph'));
  modulepath = `${mp}:/usr/share/puppet/modules`;
  // A custom fact that leaves a mark when facter resolves the node's facts (MGMT_FACTER_MARK), and another when
  // its file is merely loaded (MGMT_FACTER_LOAD_MARK): proves that a run with stub facts never gathers facts
  // from facter, and does not even load the custom facts (which costs ~1 s with stdlib's).
  factpath = join(dir, 'factpath');
  mkdirSync(factpath);
  writeFileSync(
    join(factpath, 'mgmt_mark.rb'),
    "File.write(ENV['MGMT_FACTER_LOAD_MARK'], 'loaded') if ENV['MGMT_FACTER_LOAD_MARK']\n" +
      "Facter.add(:mgmt_mark) do\n  setcode do\n    File.write(ENV['MGMT_FACTER_MARK'], 'resolved') if ENV['MGMT_FACTER_MARK']\n    'x'\n  end\nend\n",
  );
  factsFile = write('facts.yaml', 'stubfact: from-stub\nnetworking:\n  domain: example.test\n');
  common = [
    '--modulepath',
    modulepath,
    '--confdir',
    join(dir, 'conf'),
    '--vardir',
    join(dir, 'var'),
    '--codedir',
    join(dir, 'code'),
    '--factpath',
    factpath,
    '--certname',
    'node1.example.test',
  ];
});

after(async () => {
  killChildren();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('puppet mgmtgraph catalog', () => {
  it('compiles a mixed manifest with stub facts: resources, params, file:line, containment, relationships', async () => {
    const root = join(dir, 'root');
    const site = `class base {
  file { '${root}/d': ensure => directory, mode => '0755' }
  file { '${root}/d/f': content => "hello\\n", mode => '0640' } # F-LINE
  file { '${root}/l': ensure => link, target => '${root}/d/f' }
}
class app {
  contain base
  package { 'cs': name => 'cowsay', ensure => installed }
  service { 'web': name => 'apache2', ensure => running, enable => true }
}
include app
define vhost(Integer $port) {
  file { "${root}/vhost-\${title}": content => "port \${port}\\n" }
}
vhost { 'one': port => 8080 }
exec { 'greet':
  command     => ['/bin/echo', 'a b'],
  onlyif      => 'test -d /tmp',
  unless      => '/bin/false',
  path        => ['/usr/bin', '/bin'],
  environment => ['K=v'],
}
notify { 'spec': message => 'spec message', loglevel => verbose }
file { '${root}/secret': content => Sensitive("pw\\n") }
notify { 'deferred': message => Deferred('join', [['a', 'b'], '-']) }
notify { 'fact': message => "stub \${facts['stubfact']}" }
notify { 'numeric': message => '1e3' }
file { '${root}/m': mode => '0600', noop => true, tag => ['x'], before => Notify['numeric'] }
File['${root}/d/f'] -> Exec['greet'] ~> Notify['spec']
Class['app'] -> Notify['fact']
`;
    const manifest = write('site.pp', site);
    const mark = join(dir, 'facter-mark-1');
    const started = Date.now();
    const r = await catalogRun(['--manifest', manifest, '--facts', factsFile], { MGMT_FACTER_MARK: mark });
    const elapsed = Date.now() - started;
    const doc = parseCatalog(r);
    console.log(`# cold catalog compile (mixed site.pp, stub facts): ${elapsed} ms`);

    assert.equal(existsSync(mark), false, 'facter must not gather facts when a facts file is given');
    assert.equal(doc.node, 'node1.example.test');
    assert.equal(doc.environment, 'production');
    assert.deepEqual(find(doc, 'Notify[fact]').parameters.message, 'stub from-stub');

    // files
    const f = find(doc, `File[${root}/d/f]`);
    assert.equal(f.parameters.content, 'hello\n');
    assert.equal(f.parameters.mode, '0640');
    assert.equal(f.file, manifest);
    assert.equal(f.line, lineOf(site, 'F-LINE'));
    assert.ok(f.tags.includes('base') && f.tags.includes('file'), String(f.tags));
    assert.equal(f.exported, false);
    assert.equal(f.virtual, false);
    assert.equal(find(doc, `File[${root}/d]`).parameters.ensure, 'directory');
    assert.deepEqual(find(doc, `File[${root}/l]`).parameters, { ensure: 'link', target: `${root}/d/f` });

    // exec
    const e = find(doc, 'Exec[greet]');
    assert.deepEqual(e.parameters.command, ['/bin/echo', 'a b']);
    assert.equal(e.parameters.onlyif, 'test -d /tmp');
    assert.equal(e.parameters.unless, '/bin/false');
    assert.deepEqual(e.parameters.path, ['/usr/bin', '/bin']);
    assert.deepEqual(refs(e.parameters.environment), ['K=v']);
    assert.equal(e.line, lineOf(site, "exec { 'greet'"));

    // service and package: the namevar differs from the title, so it is there
    assert.deepEqual(find(doc, 'Service[web]').parameters, { name: 'apache2', ensure: 'running', enable: true });
    assert.deepEqual(find(doc, 'Package[cs]').parameters, { name: 'cowsay', ensure: 'installed' });

    // notify
    assert.deepEqual(find(doc, 'Notify[spec]').parameters, { message: 'spec message', loglevel: 'verbose' });
    assert.equal(find(doc, 'Notify[numeric]').parameters.message, '1e3', 'strings stay strings');

    // Sensitive: clear value in parameters, name listed
    const s = find(doc, `File[${root}/secret]`);
    assert.equal(s.parameters.content, 'pw\n');
    assert.deepEqual(s.sensitive, ['content']);

    // Deferred: explicit marker, not resolved, not stringified
    assert.deepEqual(find(doc, 'Notify[deferred]').parameters.message, {
      __deferred: { name: 'join', arguments: [['a', 'b'], '-'] },
    });

    // metaparams and chaining arrows (arrows become metaparams on the source)
    const m = find(doc, `File[${root}/m]`);
    assert.equal(m.parameters.noop, true);
    assert.deepEqual(refs(m.parameters.tag), ['x']);
    assert.deepEqual(refs(m.parameters.before), ['Notify[numeric]']);
    assert.ok(refs(f.parameters.before).includes('Exec[greet]'));
    assert.ok(refs(e.parameters.notify).includes('Notify[spec]'));
    assert.ok(refs(find(doc, 'Class[App]').parameters.before).includes('Notify[fact]'));

    // containment: include -> stage, contain -> class, define contents
    hasEdge(doc, 'Stage[main]', 'Class[App]');
    hasEdge(doc, 'Class[App]', 'Class[Base]');
    hasEdge(doc, 'Class[Base]', `File[${root}/d/f]`);
    hasEdge(doc, 'Class[App]', 'Package[cs]');
    hasEdge(doc, 'Class[main]', 'Vhost[one]');
    hasEdge(doc, 'Vhost[one]', `File[${root}/vhost-one]`);
    assert.equal(find(doc, 'Vhost[one]').parameters.port, 8080);
    assert.equal(find(doc, `File[${root}/vhost-one]`).parameters.content, 'port 8080\n');
    assert.ok(doc.classes.includes('app') && doc.classes.includes('base'), String(doc.classes));
    assert.deepEqual(doc.collectors, []);
  });

  it('reads --code, facts as JSON, and --node', async () => {
    const facts = write('facts.json', JSON.stringify({ stubfact: 'json-stub' }));
    const doc = parseCatalog(
      await catalogRun([
        '--code',
        "\nnotify { 'c': message => \"code ${facts['stubfact']}\" }\nnotify { 'bin': message => Binary('/w==') }",
        '--facts',
        facts,
        '--node',
        'other.example.test',
      ]),
    );
    const c = find(doc, 'Notify[c]');
    assert.equal(c.parameters.message, 'code json-stub');
    assert.equal(c.file, null, 'inline code has no file');
    assert.equal(c.line, 2);
    assert.equal(doc.node, 'other.example.test');
    assert.deepEqual(find(doc, 'Notify[bin]').parameters.message, { __binary: '/w==' }, 'binary data is base64-encoded');
  });

  it("with stub facts, loads no custom fact: the stub's domain stands in for Facter's in $settings::srv_domain", async () => {
    const code = 'notify { \'srv\': message => "srv ${settings::srv_domain}" }';
    const stubMark = join(dir, 'facter-load-mark-stub');
    const stub = parseCatalog(await catalogRun(['--code', code, '--facts', factsFile], { MGMT_FACTER_LOAD_MARK: stubMark }));
    assert.equal(find(stub, 'Notify[srv]').parameters.message, 'srv example.test');
    assert.equal(existsSync(stubMark), false, 'no custom fact may be loaded when a facts file is given');
    // The probe works: without a stub, facter runs and loads the custom facts (srv_domain is the host's domain).
    const facterMark = join(dir, 'facter-load-mark-facter');
    parseCatalog(await catalogRun(['--code', code], { MGMT_FACTER_LOAD_MARK: facterMark }));
    assert.equal(existsSync(facterMark), true, 'facter loads the custom facts when there is no stub');
  });

  it('resolves puppet:///modules/ sources of local files to the module files on this host (source_paths)', async () => {
    const mods = join(dir, 'srcmods');
    mkdirSync(join(mods, 'demo', 'files', 'tree'), { recursive: true });
    writeFileSync(join(mods, 'demo', 'files', 'motd'), 'hi\n');
    const code = [
      "file { '/tmp/one': source => 'puppet:///modules/demo/motd' }",
      "file { '/tmp/first': source => ['puppet:///modules/demo/nosuch', 'puppet:///modules/demo//tree'], recurse => true }",
      "file { '/tmp/up': source => 'puppet:///modules/demo/../demo/motd' }",
      "file { '/tmp/server': source => 'puppet://puppet.example.test/modules/demo/motd' }",
      "@@file { '/tmp/exported': source => 'puppet:///modules/demo/motd' }",
    ].join('\n');
    const args = ['--code', code, '--facts', factsFile, '--storeconfigs', '--storeconfigs_backend', 'mgmtgraph'];
    const doc = parseCatalog(await puppet(['mgmtgraph', 'catalog', ...common.map((a) => (a === modulepath ? `${mods}:${modulepath}` : a)), ...args]));
    const paths = (title: string) => (find(doc, `File[${title}]`) as CatalogResource & { source_paths?: Record<string, string> }).source_paths;
    assert.deepEqual(paths('/tmp/one'), { 'puppet:///modules/demo/motd': join(mods, 'demo', 'files', 'motd') });
    assert.deepEqual(paths('/tmp/first'), { 'puppet:///modules/demo//tree': join(mods, 'demo', 'files', 'tree') });
    assert.equal(paths('/tmp/up'), undefined, '.. is never resolved');
    assert.equal(paths('/tmp/server'), undefined, 'a named server is Puppet’s');
    assert.equal(paths('/tmp/exported'), undefined, 'exported resources are applied where they are collected');
  });

  it('records exported resources and collector queries with --storeconfigs', async () => {
    const root = join(dir, 'exported');
    const collected = write(
      'collected.json',
      JSON.stringify([
        { type: 'File', title: `${root}/remote`, parameters: { content: 'r', tag: 'remote' }, host: 'web2' },
        { type: 'Notify', title: 'not-asked-for', parameters: {}, host: 'web2' },
      ]),
    );
    const manifest = write(
      'exports.pp',
      `@@file { '${root}/only-exported': content => 'x', tag => 'shared' }
@@file { '${root}/exported-local': content => 'y', tag => 'local' }
File <<| tag == 'local' |>>
File <<| title == 'a' or tag == 'remote' |>>
`,
    );
    const doc = parseCatalog(
      await catalogRun([manifest, '--facts', factsFile, '--storeconfigs', '--storeconfigs_backend', 'mgmtgraph', '--collected', collected]),
    );
    const only = find(doc, `File[${root}/only-exported]`);
    assert.equal(only.exported, true);
    assert.equal(only.virtual, true, 'export-only is virtual');
    assert.equal(only.line, 1);
    const local = find(doc, `File[${root}/exported-local]`);
    assert.equal(local.exported, true);
    assert.equal(local.virtual, false, 'collected here, so applied locally');
    const remote = find(doc, `File[${root}/remote]`);
    assert.equal(remote.collected_from, 'web2');
    assert.equal(remote.parameters.content, 'r');
    assert.ok(!doc.resources.some((r) => r.title === 'not-asked-for'));
    assert.deepEqual(doc.collectors, [
      { type: 'File', query: ['tag', '==', 'local'] },
      { type: 'File', query: [['title', '==', 'a'], 'or', ['tag', '==', 'remote']] },
    ]);
  });

  it('keeps exported resources without storeconfigs (export only)', async () => {
    const doc = parseCatalog(await catalogRun(['--code', "@@notify { 'exp': }", '--facts', factsFile]));
    const r = find(doc, 'Notify[exp]');
    assert.equal(r.exported, true);
    assert.equal(r.virtual, true);
  });

  it('compile errors: non-zero exit, message with file and line on stderr, nothing on stdout', async () => {
    const cases: [string, string, RegExp][] = [
      ['syntax.pp', "notify { 'a':\n  message => ,\n}\n", /Syntax error at ','.*line: 2/],
      ['dup.pp', "notify { 'a': }\nnotify { 'a': }\n", /Duplicate declaration: Notify\[a\].*line: 2/],
      ['missing.pp', "\nfile { '/tmp/q': require => File['/nope'] }\n", /Could not find resource 'File\[\/nope\]'.*line: 2/],
      ['unknown.pp', "\n\nnosuchtype { 'x': }\n", /Unknown resource type: 'nosuchtype'.*line: 3/],
    ];
    const runs = await Promise.all(cases.map(([name, text]) => catalogRun(['--manifest', write(join('bad', name), text), '--facts', factsFile])));
    runs.forEach((r, i) => {
      const [name, , re] = cases[i]!;
      assert.notEqual(r.code, 0, `${name} must fail`);
      assert.equal(r.stdout, '', `${name}: stdout must be empty`);
      assert.match(r.stderr, re);
      assert.ok(r.stderr.includes(join(dir, 'bad', name)), `${name}: file missing in ${r.stderr}`);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------

class Worker {
  private readonly process: Promise<LineProcess>;
  private waiting = new Map<unknown, (reply: Json) => void>();
  private lines: Json[] = [];
  stderr = '';
  /** The exit code once it has exited, with its process group. */
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    const stop = new AbortController();
    running.add(stop);
    let exited: (code: number | null) => void = () => undefined;
    this.exited = new Promise((res) => (exited = res));
    this.process = startLines(
      { command: { argv: [PUPPET, 'mgmtgraph', 'worker', ...args] }, env: inheritedEnv(), stdin: 'pipe', signal: stop.signal, killSignal: 'SIGKILL' },
      (stream, line) => {
        if (stream === 'stderr') this.stderr += `${line}\n`;
        else this.onReply(JSON.parse(line) as Json); // every stdout line must be JSON
      },
      (r) => {
        running.delete(stop);
        exited(r.code);
      },
    );
  }

  private onReply(reply: Json): void {
    const waiter = this.waiting.get(reply.id);
    if (waiter) {
      this.waiting.delete(reply.id);
      waiter(reply);
    } else this.lines.push(reply);
  }

  /** Closes its input: the worker exits by itself. */
  async close(): Promise<void> {
    (await this.process).stdin?.end();
  }

  /** Kills it with its process group. */
  async kill(): Promise<void> {
    await (await this.process).stop();
  }

  send(raw: string, id: unknown): Promise<Json> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no reply to ${raw}\n${this.stderr}`)), TIMEOUT_MS);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        res(reply);
      });
      void this.process.then((p) => p.stdin?.write(`${raw}\n`));
    });
  }

  private nextId = 1;
  request(op: string, body: Json = {}): Promise<Json> {
    const id = this.nextId++;
    return this.send(JSON.stringify({ id, op, ...body }), id);
  }
}

describe('puppet mgmtgraph worker', () => {
  let worker: Worker;
  let root: string;
  let wmod: string;

  before(async () => {
    root = join(dir, 'wroot');
    mkdirSync(root, { recursive: true });
    // a second module next to ours, to see module edits picked up between compiles
    wmod = join(dir, 'modules', 'wmod', 'manifests', 'init.pp');
    mkdirSync(dirname(wmod), { recursive: true });
    writeFileSync(wmod, "class wmod { notify { 'from-module': message => 'module v1' } }\n");
    const started = Date.now();
    worker = new Worker([...common, '--log_level', 'notice']);
    const pong = await worker.request('ping');
    console.log(`# worker start until first ping reply: ${Date.now() - started} ms`);
    assert.equal(pong.pong, true);
    assert.equal(pong.error, null);
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed before assigning it, whatever the type says
    await worker?.kill();
  });

  it('compiles, and sees edits of the manifest and of modules on the next compile', async () => {
    const manifest = write('w/site.pp', "include wmod\nnotify { 'edit': message => 'v1' }\n");
    const first = await worker.request('compile', { manifest, facts: { stubfact: 'w' }, node: 'wnode' });
    assert.equal(first.error, null, JSON.stringify(first.error));
    const doc1 = first.catalog as CatalogDoc;
    assert.equal(doc1.node, 'wnode');
    assert.equal(find(doc1, 'Notify[edit]').parameters.message, 'v1');
    assert.equal(find(doc1, 'Notify[edit]').file, manifest);
    assert.equal(find(doc1, 'Notify[from-module]').parameters.message, 'module v1');

    writeFileSync(manifest, "include wmod\nnotify { 'edit': message => 'v2' }\n");
    writeFileSync(wmod, "class wmod { notify { 'from-module': message => 'module v2' } }\n");
    const second = await worker.request('compile', { manifest, facts_file: factsFile });
    const doc2 = second.catalog as CatalogDoc;
    assert.equal(find(doc2, 'Notify[edit]').parameters.message, 'v2');
    assert.equal(find(doc2, 'Notify[from-module]').parameters.message, 'module v2');

    const code = await worker.request('compile', { code: "notify { 'c': }", facts: {} });
    assert.ok(find(code.catalog as CatalogDoc, 'Notify[c]'));
  });

  it('answers a compile error with message, file and line, and keeps working', async () => {
    const bad = write('w/bad.pp', "notify { 'a': }\nnotify { 'a': }\n");
    const r = await worker.request('compile', { manifest: bad, facts: {} });
    const err = r.error as Json;
    assert.match(String(err.message), /Duplicate declaration/);
    assert.equal(err.file, bad);
    assert.equal(err.line, 2);
    assert.equal(r.catalog, undefined);
    assert.equal((await worker.request('ping')).pong, true);
  });

  it('checks, applies and re-checks a file (in_sync false -> changed -> in_sync true), fast', async () => {
    const path = join(root, 'managed');
    const resource = {
      type: 'File',
      title: path,
      parameters: { path, content: 'managed\n', mode: '0640', require: 'File[/not/in/this/catalog]' },
      sensitive: [],
    };
    const before = await worker.request('check', { resource });
    assert.equal(before.error, null, JSON.stringify(before));
    assert.equal(before.in_sync, false);
    assert.ok(
      (before.changes as Json[]).some((c) => c.property === 'ensure'),
      JSON.stringify(before.changes),
    );
    assert.equal(existsSync(path), false, 'check is noop');

    const applied = await worker.request('apply', { resource });
    assert.equal(applied.changed, true, JSON.stringify(applied));
    assert.equal(applied.failed, false);
    assert.equal(readFileSync(path, 'utf8'), 'managed\n');

    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      const after = await worker.request('check', { resource });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      assert.equal(after.in_sync, true, JSON.stringify(after));
      assert.deepEqual(after.changes, []);
    }
    times.sort((a, b) => a - b);
    console.log(`# worker check latency (file, in sync): ${times.map((t) => t.toFixed(1)).join(' ')} ms`);
    assert.ok(times[2]! < 100, `median check latency ${times[2]} ms`);
  });

  it('redacts sensitive values in check/apply replies', async () => {
    const path = join(root, 'secret');
    const resource = { type: 'File', title: path, parameters: { content: 'hunter2\n' }, sensitive: ['content'] };
    const raw = JSON.stringify(await worker.request('check', { resource }));
    assert.doesNotMatch(raw, /hunter2/);
    assert.match(raw, /"in_sync":false/);
    const applied = await worker.request('apply', { resource });
    assert.equal(applied.changed, true);
    assert.doesNotMatch(JSON.stringify(applied), /hunter2/);
    assert.equal(readFileSync(path, 'utf8'), 'hunter2\n');
    assert.doesNotMatch(worker.stderr, /hunter2/);
  });

  it('checks and applies a notify (never in sync, as in Puppet)', async () => {
    const resource = { type: 'Notify', title: 'hello', parameters: { message: 'hello from worker' }, sensitive: [] };
    const t = Date.now();
    const check = await worker.request('check', { resource });
    const checkMs = Date.now() - t;
    assert.equal(check.in_sync, false);
    assert.deepEqual(check.changes, [{ property: 'message', previous: 'absent', desired: 'hello from worker' }]);
    assert.ok(checkMs < 100, `notify check took ${checkMs} ms`);
    const applied = await worker.request('apply', { resource });
    assert.equal(applied.changed, true);
    assert.equal(applied.failed, false);
  });

  it('refreshes an exec (runs its command) and refuses refresh for types without one', async () => {
    const marker = join(root, 'refreshed');
    const resource = {
      type: 'Exec',
      title: 'touch-marker',
      parameters: { command: ['/usr/bin/touch', marker], refreshonly: true, subscribe: 'File[/x]' },
      sensitive: [],
    };
    const r = await worker.request('refresh', { resource });
    assert.equal(r.refreshed, true, JSON.stringify(r));
    assert.equal(r.error, null);
    assert.ok(existsSync(marker));
    const n = await worker.request('refresh', { resource: { type: 'Notify', title: 'n', parameters: {} } });
    assert.equal(n.refreshed, false);
    assert.match(String((n.error as Json).message), /does not support refresh/);
  });

  it('answers bad requests with errors and keeps serving', async () => {
    const invalid = await worker.send('this is not json', null);
    assert.match(String((invalid.error as Json).message), /invalid JSON/);
    const unknownOp = await worker.request('frobnicate');
    assert.match(String((unknownOp.error as Json).message), /unknown op/);
    const unknownType = await worker.request('check', { resource: { type: 'Nosuchtype', title: 'x', parameters: {} } });
    assert.match(String((unknownType.error as Json).message), /Unknown resource type/);
    const badParam = await worker.request('apply', {
      resource: { type: 'File', title: join(root, 'p'), parameters: { nosuch: 1 } },
    });
    assert.match(String((badParam.error as Json).message), /nosuch/);
    const failing = await worker.request('apply', {
      resource: { type: 'Exec', title: 'fails', parameters: { command: '/bin/false' } },
    });
    assert.equal(failing.failed, true, JSON.stringify(failing));
    assert.ok(failing.error);
    const noResource = await worker.request('check');
    assert.ok(noResource.error);
    assert.equal((await worker.request('ping')).pong, true);
  });

  it('answers every op of the protocol (src/puppet/runtime/protocol.ts) with only the reply fields it declares', async () => {
    const resource = { type: 'Notify', title: 'protocol', parameters: { message: 'hi' }, sensitive: [] };
    const requests: Record<WorkerOp, Json> = {
      ping: {},
      compile: { code: "notify { 'p': }", facts: {} },
      check: { resource },
      apply: { resource },
      refresh: { resource },
    };
    for (const [op, def] of Object.entries(WORKER_OPS)) {
      const reply = await worker.request(op, requests[op as WorkerOp]);
      const declared = ['id', 'error', ...Object.keys(def.reply)];
      assert.deepEqual(
        Object.keys(reply).filter((k) => !declared.includes(k)),
        [],
        `${op}: ${JSON.stringify(reply)}`,
      );
      // Notify has no refresh: that op's error is Puppet's, never a protocol mismatch.
      if (op === 'refresh') assert.match(String((reply.error as Json).message), /does not support refresh/);
      else assert.equal(reply.error, null, `${op}: ${JSON.stringify(reply.error)}`);
    }
  });

  it('exits cleanly when stdin closes', async () => {
    await worker.close();
    const code = await Promise.race([worker.exited, new Promise<string>((res) => setTimeout(() => res('timeout'), 15_000))]);
    assert.equal(code, 0, worker.stderr);
  });
});
