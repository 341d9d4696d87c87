// The contract of issue 12, point 2: for the same node, facts, environment and configuration, `mgmt puppet`
// compiles the same catalog as `puppet apply`. Over fixtures/puppet/environments (a puppet.conf whose [user]
// section picks the non-default environment `staging`, its environment.conf, Hiera 5 data at the global,
// environment and module levels) and a node certificate with extensions in a temporary ssldir:
// - the reference is `puppet apply` itself, run with `--noop` and `--catalog_cache_terminus json`: Puppet caches
//   the catalog it compiled, and that is the one compared (nothing of Puppet's pipeline is re-implemented);
// - ours is compiled both ways mgmt-ts compiles: the face (`mgmt puppet translate`) and the long-lived worker
//   (`mgmt puppet`), with the same flags;
// - both run facter on this machine (same node, same facts); the manifest uses no volatile fact.
// They are compared resource by resource (type, title, tags, file, line, exported, parameters), with the
// containment edges, the classes, the environment and the catalog version (environment.conf's config_version).
// One difference is expected and asserted: `$trusted.extensions`, which puppet apply leaves empty (its compiler
// gives a local node no certificate extensions) and mgmt puppet reads from the node's certificate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { compileCatalog } from '../../src/puppet/runtime/face-runner.js';
import { DEBIAN_MODULES, type PuppetSettings } from '../../src/puppet/runtime/puppet-settings.js';
import { configurePuppet, getPuppetWorker, shutdownPuppetWorker } from '../../src/puppet/runtime/worker.js';
import { inheritedEnv, run } from '../../src/system/proc/launcher.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';
import { PUPPET } from '../harness/puppet-apply.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURE = join(repo, 'fixtures', 'puppet', 'environments');
const CERTNAME = 'node1.example.com';
/** The extensions of the node's certificate: Puppet's pp_role and pp_environment, and an OID of the private arc. */
const EXTENSIONS = { pp_role: 'web', pp_environment: 'prod', '1.3.6.1.4.1.34380.1.2.1': 'custom-value' };

/** A catalog resource reduced to what both catalogs carry. */
interface Res {
  readonly tags: readonly string[];
  readonly file: string | null;
  readonly line: number | null;
  readonly exported: boolean;
  readonly parameters: Readonly<Record<string, unknown>>;
}

interface Cat {
  readonly environment: string;
  readonly version: string | null;
  readonly resources: ReadonlyMap<string, Res>;
  readonly edges: readonly string[];
  readonly classes: readonly string[];
}

/** Puppet's catalog JSON or the face's document, reduced to `Cat`. */
function reduce(doc: Record<string, unknown>, version: unknown): Cat {
  const resources = new Map<string, Res>();
  for (const r of doc.resources as Record<string, unknown>[]) {
    resources.set(`${String(r.type)}[${String(r.title)}]`, {
      tags: [...(r.tags as string[])].sort(),
      file: typeof r.file === 'string' ? r.file : null,
      line: typeof r.line === 'number' ? r.line : null,
      exported: r.exported === true,
      parameters: (r.parameters as Record<string, unknown> | undefined) ?? {},
    });
  }
  return {
    environment: String(doc.environment),
    version: typeof version === 'string' || typeof version === 'number' ? String(version) : null,
    resources,
    edges: (doc.edges as { source: string; target: string }[]).map((e) => `${e.source} -> ${e.target}`).sort(),
    classes: [...(doc.classes as string[])].sort(),
  };
}

let dir: string;
let confdir: string;
let ssldir: string;
let envdir: string;
let applied: Cat;
let settings: PuppetSettings;

/** Runs a command to completion; fails with its output unless it exits 0. */
async function mustRun(argv: string[], env: Record<string, string>): Promise<string> {
  let out = '';
  const r = await run({ command: { argv }, env }, (_s, line) => (out += `${line}\n`));
  assert.equal(r.code, 0, `${argv.join(' ')} failed:\n${out}`);
  return out;
}

