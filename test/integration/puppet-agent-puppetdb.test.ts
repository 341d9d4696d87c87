// `mgmt puppet agent` reporting into a real PuppetDB through a real Puppet Server (`reports = store, puppetdb`,
// `storeconfigs_backend = puppetdb`, the Debian PuppetDB terminus), each service started once for this file:
// PuppetDB's TLS port serves the Puppet Server's own CA and certificate, so the server's terminus and the node
// trust it. A node runs `puppet agent -t`, then `mgmt puppet agent`: PuppetDB's reports query holds our report
// with its status, resource events and metrics (the same metric names as Puppet's own report); a long-running
// agent's drift repair arrives there with its event and the corrective_change metric. Then `mgmt puppet diff --from-puppetdb`: the catalog
// the node runs now (PuppetDB's) against a git ref's compile, over https with the node's certificate.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { agentDirs, startTestPuppetServer, type TestPuppetServer } from '../harness/puppet-server.js';
import { startTestPuppetDb, type TestPuppetDb } from '../harness/puppetdb.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';

let server: TestPuppetServer | undefined;
let pdb: TestPuppetDb | undefined;
let root: string;
let node: { confdir: string; vardir: string; ssldir: string };
let managed: string;
/** PuppetDB's TLS URL by the name its certificate (the Puppet Server's) carries. */
let pdbTls: string;

const site = (motd: string) => `node default {
  file { '${managed}/motd': ensure => file, content => "${motd}\\n", mode => '0644' }
  file { '${managed}/app.conf': ensure => file, source => 'puppet:///modules/app/app.conf', mode => '0640' }
}
`;

interface PdbEvent {
  resource_type: string;
  resource_title: string;
  property: string | null;
  status: string;
  old_value: unknown;
  new_value: unknown;
  corrective_change: boolean | null;
}
interface PdbReport {
  hash: string;
  transaction_uuid: string;
  status: string;
  noop: boolean;
  corrective_change: boolean | null;
  report_format: number;
  cached_catalog_status: string | null;
  configuration_version: string;
  puppet_version: string;
  resource_events: { data?: PdbEvent[]; href: string };
  metrics: { data?: { category: string; name: string; value: number }[]; href: string };
  logs: { data?: { level: string; message: string }[]; href: string };
}

const db = (): TestPuppetDb => {
  assert.ok(pdb, 'PuppetDB started');
  return pdb;
};
const reportsQuery = `/pdb/query/v4/reports?query=${encodeURIComponent(JSON.stringify(['=', 'certname', 'node1']))}`;
/** The node's reports in PuppetDB. */
const pdbReports = async () => (await db().query(reportsQuery)) as PdbReport[];
/** PuppetDB's copy of the report with this transaction UUID, once its command is processed (PuppetDB queues it). */
async function pdbReport(uuid: string): Promise<PdbReport> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = (await pdbReports()).find((x) => x.transaction_uuid === uuid);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`PuppetDB holds no report ${uuid} for node1 after 60 s\n${db().log()}`);
    // PuppetDB processes the server's `store report` command asynchronously: no event says it is done.
    await new Promise((res) => setTimeout(res, 250));
  }
}
/** The transaction UUID of the node's last run (last_run_report.yaml, which both agents write). */
const lastUuid = () =>
  (yaml.load(readFileSync(join(node.vardir, 'state', 'last_run_report.yaml'), 'utf8').replace(/^--- !ruby\/object:\S+\n/, '')) as { transaction_uuid: string })
    .transaction_uuid;
const metricNames = (r: PdbReport, categories: readonly string[]) =>
  (r.metrics.data ?? [])
    .filter((m) => categories.includes(m.category))
    .map((m) => `${m.category}.${m.name}`)
    .sort();
const metric = (r: PdbReport, category: string, name: string) => r.metrics.data?.find((m) => m.category === category && m.name === name)?.value;

