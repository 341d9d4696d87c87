// `mgmt puppet agent` against a real Puppet Server (Debian's puppetserver 7, test/harness/puppet-server.ts, started
// once for this file): a node first runs `puppet agent -t`, then switches to `mgmt puppet agent` with the same
// confdir and ssldir. No new certificate, the same catalog, the same end state, and the report processed by the
// server (`reports = store, http`: the store processor's file, and every report as the http processor posts it to
// test/harness/report-receiver.ts, found by its transaction UUID and content, never by file name or count: the store
// processor names files by the minute); noop, the disable and run locks, and the long-running agent (a code change
// at --trigger, drift repaired and reported).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { agentDirs, startTestPuppetServer, type TestPuppetServer } from '../harness/puppet-server.js';
import { killAll, mgmt, mgmtRun, waitUntil } from '../harness/cli.js';
import { startTestEtcd } from '../harness/etcd.js';
import { describeReport, type ReceivedReport, type ReportReceiver, startReportReceiver } from '../harness/report-receiver.js';

let server: TestPuppetServer | undefined;
let reports: ReportReceiver | undefined;
let root: string;
let node: { confdir: string; vardir: string; ssldir: string };
let managed: string;

const site = (motd: string) => `node default {
  file { '${managed}/motd': ensure => file, content => "${motd}\\n", mode => '0644' }
  file { '${managed}/conf.d': ensure => directory, mode => '0755' }
  file { '${managed}/conf.d/app.conf': ensure => file, source => 'puppet:///modules/app/app.conf', mode => '0640' }
  exec { 'marker': command => '/usr/bin/touch ${managed}/marker', creates => '${managed}/marker' }
}
`;

/** A report the server stored, without Ruby's tag. */
function storedReport(
  file: string,
): Record<string, unknown> & { resource_statuses: Record<string, Record<string, unknown> & { events: Record<string, unknown>[] }> } {
  return yaml.load(readFileSync(file, 'utf8').replace(/^--- !ruby\/object:\S+\n/, '')) as never;
}
/** The node's last report, as it keeps it in last_run_report.yaml. */
const lastRun = () => storedReport(join(node.vardir, 'state', 'last_run_report.yaml'));
/** The report with this transaction UUID, once the server has processed it. */
const received = (uuid: unknown): Promise<ReceivedReport> => {
  assert.ok(reports);
  return reports.waitFor((r) => r.transaction_uuid === uuid, 30_000, `with transaction_uuid ${String(uuid)}`);
};
/** The server processed the node's last report: it, as the server got it. */
const lastReceived = () => received(lastRun().transaction_uuid);
const metric = (r: Record<string, unknown>, m: string, k: string) =>
  ((r.metrics as Record<string, { values: [string, string, number][] }>)[m]!.values.find((v) => v[0] === k) ?? [])[2];

/** `puppet agent -t` for the node; resolves with its exit code and output. */
function puppetAgentTest(extra: string[] = []): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('puppet', ['agent', '-t', '--confdir', node.confdir, '--waitforcert', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** The server, started in before(). */
const srv = (): TestPuppetServer => {
  assert.ok(server, 'the Puppet Server started');
  return server;
};
/** Runs `body` with a long-running agent, and stops the agent whatever happens (a failed test must not leave it fighting the next one). */
async function withDaemon(args: string[], body: (d: ReturnType<typeof mgmt>) => Promise<void>): Promise<void> {
  const d = mgmt(['puppet', 'agent', '--confdir', node.confdir, ...args]);
  try {
    await body(d);
    d.child.kill('SIGTERM');
    const stopped = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r('still running 60 s after SIGTERM'), 60_000).unref())]);
    assert.equal(stopped, 0, d.stderr());
  } finally {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  }
}