/** `puppet apply --noop` of `manifest`; returns the catalog Puppet compiled (from its JSON catalog cache). */
async function puppetApply(args: string[], name: string): Promise<{ catalog: Record<string, unknown>; out: string }> {
  const vardir = join(dir, `apply-${name}`);
  mkdirSync(join(vardir, 'home'), { recursive: true });
  const out = await mustRun(
    [
      PUPPET,
      'apply',
      '--noop',
      '--color=false',
      '--log_level',
      'notice',
      // what puppet apply writes stays in the test's directory
      ...['vardir', 'logdir', 'rundir', 'publicdir'].flatMap((d) => [`--${d}`, join(vardir, d)]),
      '--catalog_cache_terminus',
      'json',
      ...args,
    ],
    { ...inheritedEnv(), HOME: join(vardir, 'home') },
  );
  const certname = args[args.indexOf('--certname') + 1]!;
  const catalog = JSON.parse(readFileSync(join(vardir, 'vardir', 'client_data', 'catalog', `${certname}.json`), 'utf8')) as Record<string, unknown>;
  return { catalog, out };
}

before(async () => {
  for (const [bin, pkg] of [
    [PUPPET, 'puppet'],
    ['openssl', 'openssl'],
  ] as const) {
    const probe = spawnSync(bin, ['version'], { encoding: 'utf8' });
    if (probe.error) throw new Error(`${bin} is not available (${probe.error.message}); install the Debian package "${pkg}" (scripts/system-deps.mjs)`);
  }
  dir = await mkdtemp(join(tmpdir(), 'mgmt-puppet-env-'));
  cpSync(FIXTURE, join(dir, 'fixture'), { recursive: true });
  confdir = join(dir, 'fixture', 'confdir');
  envdir = join(dir, 'fixture', 'code', 'environments');
  // [user] is the section puppet apply reads (its run mode); [agent] must be ignored by both.
  writeFileSync(
    join(confdir, 'puppet.conf'),
    `[main]\nenvironmentpath = ${envdir}\nbasemodulepath = ${DEBIAN_MODULES}\n[user]\nenvironment = staging\n[agent]\nenvironment = production\n`,
  );
  // The node's certificate, with extensions, where Puppet looks for it: <ssldir>/certs/<certname>.pem.
  ssldir = join(dir, 'ssl');
  mkdirSync(join(ssldir, 'certs'), { recursive: true });
  mkdirSync(join(ssldir, 'private_keys'), { recursive: true, mode: 0o700 });
  const oids: Record<string, string> = { pp_role: '1.3.6.1.4.1.34380.1.1.13', pp_environment: '1.3.6.1.4.1.34380.1.1.12' };
  const extLines = Object.entries(EXTENSIONS).map(([k, v]) => `${oids[k] ?? k} = ASN1:UTF8String:${v}`);
  writeFileSync(
    join(dir, 'cert.cnf'),
    `[req]\ndistinguished_name = dn\nx509_extensions = v3\nprompt = no\n[dn]\nCN = ${CERTNAME}\n[v3]\n${extLines.join('\n')}\n`,
  );
  await mustRun(
    [
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-config',
      join(dir, 'cert.cnf'),
      '-keyout',
      join(ssldir, 'private_keys', `${CERTNAME}.pem`),
      '-out',
      join(ssldir, 'certs', `${CERTNAME}.pem`),
    ],
    inheritedEnv(),
  );
  settings = { confdir, codedir: join(dir, 'fixture', 'code'), ssldir, certname: CERTNAME };
  // puppet apply compiles the staging environment's main manifest; it takes a manifest argument (without one it
  // reads code from stdin), so both sides are given the one environment.conf names.
  const reference = await puppetApply(
    ['--confdir', confdir, '--codedir', settings.codedir!, '--ssldir', ssldir, '--certname', CERTNAME, join(envdir, 'staging', 'manifests', 'site.pp')],
    'main',
  );
  applied = reduce(reference.catalog, reference.catalog.version);
});

