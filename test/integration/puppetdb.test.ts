// PuppetDB as a source, against a real PuppetDB 7.12 on a private PostgreSQL 15 (test/harness/puppetdb.ts), started
// once for this file: three nodes whose catalogs the real Puppet compiled and the real PuppetDB terminus stored, a
// deactivated node, a node with facts and no catalog. The client (plain http on loopback, https with a node's
// certificate, paging, bounds), `mgmt puppet translate --puppetdb` and `mgmt puppet coverage` (text, JSON, Markdown).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { readPuppetSsl } from '../../src/puppet/agent/puppet-ssl.js';
import { PuppetDbClient, PuppetDbError } from '../../src/puppet/agent/puppetdb-client.js';
import { nodeCatalogFromPuppetDb } from '../../src/puppet/agent/puppetdb-catalog.js';
import type { FleetCoverage } from '../../src/puppet/agent/fleet-coverage.js';
import { mgmtRun, killAll } from '../harness/cli.js';
import { makePki } from '../harness/etcd.js';
import { startTestPuppetDb, type TestPuppetDb } from '../harness/puppetdb.js';

const WEB = 'web1.example.test';
const DB = 'db1.example.test';
const LEGACY = 'legacy1.example.test';
const GONE = 'gone1.example.test';
const FACTS_ONLY = 'new1.example.test';

// Different catalogs: web is all native; db has a degraded file attribute (validate_cmd) and a tidy (no translation: fallback);
// legacy has tidy and sshkey (both fallbacks). Nothing here changes the machine: the harness compiles with --noop.
const manifests: Record<string, string> = {
  [WEB]: `
class web {
  file { '/srv/mgmt-pdb-test/www': ensure => directory, mode => '0755' }
  file { '/srv/mgmt-pdb-test/www/index.html': ensure => file, content => "hello\\n", require => File['/srv/mgmt-pdb-test/www'] }
  host { 'backend.example.test': ip => '10.0.0.2' }
  package { 'sl': ensure => installed }
}
include web
`,
  [DB]: `
file { '/srv/mgmt-pdb-test/db.conf': ensure => file, content => "port=5432\\n", validate_cmd => '/bin/true %' }
exec { 'reload-db': command => '/bin/true', refreshonly => true, subscribe => File['/srv/mgmt-pdb-test/db.conf'] }
tidy { '/srv/mgmt-pdb-test/dumps': age => '4w', recurse => true }
`,
  [LEGACY]: `
file { '/srv/mgmt-pdb-test/legacy.txt': ensure => file, content => "old\\n" }
tidy { '/srv/mgmt-pdb-test/legacy-tmp': age => '1w' }
sshkey { 'git.example.test': type => 'ssh-ed25519', key => 'AAAAC3NzaC1lZDI1NTE5AAAAIO1mgmttestkeyonly' }
`,
};

interface Graph {
  readonly resources: Record<string, (Record<string, unknown> & { name: string })[]>;
  readonly edges: { from: { kind: string; name: string }; to: { kind: string; name: string } }[];
}

let pdb: TestPuppetDb;
/** Set once started: what `after` stops (a failed start leaves nothing to stop). */
let started: TestPuppetDb | undefined;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mgmt-puppetdb-it-'));
  pdb = started = await startTestPuppetDb();
  for (const [node, manifest] of Object.entries(manifests)) await pdb.compileInto({ node, manifest });
  // A node that left the fleet: its catalog stays in PuppetDB, deactivated.
  await pdb.replaceCatalog({
    certname: GONE,
    environment: 'production',
    resources: [{ type: 'Tidy', title: '/tmp/gone', exported: false, tags: ['tidy'], parameters: { age: '1d' } }],
    edges: [],
  });
  await pdb.deactivateNode(GONE);
  // A node that has sent facts and never a catalog (it failed to compile, say).
  await pdb.replaceFacts(FACTS_ONLY, 'production', { kernel: 'Linux', fqdn: FACTS_ONLY });
});