function puppetAgentTest(): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('puppet', ['agent', '-t', '--confdir', node.confdir, '--waitforcert', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('mgmt puppet agent reporting into PuppetDB through a real Puppet Server', { timeout: 1_800_000 }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mgmt-agent-pdb-'));
    managed = join(root, 'managed');
    mkdirSync(managed);
    const s = await startTestPuppetServer({
      reports: 'store, puppetdb',
      serverSettings: ['storeconfigs = true', 'storeconfigs_backend = puppetdb'],
    });
    server = s;
    pdb = await startTestPuppetDb({
      tls: { ca: join(s.ssldir, 'certs', 'ca.pem'), cert: join(s.ssldir, 'certs', 'puppet.pem'), key: join(s.ssldir, 'private_keys', 'puppet.pem') },
    });
    pdbTls = `https://localhost:${new URL(pdb.tlsUrl).port}`;
    // The terminus reads puppetdb.conf at its first use (no agent has asked the server for anything yet).
    writeFileSync(join(s.confdir, 'puppetdb.conf'), `[main]\nserver_urls = ${pdbTls}\nsoft_write_failure = false\n`);
    node = agentDirs(join(root, 'node1'), s, 'node1', [`publicdir = ${join(root, 'node1', 'var', 'public')}`]);
    s.writeCode('modules/app/files/app.conf', 'port = 8080\n');
    s.writeSite(site('hello'));
  });
  after(async () => {
    killAll();
    await server?.cleanup();
    await pdb?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('puppet agent -t, then mgmt puppet agent: PuppetDB holds our report with its status, resource events and metrics', async () => {
    const p = await puppetAgentTest();
    assert.equal(p.code, 2, p.out);
    const puppets = await pdbReport(lastUuid());

    writeFileSync(join(managed, 'motd'), 'tampered\n');
    const r = await mgmtRun(['puppet', 'agent', '--confdir', node.confdir, '--onetime', '--detailed-exitcodes']);
    assert.equal(r.code, 2, r.stderr);
    const uuid = lastUuid();
    assert.notEqual(uuid, puppets.transaction_uuid);
    const ours = await pdbReport(uuid);
    assert.deepEqual(
      [ours.status, ours.noop, ours.report_format, ours.cached_catalog_status],
      ['changed', false, 12, 'not_used'],
      JSON.stringify(ours).slice(0, 2000),
    );
    assert.equal(ours.configuration_version.length > 0, true);
    assert.equal(ours.puppet_version, puppets.puppet_version, 'the Puppet version, as puppet agent reports it');
    const events = ours.resource_events.data ?? [];
    assert.deepEqual(
      events.map((e) => [`${e.resource_type}[${e.resource_title}]`, e.property, e.status, String(e.old_value).slice(0, 8), String(e.new_value).slice(0, 8)]),
      [[`File[${managed}/motd]`, 'content', 'success', '{sha256}', '{sha256}']],
    );
    assert.equal(metric(ours, 'changes', 'total'), 1);
    assert.equal(metric(ours, 'events', 'success'), 1);
    assert.equal(metric(ours, 'resources', 'total'), 2);
    assert.equal(metric(ours, 'resources', 'changed'), 1);
    assert.ok((metric(ours, 'time', 'config_retrieval') ?? 0) > 0);
    // The same metrics as Puppet's own agent reports for this node (dashboards read them by name).
    const categories = ['resources', 'changes', 'events'];
    assert.deepEqual(metricNames(ours, categories), metricNames(puppets, categories));
    assert.ok((ours.logs.data ?? []).some((l) => l.message.includes('Applied catalog in')));
    // The node's view: its latest report is ours, changed.
    const n = (await db().query('/pdb/query/v4/nodes/node1')) as { latest_report_hash: string; latest_report_status: string };
    assert.deepEqual([n.latest_report_hash, n.latest_report_status], [ours.hash, 'changed']);
  });

  it('a long-running agent: drift repaired between runs reaches PuppetDB with its event, counted as a corrective change', async () => {
    const d = mgmt(['puppet', 'agent', '--confdir', node.confdir, '--report-interval', '1']);
    try {
      const before = lastUuid();
      await waitUntil(() => lastUuid() !== before, 240_000, 'the first run');
      const first = await pdbReport(lastUuid());
      assert.equal(first.status, 'unchanged');
      writeFileSync(join(managed, 'motd'), 'drift\n');
      await waitUntil(() => readFileSync(join(managed, 'motd'), 'utf8') === 'hello\n', 10_000, 'drift repaired');
      await waitUntil(() => lastUuid() !== first.transaction_uuid, 30_000, 'the drift report');
      const local = yaml.load(readFileSync(join(node.vardir, 'state', 'last_run_report.yaml'), 'utf8').replace(/^--- !ruby\/object:\S+\n/, '')) as {
        corrective_change: boolean;
      };
      assert.equal(local.corrective_change, true, 'the agent sent a corrective report');
      const drift = await pdbReport(lastUuid());
      // Open-source PuppetDB keeps no corrective_change flag (null): the metric says it.
      assert.equal(drift.status, 'changed');
      assert.equal(metric(drift, 'resources', 'corrective_change'), 1);
      assert.deepEqual(
        (drift.resource_events.data ?? []).map((e) => [e.resource_title, e.property, e.status]),
        [[`${managed}/motd`, 'content', 'success']],
      );
      d.child.kill('SIGTERM');
      assert.equal(await d.exited, 0, d.stderr());
    } finally {
      if (d.child.exitCode === null && d.child.signalCode === null) {
        d.child.kill('SIGKILL');
        await d.exited;
      }
    }
  });

  it('mgmt puppet diff --from-puppetdb: the catalog node1 runs now against a git ref, over https with its certificate', async () => {
    // A control repository: commit 1 is the server's code as it is, commit 2 changes the motd.
    const repo = join(root, 'control');
    mkdirSync(join(repo, 'manifests'), { recursive: true });
    mkdirSync(join(repo, 'modules', 'app', 'files'), { recursive: true });
    writeFileSync(join(repo, 'modules', 'app', 'files', 'app.conf'), 'port = 8080\n');
    const git = (...args: string[]) => {
      const g = spawnSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' });
      assert.equal(g.status, 0, g.stderr);
    };
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'manifests', 'site.pp'), site('hello'));
    git('add', '-A');
    git('commit', '-q', '-m', 'as deployed');
    writeFileSync(join(repo, 'manifests', 'site.pp'), site('hello from the next release'));
    git('commit', '-q', '-am', 'the next release');
    const ssl = (...files: string[]) => files.map((f) => join(node.ssldir, f));
    // The node's certificate as an agent's ssldir, or as octocatalog-diff's three files.
    const asSsldir = ['--ssldir', node.ssldir, '--certname', 'node1'];
    const [ca, cert, key] = ssl('certs/ca.pem', 'certs/node1.pem', 'private_keys/node1.pem');
    const asFiles = ['--puppetdb-ssl-ca', ca!, '--puppetdb-ssl-client-cert', cert!, '--puppetdb-ssl-client-key', key!];
    const diff = (auth: string[], ...args: string[]) =>
      mgmtRun([
        'puppet',
        'diff',
        '--from-puppetdb',
        '--puppetdb-url',
        pdbTls,
        ...auth,
        '--basedir',
        repo,
        '--parallel',
        '1',
        '--output-format',
        'json',
        ...args,
      ]);

    const same = await diff(asSsldir, '-t', 'HEAD~1', '-n', 'node1');
    assert.equal(same.code, 0, `${same.stdout}\n${same.stderr}`);
    const next = await diff(asFiles, '-t', 'HEAD', '-n', 'node1');
    assert.equal(next.code, 2, next.stderr);
    const doc = JSON.parse(next.stdout) as {
      diff: { diff_type: string; type: string; title: string; structure: string[]; old_value: unknown; new_value: unknown }[];
    };
    assert.deepEqual(
      doc.diff.map((e) => [e.diff_type, `${e.type}[${e.title}]`, e.structure.join('::'), e.old_value, e.new_value]),
      [['~', `File[${managed}/motd]`, 'parameters::content', 'hello\n', 'hello from the next release\n']],
    );

    // A node PuppetDB knows nothing of fails alone, naming what PuppetDB holds.
    const unknown = await diff(asSsldir, '-t', 'HEAD', '-n', 'node1,ghost');
    assert.equal(unknown.code, 1, unknown.stderr);
    const out = JSON.parse(unknown.stdout) as { nodes: { node: string; error: { message: string } | null }[] };
    const ghost = out.nodes.find((x) => x.node === 'ghost');
    assert.match(ghost?.error?.message ?? '', /holds no catalog for ghost.*node1/);
    assert.equal(out.nodes.find((x) => x.node === 'node1')?.error, null);
    // Without a client certificate, https is refused before anything is asked, with what to give.
    const bare = await mgmtRun(['puppet', 'diff', '--from-puppetdb', '--puppetdb-url', pdbTls, '--basedir', repo, '-t', 'HEAD', '-n', 'node1']);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /https needs this node's Puppet certificate: give --ssldir/);
  });
});