after(async () => {
  killAll();
  await shutdownPuppetWorker().catch(() => undefined);
  for (const pid of getPuppetWorker().startedPids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

const EXPECTED_DIFFERENCE = 'Notify[trusted extensions]';

/** Asserts that `ours` is `applied` resource by resource, apart from $trusted.extensions (checked on its own). */
function assertSameCatalog(ours: Cat, label: string): void {
  assert.equal(ours.environment, applied.environment, `${label}: environment`);
  assert.equal(ours.version, applied.version, `${label}: catalog version (config_version)`);
  assert.deepEqual([...ours.resources.keys()].sort(), [...applied.resources.keys()].sort(), `${label}: the same resources`);
  for (const [ref, theirs] of applied.resources) {
    if (ref === EXPECTED_DIFFERENCE) continue;
    assert.deepEqual(ours.resources.get(ref), theirs, `${label}: ${ref} differs from puppet apply's`);
  }
  assert.deepEqual(ours.edges, applied.edges, `${label}: containment edges`);
  assert.deepEqual(ours.classes, applied.classes, `${label}: classes`);
  assert.deepEqual(ours.resources.get(EXPECTED_DIFFERENCE)?.parameters, { message: 'role=web custom=custom-value' }, `${label}: $trusted.extensions`);
}

describe('mgmt puppet compiles the catalog puppet apply compiles (environments, Hiera 5 at three levels, trusted facts)', () => {
  it('puppet apply (the reference) compiled the staging environment with data from all three Hiera levels', () => {
    assert.equal(applied.environment, 'staging');
    assert.equal(applied.version, 'staging-42');
    assert.equal(applied.resources.has('Notify[wrong environment]'), false);
    const message = (ref: string) => applied.resources.get(ref)?.parameters.message;
    assert.equal(message('Notify[first found]'), 'from the global level');
    assert.equal(message('Notify[unique merge]'), 'alice,carol,bob');
    assert.equal(message('Notify[deep merge]'), 'level=warn format=json global=true env=true');
    assert.equal(message('Notify[hash merge]'), 'a=env-staging,b=env-staging,c=env-common');
    assert.equal(message('Notify[module data]'), '1.2.3 (module data)');
    assert.equal(message('Notify[app]'), 'version=1.2.3 (module data) listen=9090 workers=4 tls=true');
    assert.equal(message('Notify[node]'), `env=staging server_env=staging certname=${CERTNAME} auth=local host=node1 domain=example.com`);
    assert.equal(message(EXPECTED_DIFFERENCE), 'role= custom=', 'puppet apply gives a local node no certificate extensions');
  });

  it('the face (mgmt puppet translate) compiles the same catalog', async () => {
    const res = await compileCatalog({ manifest: join(envdir, 'staging', 'manifests', 'site.pp'), settings });
    assert.ok(res.ok, res.stderr);
    const doc = JSON.parse(res.catalog) as Record<string, unknown>;
    assertSameCatalog(reduce(doc, doc.config_version), 'face');
  });

  it('the worker (mgmt puppet) compiles the same catalog, in the same worker as the fallback resources', async () => {
    configurePuppet({ puppetBin: PUPPET, stateDir: join(dir, 'worker-state'), settings });
    const reply = await getPuppetWorker().request('compile', { manifest: join(envdir, 'staging', 'manifests', 'site.pp') });
    assert.equal(reply.error, null, JSON.stringify(reply.error));
    const doc = reply.catalog as Record<string, unknown>;
    assertSameCatalog(reduce(doc, doc.config_version), 'worker');
  });
});

describe("the issue's example: --hiera_config", () => {
  it('a lookup() that puppet apply --hiera_config answers with 9999 gives 9999 with mgmt puppet translate and mgmt puppet', async () => {
    const hiera = join(dir, 'hiera-9999');
    mkdirSync(join(hiera, 'data'), { recursive: true });
    writeFileSync(join(hiera, 'hiera.yaml'), 'version: 5\nhierarchy:\n  - name: common\n    path: common.yaml\n');
    writeFileSync(join(hiera, 'data', 'common.yaml'), 'app::port: 9999\n');
    const emptyConf = join(dir, 'empty-conf');
    mkdirSync(emptyConf, { recursive: true });
    const target = join(dir, 'port.txt');
    const code = `file { '${target}': content => "\${lookup('app::port', Integer, 'first', 0)}\\n" }`;
    const flags = ['--confdir', emptyConf, '--hiera_config', join(hiera, 'hiera.yaml'), '--certname', 'n1'];

    const reference = await puppetApply([...flags, '-e', code], 'hiera');
    const file = (reference.catalog.resources as { type: string; parameters?: { content?: string } }[]).find((r) => r.type === 'File');
    assert.equal(file?.parameters?.content, '9999\n', 'puppet apply answers 9999');

    const translated = await mgmtRun(['puppet', 'translate', '--code', code, ...flags]);
    assert.equal(translated.code, 0, translated.stderr);
    assert.match(translated.stdout, /content: "9999\\n"/);

    // the dashed spelling works too; mgmt puppet writes the file with the looked-up value
    const ran = await mgmtRun([
      'puppet',
      '--code',
      code,
      ...flags.map((f) => f.replace('hiera_config', 'hiera-config')),
      '--converged-timeout',
      '0',
      '--tmp-prefix',
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(readFileSync(target, 'utf8'), '9999\n');
  });
});

describe('environments and settings: what is compiled, and errors that name the file', () => {
  it("without a manifest, the environment's main manifest (environment.conf) is compiled: the same catalog again", async () => {
    const res = await compileCatalog({ settings });
    assert.ok(res.ok, res.stderr);
    const doc = JSON.parse(res.catalog) as Record<string, unknown>;
    assertSameCatalog(reduce(doc, doc.config_version), 'face, main manifest');
  });

  it('--environment wins over puppet.conf', async () => {
    const res = await compileCatalog({ settings: { ...settings, environment: 'production' } });
    assert.ok(res.ok, res.stderr);
    const doc = reduce(JSON.parse(res.catalog) as Record<string, unknown>, null);
    assert.equal(doc.environment, 'production');
    assert.ok(doc.resources.has('Notify[wrong environment]'));
  });

  it('a missing environment is an error naming the environmentpath, where it was set, and what to do (face and worker)', async () => {
    const want = new RegExp(
      `Could not find environment 'nosuch': no directory 'nosuch' in the environmentpath ${envdir} \\(set in ${confdir}/puppet.conf\\)\\. Create ${envdir}/nosuch`,
    );
    const res = await compileCatalog({ code: 'notice(1)', settings: { ...settings, environment: 'nosuch' } });
    assert.equal(res.ok, false);
    assert.match(res.stderr, want);
    configurePuppet({ puppetBin: PUPPET, stateDir: join(dir, 'worker-state'), settings: { ...settings, environment: 'nosuch' } });
    const reply = await getPuppetWorker().request('compile', { code: 'notice(1)' });
    assert.match(reply.error?.message ?? '', want);
  });

  it('a --config or --hiera_config that does not exist (Puppet would ignore it) is refused, naming the flag', async () => {
    const missing = join(dir, 'no-such', 'puppet.conf');
    const r = await mgmtRun(['puppet', 'translate', '--code', 'notice(1)', '--config', missing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`--config ${missing}: no such file; give a readable puppet.conf`));
    const h = await mgmtRun(['puppet', '--code', 'notice(1)', '--hiera-config', join(dir, 'nope.yaml'), '--tmp-prefix', '--converged-timeout', '0']);
    assert.equal(h.code, 1);
    assert.match(h.stderr, /--hiera_config .*nope\.yaml: no such file; give a readable Hiera 5 hiera\.yaml/);
  });

  it('a node certificate that is not one (here: over 1 MB) fails the compile naming the file and what to do', async () => {
    const big = join(dir, 'big-ssl');
    mkdirSync(join(big, 'certs'), { recursive: true });
    writeFileSync(join(big, 'certs', 'big.example.com.pem'), 'x'.repeat((1 << 20) + 1));
    const res = await compileCatalog({ code: 'notice(1)', settings: { ...settings, ssldir: big, certname: 'big.example.com' } });
    assert.equal(res.ok, false);
    assert.match(
      res.stderr,
      new RegExp(`The node's certificate ${big}/certs/big\\.example\\.com\\.pem is 1048577 bytes, more than a certificate's 1048576; replace it`),
    );
  });

  it("a bad hiera.yaml fails the compile with Puppet's message, which names the file", async () => {
    const bad = join(dir, 'bad-hiera');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'hiera.yaml'), 'version: 5\nhierarchy:\n  - name: x\n    pathz: common.yaml\n');
    const r = await mgmtRun(['puppet', 'translate', '--code', "notice(lookup('k', undef, undef, 1))", '--confdir', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bad}/hiera\\.yaml' has wrong type, entry 'hierarchy' index 0 unrecognized key 'pathz'`));
  });
});

describe("the node's own Puppet state is never written", () => {
  it("with a puppet.conf naming the node's vardir, statedir, rundir and logdir, a compile and an apply write only to our private directory", async () => {
    const node = join(dir, 'node-puppet');
    const conf = join(node, 'etc');
    mkdirSync(conf, { recursive: true });
    const nodeDirs = ['var', 'var/state', 'run', 'log', 'var/client_data', 'var/clientbucket'].map((d) => join(node, d));
    // A node's puppet.conf often sets these (Debian's agent: vardir /var/cache/puppet, logdir, rundir)
    writeFileSync(
      join(conf, 'puppet.conf'),
      `[main]\nvardir = ${node}/var\nstatedir = ${node}/var/state\nrundir = ${node}/run\nlogdir = ${node}/log\n` +
        `client_datadir = ${node}/var/client_data\nclientbucketdir = ${node}/var/clientbucket\nbasemodulepath = ${DEBIAN_MODULES}\n`,
    );
    const priv = join(dir, 'private-state');
    configurePuppet({ puppetBin: PUPPET, stateDir: priv, settings: { confdir: conf, codedir: join(node, 'code'), certname: 'n2' } });
    const worker = getPuppetWorker();
    worker.acquire();
    try {
      const compiled = await worker.request('compile', { code: "notify { 'x': }" });
      assert.equal(compiled.error, null, JSON.stringify(compiled.error));
      const target = join(dir, 'applied-by-puppet.txt');
      const applied = await worker.request('apply', { resource: { type: 'File', title: target, parameters: { content: 'v1\n' }, sensitive: [] } });
      assert.equal(applied.failed, false, JSON.stringify(applied));
      // replacing it would back up the old content into a client bucket: ours, not the node's
      const replaced = await worker.request('apply', { resource: { type: 'File', title: target, parameters: { content: 'v2\n' }, sensitive: [] } });
      assert.equal(replaced.failed, false, JSON.stringify(replaced));
      assert.equal(readFileSync(target, 'utf8'), 'v2\n');
    } finally {
      await worker.release();
    }
    for (const d of nodeDirs) assert.equal(existsSync(d), false, `${d} was created: Puppet wrote into the node's own state`);
    assert.ok(existsSync(join(priv, 'var', 'state', 'state.yaml')), 'Puppet kept its state file in our private directory');
  });
});

describe('mgmt puppet watches what the compile read', () => {
  it("an edit of the environment's Hiera data recompiles and applies the new value (no --manifest: the main manifest)", async () => {
    const root = join(dir, 'live');
    const env = join(root, 'environments', 'live');
    mkdirSync(join(env, 'manifests'), { recursive: true });
    mkdirSync(join(env, 'data'), { recursive: true });
    mkdirSync(join(root, 'conf'), { recursive: true });
    const target = join(root, 'live.txt');
    writeFileSync(join(root, 'conf', 'puppet.conf'), `[main]\nenvironmentpath = ${join(root, 'environments')}\nbasemodulepath = ${DEBIAN_MODULES}\n`);
    writeFileSync(join(env, 'manifests', 'site.pp'), `file { '${target}': content => "\${lookup('live::value')}\\n" }\n`);
    writeFileSync(join(env, 'hiera.yaml'), 'version: 5\nhierarchy:\n  - name: common\n    path: common.yaml\n');
    writeFileSync(join(env, 'data', 'common.yaml'), 'live::value: one\n');
    writeFileSync(join(root, 'facts.yaml'), 'os:\n  family: Debian\n');
    const c = mgmt([
      'puppet',
      '--confdir',
      join(root, 'conf'),
      '--environment',
      'live',
      '--facts',
      join(root, 'facts.yaml'),
      '--certname',
      'n3',
      '--tmp-prefix',
    ]);
    await waitUntil(() => existsSync(target) && readFileSync(target, 'utf8') === 'one\n', 60000, `the first apply; stderr:\n${c.stderr()}`);
    // mgmt starts watching once the first graph is swapped in (run.ts), which it logs: the file may be applied
    // just before that, so the edit waits for the line
    await c.waitForLog(/main: graph n3: 1 resources\n/, 30000);
    writeFileSync(join(env, 'data', 'common.yaml'), 'live::value: two\n');
    await waitUntil(() => readFileSync(target, 'utf8') === 'two\n', 20000, `the recompile after the data edit; stderr:\n${c.stderr()}`);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0, c.stderr());
  });
});