const agent = (...args: string[]) => mgmtRun(['puppet', 'agent', '--confdir', node.confdir, ...args]);
const certFiles = () =>
  ['certs', 'private_keys', 'certificate_requests'].flatMap((d) =>
    existsSync(join(node.ssldir, d)) ? readdirSync(join(node.ssldir, d)).map((f) => `${d}/${f}:${readFileSync(join(node.ssldir, d, f), 'utf8').length}`) : [],
  );
/**
 * The cached catalog's resources, without what changes per compile (version, UUIDs) and without the containers
 * (Puppet's agent caches them after its own conversion: `Class[main]` becomes `Class[Main]`).
 */
const catalogResources = () => {
  const c = JSON.parse(readFileSync(join(node.vardir, 'client_data', 'catalog', 'node1.json'), 'utf8')) as { resources: { type: string }[] };
  return JSON.stringify(c.resources.filter((r) => !['Stage', 'Class', 'Node'].includes(r.type)));
};

describe('mgmt puppet agent against a real Puppet Server', { timeout: 1_500_000 }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mgmt-agent-'));
    managed = join(root, 'managed');
    mkdirSync(managed);
    reports = await startReportReceiver();
    // Versioned code: the server stamps catalogs with a code_id, so they are static catalogs (as Puppet Server's
    // with a code-id-command, e.g. r10k or Code Manager deploys).
    const s = await startTestPuppetServer({ reports: 'store, http', serverSettings: [`reporturl = ${reports.url}`], versionedCode: true });
    server = s;
    // publicdir: the summary stays in the test's directories (Debian's default is /var/cache/puppet/public).
    node = agentDirs(join(root, 'node1'), s, 'node1', [`publicdir = ${join(root, 'node1', 'var', 'public')}`]);
    s.writeCode('modules/app/files/app.conf', 'port = 8080\n');
    s.writeSite(site('hello'));
    s.setCodeVersion('v1');
  });
  after(async () => {
    killAll();
    await server?.cleanup();
    await reports?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('switches a node from puppet agent -t: same certificate, same catalog, same end state, report stored by the server', async () => {
    const p = await puppetAgentTest();
    assert.equal(p.code, 2, p.out);
    const certsBefore = certFiles();
    const catalogBefore = catalogResources();
    const state = () =>
      ['motd', 'conf.d/app.conf', 'marker'].map((f) => [f, readFileSync(join(managed, f), 'utf8'), (statSync(join(managed, f)).mode & 0o777).toString(8)]);
    const puppetState = state();

    // Drift, then the switch.
    writeFileSync(join(managed, 'motd'), 'tampered\n');
    chmodSync(join(managed, 'conf.d', 'app.conf'), 0o600);
    const r = await agent('--onetime', '--detailed-exitcodes');
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(certFiles(), certsBefore, 'no new certificate, key or request');
    assert.equal(catalogResources(), catalogBefore, 'the same catalog');
    assert.deepEqual(state(), puppetState, 'the same end state as puppet agent made');

    const local = lastRun();
    const rep = await received(local.transaction_uuid); // the node keeps what it sent in last_run_report.yaml
    // The store processor ran before the http one: its newest file is this report.
    assert.equal(storedReport(srv().storedReports('node1').at(-1)!).transaction_uuid, local.transaction_uuid, 'stored by the server');
    assert.equal(rep.report_format, 12);
    assert.equal(rep.host, 'node1');
    assert.equal(rep.status, 'changed');
    assert.equal(rep.environment, 'production');
    assert.equal(rep.cached_catalog_status, 'not_used');
    const motd = rep.resource_statuses[`File[${managed}/motd]`]!;
    assert.equal(motd.changed, true);
    assert.deepEqual(
      motd.events.map((e) => [e.property, e.status, String(e.previous_value).slice(0, 8), String(e.desired_value).slice(0, 8)]),
      [['content', 'success', '{sha256}', '{sha256}']],
    );
    assert.deepEqual(motd.containment_path, ['Stage[main]', 'Main', 'Node[default]', `File[${managed}/motd]`]);
    const app = rep.resource_statuses[`File[${managed}/conf.d/app.conf]`]!;
    assert.deepEqual(
      app.events.map((e) => [e.property, e.previous_value, e.desired_value]),
      [['mode', '0600', '0640']],
    );
    assert.equal(rep.resource_statuses['Exec[marker]']!.changed, false);
    assert.equal(metric(rep, 'changes', 'total'), 2);
    assert.equal(metric(rep, 'events', 'success'), 2);
    assert.equal(metric(rep, 'resources', 'total'), 4);
    assert.ok((metric(rep, 'time', 'config_retrieval') ?? 0) > 0);
    // The summary on the node, where monitoring reads it.
    const summary = yaml.load(readFileSync(join(node.vardir, 'public', 'last_run_summary.yaml'), 'utf8')) as Record<string, Record<string, number>>;
    assert.equal(summary.changes!.total, 2);
    assert.equal(summary.resources!.changed, 2);

    // Converged: a second run changes nothing (exit 0) and reports unchanged.
    const again = await agent('--onetime', '--detailed-exitcodes');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await lastReceived()).status, 'unchanged');
  });

  it('a static catalog: module files come as of its code version (static_file_content), checked against its checksums', async () => {
    rmSync(join(node.vardir, 'mgmt', 'puppet-sources'), { recursive: true, force: true });
    rmSync(join(managed, 'conf.d', 'app.conf'), { force: true });
    const before = srv().staticContentCalls().length;
    const r = await agent('--onetime', '--detailed-exitcodes');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(readFileSync(join(managed, 'conf.d', 'app.conf'), 'utf8'), 'port = 8080\n');
    assert.deepEqual(srv().staticContentCalls().slice(before), ['production v1 modules/app/files/app.conf'], "fetched at the catalog's code version");
  });

  it('a new node of another environment: its certificate requested, pluginsync before facts, --tags, a resource without translation applied by Puppet', async () => {
    const s = srv();
    const m2 = join(root, 'managed2');
    mkdirSync(m2);
    s.writeCode('modules/site_facts/lib/facter/mgmt_agent_fact.rb', "Facter.add(:mgmt_agent_fact) do\n  setcode { 'from pluginsync' }\nend\n", 'staging');
    s.writeSite(
      `node default {
  file { '${m2}/fact': ensure => file, content => "\${facts['mgmt_agent_fact']}\\n", tag => 'first' }
  file { '${m2}/other': ensure => file, content => "other\\n" }
  sshkey { 'host.example.test': ensure => present, type => 'ssh-ed25519', key => 'AAAAC3NzaC1lZDI1NTE5AAAAIMgmtTestKeyOnlyForThisTest0000000000000000', target => '${m2}/known_hosts' }
}
`,
      'staging',
    );
    const n2 = agentDirs(join(root, 'node2'), s, 'node2', ['environment = staging']);
    const run2 = (...args: string[]) => mgmtRun(['puppet', 'agent', '--confdir', n2.confdir, ...args]);
    const tagged = await run2('--onetime', '--detailed-exitcodes', '--tags', 'first');
    assert.equal(tagged.code, 2, tagged.stderr);
    assert.ok(existsSync(join(n2.ssldir, 'certs', 'node2.pem')), 'a new node requests its certificate (the test server autosigns)');
    assert.equal(readFileSync(join(m2, 'fact'), 'utf8'), 'from pluginsync\n', 'the custom fact was synced before facts were resolved');
    assert.equal(existsSync(join(m2, 'other')), false, '--tags first leaves the untagged file alone');
    assert.equal(existsSync(join(m2, 'known_hosts')), false, 'and the untagged sshkey');
    const all = await run2('--onetime', '--detailed-exitcodes');
    assert.equal(all.code, 2, all.stderr);
    assert.equal(readFileSync(join(m2, 'other'), 'utf8'), 'other\n');
    // Sshkey has no native translation: Puppet's worker applied it, and the report says so like any resource.
    assert.match(readFileSync(join(m2, 'known_hosts'), 'utf8'), /^host\.example\.test ssh-ed25519 AAAAC3/m);
    const rep = await received(storedReport(join(n2.vardir, 'state', 'last_run_report.yaml')).transaction_uuid);
    assert.equal(rep.environment, 'staging');
    assert.equal(rep.resource_statuses['Sshkey[host.example.test]']?.changed, true, describeReport(rep));
  });

  it('--noop reports what would change and changes nothing; --disable refuses runs until --enable', async () => {
    writeFileSync(join(managed, 'motd'), 'drifted\n');
    const r = await agent('--onetime', '--detailed-exitcodes', '--noop');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(managed, 'motd'), 'utf8'), 'drifted\n');
    const rep = await lastReceived();
    assert.deepEqual([rep.noop, rep.noop_pending, rep.status], [true, true, 'unchanged']);
    assert.equal(rep.resource_statuses[`File[${managed}/motd]`]!.events[0]!.status, 'noop');

    assert.equal((await agent('--disable', 'maintenance window')).code, 0);
    assert.match(readFileSync(join(node.vardir, 'state', 'agent_disabled.lock'), 'utf8'), /maintenance window/);
    const refused = await agent('--onetime', '--detailed-exitcodes');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /administratively disabled \(Reason: 'maintenance window'\)/);
    assert.equal(readFileSync(join(managed, 'motd'), 'utf8'), 'drifted\n', 'nothing applied while disabled');
    assert.equal((await agent('--enable')).code, 0);
    assert.equal((await agent('--onetime')).code, 0);
    assert.equal(readFileSync(join(managed, 'motd'), 'utf8'), 'hello\n');
  });

  it('a second run while one holds the run lock refuses, as Puppet does', async () => {
    const lock = join(node.vardir, 'state', 'agent_catalog_run.lock');
    writeFileSync(lock, String(process.pid)); // a live process holds it
    try {
      const r = await agent('--onetime');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /already in progress/);
    } finally {
      writeFileSync(lock, '999999999'); // a dead holder: taken over
    }
    const r = await agent('--onetime');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(lock), false, 'released after the run');
  });

  it('long-running: a code change arrives at --trigger; drift is repaired at once and reported (corrective)', async () => {
    assert.ok(reports);
    const rx = reports;
    const motdRef = `File[${managed}/motd]`;
    const motdEvents = (r: ReceivedReport) => r.resource_statuses[motdRef]?.events ?? [];
    const before = lastRun().transaction_uuid;
    await withDaemon(['--report-interval', '1'], async (daemon) => {
      // The first run's report: the one the node wrote (before sending it), as the server got it.
      await waitUntil(() => lastRun().transaction_uuid !== before, 240_000, 'the first run');
      const first = await lastReceived();
      const since = rx.all('node1').indexOf(first);
      assert.equal(first.status, 'unchanged', describeReport(first));

      srv().writeSite(site('hello again'));
      assert.equal((await agent('--trigger')).code, 0);
      await waitUntil(() => readFileSync(join(managed, 'motd'), 'utf8') === 'hello again\n', 240_000, 'the new catalog applied');
      // The triggered run's report: the content change the new code made, not a corrective one.
      const triggered = await rx.waitFor(
        (r) => rx.all('node1').indexOf(r) > since && motdEvents(r).some((e) => e.property === 'content'),
        30_000,
        'of the triggered run',
      );
      assert.deepEqual(
        [triggered.status, triggered.corrective_change, motdEvents(triggered).map((e) => [e.property, e.status, e.corrective_change])],
        ['changed', false, [['content', 'success', false]]],
        'a code change is not a corrective change',
      );
      assert.ok(Number((triggered.metrics as { time: { values: [string, string, number][] } }).time.values.find((v) => v[0] === 'config_retrieval')?.[2]) > 0);

      const t0 = performance.now();
      writeFileSync(join(managed, 'motd'), 'drift\n');
      await waitUntil(() => readFileSync(join(managed, 'motd'), 'utf8') === 'hello again\n', 10_000, 'drift repaired');
      const repairMs = performance.now() - t0;
      const drift = await rx.waitFor(
        (r) => rx.all('node1').indexOf(r) > rx.all('node1').indexOf(triggered) && motdEvents(r).length > 0,
        30_000,
        'of the drift repair',
      );
      assert.equal(drift.status, 'changed');
      assert.equal(drift.corrective_change, true, describeReport(drift));
      const motd = drift.resource_statuses[motdRef]!;
      assert.deepEqual([motd.corrective_change, motd.events[0]!.property, motd.events[0]!.corrective_change], [true, 'content', true]);
      assert.equal(drift.catalog_uuid, triggered.catalog_uuid, 'the drift report names the catalog that runs');
      // Nothing else was reported: every report from the first on is one of these three.
      assert.deepEqual(rx.all('node1').slice(since).map(describeReport), [first, triggered, drift].map(describeReport));
      process.stderr.write(`# drift repaired in ${repairMs.toFixed(0)} ms\n`);

      // A stop that arrives while a run is under way ends the agent once that run is done, not a runinterval later.
      const triggers = () => daemon.stderr().split('SIGUSR1: running now').length;
      const n = triggers();
      assert.equal((await agent('--trigger')).code, 0);
      await waitUntil(() => triggers() > n, 10_000, 'the triggered run under way');
    });
  });

  it('mgmt puppet deploy over etcd: the agent of that environment fetches and applies the new code within seconds', async () => {
    const etcd = await startTestEtcd('deploy');
    try {
      await withDaemon(['--seeds', etcd.url], async (daemon) => {
        await daemon.waitForLog(/Applied catalog in/, 240_000);
        srv().writeSite(site('deployed'));
        const t0 = performance.now();
        const d = await mgmtRun(['puppet', 'deploy', '--environment', 'production', '--seeds', etcd.url, '--jitter', '0.5', '--concurrency', '2']);
        assert.equal(d.code, 0, d.stderr);
        await waitUntil(() => readFileSync(join(managed, 'motd'), 'utf8') === 'deployed\n', 120_000, 'the deployed code applied');
        const ms = performance.now() - t0;
        assert.match(daemon.stderr(), /deploy \S+ of production: fetching the catalog/);
        process.stderr.write(`# deploy -> applied on the node in ${ms.toFixed(0)} ms\n`);
      });
    } finally {
      await etcd.cleanup();
    }
  });

  it('server down: the node keeps its graph and repairs drift, runs the cached catalog, and reports once the server is back', async () => {
    await withDaemon(['--report-interval', '1'], async (daemon) => {
      await daemon.waitForLog(/Applied catalog in/, 240_000);
      const want = readFileSync(join(managed, 'motd'), 'utf8');
      await srv().stop();
      writeFileSync(join(managed, 'motd'), 'drift while the server is down\n');
      await waitUntil(() => readFileSync(join(managed, 'motd'), 'utf8') === want, 10_000, 'drift repaired with the server down');
      assert.equal((await agent('--trigger')).code, 0);
      await daemon.waitForLog(/Using cached catalog/, 120_000);
      // The cached run's report (the drift repair's, before it, says not_used: it names no catalog retrieval).
      await waitUntil(() => lastRun().cached_catalog_status === 'on_failure', 60_000, 'the cached run reported');
      const cachedRun = lastRun();
      await daemon.waitForLog(/could not send the report .* report\(s\) are sent when the server answers again/, 60_000);

      await srv().start();
      assert.equal((await agent('--trigger')).code, 0);
      await daemon.waitForLog(/the server answers again: delivered \d+ report\(s\) held while it was down/, 240_000);
      // Held reports are delivered oldest first: the cached run's report, then this run's.
      await received(cachedRun.transaction_uuid);
      await lastReceived();
    });
  });
});