after(async () => {
  killAll();
  await started?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the PuppetDB client', () => {
  it('lists the active nodes, deactivated ones left out, the same a page at a time', async () => {
    const whole = new PuppetDbClient({ url: pdb.url });
    const paged = new PuppetDbClient({ url: pdb.url, pageSize: 2 });
    try {
      const names = (await whole.activeNodes()).map((n) => n.certname);
      assert.deepEqual(names, [DB, LEGACY, FACTS_ONLY, WEB].sort());
      assert.deepEqual(
        (await paged.activeNodes()).map((n) => n.certname),
        names,
      );
      assert.equal((await whole.node(GONE))?.deactivated !== null, true, 'PuppetDB knows the deactivated node');
    } finally {
      whole.close();
      paged.close();
    }
  });

  it('reads a catalog, facts and reports over https with a node certificate', async () => {
    const client = new PuppetDbClient({ url: pdb.tlsUrl, ssl: readPuppetSsl(pdb.ssldirFor('mgmt-client.example.test')) });
    try {
      const got = await nodeCatalogFromPuppetDb(client, WEB, { facts: true });
      const refs = got.catalog.resources.map((r) => `${r.type}[${r.title}]`);
      for (const r of ['File[/srv/mgmt-pdb-test/www/index.html]', 'Host[backend.example.test]', 'Package[sl]', 'Class[Web]'])
        assert.ok(refs.includes(r), `${r} in ${refs.join(' ')}`);
      assert.equal(got.catalog.node, WEB);
      assert.equal(got.info.environment, 'production');
      assert.match(got.info.version ?? '', /^\d+$/);
      assert.equal(got.info.deactivated, null);
      assert.equal(got.facts?.values.kernel, 'Linux');
      const reports = await client.reports(WEB);
      const [report] = reports;
      assert.ok(report && reports.length === 1, JSON.stringify(reports));
      assert.equal(report.certname, WEB);
      assert.equal(report.noop, true);
    } finally {
      client.close();
    }
  });

  it('says which CA does not sign PuppetDB, when the ssldir is of another CA', async () => {
    const other = join(tmp, 'other-ca');
    const ssldir = join(other, 'ssl');
    for (const d of ['certs', 'private_keys']) mkdirp(join(ssldir, d));
    const pki = makePki(mkdirp(join(other, 'pki')));
    writeFileSync(join(ssldir, 'certs', 'ca.pem'), readFileSync(pki.ca));
    writeFileSync(join(ssldir, 'certs', 'stranger.pem'), readFileSync(pki.clientCert));
    writeFileSync(join(ssldir, 'private_keys', 'stranger.pem'), readFileSync(pki.clientKey));
    const client = new PuppetDbClient({ url: pdb.tlsUrl, ssl: readPuppetSsl(ssldir) });
    try {
      await assert.rejects(client.activeNodes(), (e: Error) => {
        assert.ok(e instanceof PuppetDbError);
        assert.match(
          e.message,
          new RegExp(
            `GET ${pdb.tlsUrl.replace(/[.]/g, '[.]')}/pdb/query/v4/nodes: PuppetDB's certificate is not signed by the CA in .*other-ca/ssl/certs/ca[.]pem`,
          ),
        );
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('refuses an answer larger than its bound', async () => {
    const client = new PuppetDbClient({ url: pdb.url, maxBytes: 2000 });
    try {
      await assert.rejects(client.catalog(WEB), /catalogs\/web1[.]example[.]test: the answer is larger than 2000 bytes: narrow the query/);
    } finally {
      client.close();
    }
  });
});

describe('mgmt puppet translate --puppetdb', () => {
  it("translates a node's latest catalog and writes its facts", async () => {
    const facts = join(tmp, 'web-facts.yaml');
    const r = await mgmtRun(['puppet', 'translate', '--puppetdb', pdb.url, '--node', WEB, '--facts-out', facts]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${WEB}: catalog \\d+ of \\S+, environment production from PuppetDB ${pdb.url}`));
    assert.match(r.stderr, /resources: 4 native, 0 degraded, 0 fallback \(100% native\)/);
    const graph = yaml.load(r.stdout) as Graph;
    const byId = new Map(Object.entries(graph.resources).flatMap(([kind, list]) => list.map((x) => [`${kind}[${x.name}]`, x] as const)));
    assert.equal(byId.get('file[/srv/mgmt-pdb-test/www/index.html]')?.content, 'hello\n');
    assert.ok(byId.has('host[backend.example.test]') && byId.has('pkg[sl]'), [...byId.keys()].join(' '));
    const edge = (e: Graph['edges'][number]) => `${e.from.kind}[${e.from.name}] -> ${e.to.kind}[${e.to.name}]`;
    assert.ok(graph.edges.map(edge).includes('file[/srv/mgmt-pdb-test/www] -> file[/srv/mgmt-pdb-test/www/index.html]'), graph.edges.map(edge).join('\n'));
    const written = yaml.load(readFileSync(facts, 'utf8')) as Record<string, unknown>;
    assert.equal(written.kernel, 'Linux');
  });

  it('gives the same graph as compiling the same manifest locally', async () => {
    const site = join(tmp, 'db-site.pp');
    writeFileSync(site, manifests[DB]!);
    const local = await mgmtRun(['puppet', 'translate', '--manifest', site, '--node', DB]);
    assert.equal(local.code, 0, local.stderr);
    const fromDb = await mgmtRun(['puppet', 'translate', '--puppetdb', pdb.url, '--node', DB]);
    assert.equal(fromDb.code, 0, fromDb.stderr);
    // The same resources, parameters and edges; only the comments (where each came from) differ.
    assert.deepEqual(yaml.load(fromDb.stdout), yaml.load(local.stdout));
  });

  it('names the nodes it holds when the node is unknown', async () => {
    const r = await mgmtRun(['puppet', 'translate', '--puppetdb', pdb.url, '--node', 'nosuch.example.test']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`PuppetDB at ${pdb.url} holds no catalog for nosuch.example.test: .*its active nodes include ${DB}, ${LEGACY}`));
  });

  it('says what to do when nothing listens at the URL', async () => {
    const r = await mgmtRun(['puppet', 'translate', '--puppetdb', 'http://127.0.0.1:1', '--node', WEB]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /GET http:\/\/127.0.0.1:1\/pdb\/query\/v4\/catalogs\/web1.example.test: connection refused: is PuppetDB running and listening on 127.0.0.1:1\?/,
    );
  });
});

describe('mgmt puppet coverage', () => {
  it('plans the migration of three nodes with different catalogs (JSON)', async () => {
    const r = await mgmtRun(['puppet', 'coverage', '--puppetdb', pdb.tlsUrl, '--ssldir', pdb.ssldirFor('mgmt-client.example.test'), '--output-format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as FleetCoverage;
    assert.deepEqual(
      plan.nodes.map((n) => [n.node, n.status]),
      [
        [WEB, 'translated'],
        [DB, 'translated'],
        [LEGACY, 'translated'],
        [FACTS_ONLY, 'no-catalog'],
      ],
    );
    const [web, db, legacy] = plan.nodes;
    assert.deepEqual([web?.total, web?.native, web?.nativePct, web?.blockers.length], [4, 4, 100, 0]);
    assert.deepEqual([db?.total, db?.native, db?.degraded, db?.fallback], [3, 1, 1, 1]);
    assert.deepEqual(db?.blockers.map((b) => [b.type, b.attribute ?? null, b.status]).sort(), [
      ['File', 'validate_cmd', 'degraded'],
      ['Tidy', null, 'fallback'],
    ]);
    assert.deepEqual([legacy?.total, legacy?.native, legacy?.fallback], [3, 1, 2]);
    assert.deepEqual(plan.totals, { nodes: 4, translated: 3, ready: 1, noCatalog: 1, failed: 0, resources: 10, native: 6, nativePct: 60 });
    const first = plan.blockers[0];
    assert.deepEqual([first?.type, first?.nodes, first?.only, first?.resources, first?.nodeNames], ['Tidy', 2, 0, 2, [DB, LEGACY]]);
    assert.deepEqual(
      plan.blockers
        .slice(1)
        .map((b) => [b.type, b.nodes])
        .sort(),
      [
        ['File', 1],
        ['Sshkey', 1],
      ],
    );
    assert.ok(!plan.nodes.some((n) => n.node === GONE), 'a deactivated node is not planned');
  });

  it('prints the plan as text and as Markdown', async () => {
    const text = await mgmtRun(['puppet', 'coverage', '--puppetdb', pdb.url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`^PuppetDB ${pdb.url}: 4 active nodes, 3 translated, 1 fully native, 1 without a catalog; 10 resources, 6 native \\(60%\\)`),
    );
    assert.match(text.stdout, new RegExp(`  ${WEB.replace(/[.]/g, '[.]')} +4 +100% +0% +0% +ready: 100% native`));
    assert.match(text.stdout, /\n +2 +0 +2 +Tidy: no native translation yet \(fallback\): db1.example.test, legacy1.example.test\n/);
    const out = join(tmp, 'plan.md');
    const md = await mgmtRun(['puppet', 'coverage', '--puppetdb', pdb.url, '--output-format', 'markdown', '-o', out]);
    assert.equal(md.code, 0, md.stderr);
    const doc = readFileSync(out, 'utf8');
    assert.match(doc, /^# Migration plan\n/);
    assert.match(doc, new RegExp(`\\| ${WEB} \\| 4 \\| 100% \\| 0% \\| 0% \\| ready: 100% native \\|`));
    assert.match(doc, /\| 2 \| 0 \| 2 \| Tidy: no native translation yet \(fallback\) \| db1.example.test, legacy1.example.test \|/);
  });
});

function mkdirp(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}
