/**
 * Benchmark: the Puppet agent against a real Puppet Server (Debian's puppetserver 7, warmed up first). (1) One run
 * of the same node and catalog (100 files, absent at the start of each run): `mgmt puppet agent --onetime` against
 * `puppet agent -t`, alternating, wall time from spawn to exit. (2) A code change deployed to 3 nodes running
 * `mgmt puppet agent --seeds`: from `mgmt puppet deploy` to the change on disk on all three (goal <= 10 s), with the
 * server's compile time (the reports' config_retrieval) given separately; `puppet agent` would apply it at its next
 * runinterval (1800 s by default). (3) Resident memory of the long-running `mgmt puppet agent` against the
 * `puppet agent` daemon, each after a run of the same catalog.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { agentDirs, startTestPuppetServer, type TestPuppetServer } from '../harness/puppet-server.js';
import { startTestEtcd } from '../harness/etcd.js';
import { type BenchContext, type BenchResult, fmtMs, median, row, type Row, start, startMgmt, type Tracked, waitExit } from './common.js';

const FILES = 100;
const RUNS = 3;

const site = (managed: string, tag: string) =>
  `node default {\n  file { '${managed}': ensure => directory }\n${Array.from({ length: FILES }, (_, i) => `  file { '${managed}/f${i}': ensure => file, content => "${tag} ${i}\\n", mode => '0644' }`).join('\n')}\n}\n`;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const contentIs = (managed: string, tag: string) => () => {
  try {
    return readFileSync(join(managed, `f${FILES - 1}`), 'utf8') === `${tag} ${FILES - 1}\n`;
  } catch {
    return false;
  }
};

export async function agent(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const notes: string[] = [];
  let server: TestPuppetServer | undefined;
  const daemons: Tracked[] = [];
  try {
    server = await startTestPuppetServer();
    const nodes = ['node1', 'node2', 'node3'].map((n) => {
      const root = join(ctx.dir, n);
      return { name: n, managed: join(root, 'managed'), ...agentDirs(root, server!, n, [`publicdir = ${join(root, 'var', 'public')}`]) };
    });
    // The node's manifest: each node manages its own directory.
    const code = (tag: string) => `${nodes.map((n) => `node '${n.name}' {\n${site(n.managed, tag).split('\n').slice(1, -2).join('\n')}\n}`).join('\n')}\n`;
    server.writeSite(code('v1'));
    const puppetT = (n: (typeof nodes)[number]) => start('puppet', ['agent', '-t', '--confdir', n.confdir, '--waitforcert', '0']);
    // Certificates and the server's first (slow) compiles.
    for (const n of nodes) await waitExit(puppetT(n), 600_000, `puppet agent -t warm-up (${n.name})`);

    // (1) one run, alternating.
    const n1 = nodes[0]!;
    const mgmtOnce = () => startMgmt(['puppet', 'agent', '--onetime', '--confdir', n1.confdir], ctx.dir);
    const puppetRuns: number[] = [];
    const mgmtRuns: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const [list, run, what] of [
        [puppetRuns, () => puppetT(n1), 'puppet agent -t'],
        [mgmtRuns, mgmtOnce, 'mgmt puppet agent --onetime'],
      ] as const) {
        rmSync(n1.managed, { recursive: true, force: true });
        const t0 = performance.now();
        const p = run();
        const r = await waitExit(p, 300_000, what);
        if (!contentIs(n1.managed, 'v1')()) throw new Error(`${what} did not apply the catalog (exit ${r.code ?? r.signal}): ${p.output().slice(-1500)}`);
        list.push(r.at - t0);
      }
    }
    const pm = median(puppetRuns);
    const mm = median(mgmtRuns);
    rows.push(row(`puppet agent -t, ${FILES} files (median of ${RUNS})`, fmtMs(pm)));
    rows.push(row(`mgmt puppet agent --onetime, same node and catalog`, fmtMs(mm), `<= puppet agent -t`, mm <= pm));

    // (2) deploy -> applied on 3 nodes.
    const etcd = await startTestEtcd('bench-deploy');
    try {
      for (const n of nodes) {
        const d = startMgmt(['puppet', 'agent', '--confdir', n.confdir, '--seeds', etcd.url], ctx.dir);
        daemons.push(d);
      }
      await until(
        () => nodes.every((n) => contentIs(n.managed, 'v1')()) && nodes.every((n) => existsSync(join(n.vardir, 'state', 'last_run_report.yaml'))),
        300_000,
        'the daemons’ first runs',
      );
      await until(() => daemons.every((d) => d.output().includes('Applied catalog in')), 300_000, 'the daemons’ first runs');
      server.writeSite(code('v2'));
      const t0 = performance.now();
      const dep = startMgmt(['puppet', 'deploy', '--environment', 'production', '--seeds', etcd.url, '--jitter', '1', '--concurrency', '3'], ctx.dir);
      await waitExit(dep, 60_000, 'mgmt puppet deploy');
      await until(() => nodes.every((n) => contentIs(n.managed, 'v2')()), 120_000, 'the deployed code on all 3 nodes');
      const deployMs = performance.now() - t0;
      const compile = nodes.map((n) => {
        const s = yaml.load(readFileSync(join(n.vardir, 'public', 'last_run_summary.yaml'), 'utf8')) as { time?: { config_retrieval?: number } };
        return (s.time?.config_retrieval ?? 0) * 1000;
      });
      rows.push(row('code change -> applied on 3 nodes: mgmt puppet deploy', fmtMs(deployMs), '<= 10 s', deployMs <= 10_000));
      rows.push(row('  of which the server compiling a catalog (median config_retrieval)', fmtMs(median(compile))));
      rows.push(row('code change -> applied on 3 nodes: puppet agent', 'its next run: up to runinterval (1800 s default) + splay'));

      // (3) resident memory after a run of the same catalog: the mgmt daemon (node process; no Puppet worker is
      // started: every resource is native) against the puppet agent daemon. Like for like is an agent without
      // --seeds (no etcd client, which runs in a worker thread of its own); the deploy agents' figure is given too.
      const seedsRss = rssKb(daemons[0]!.child.pid!);
      const third = daemons[2]!;
      third.child.kill('SIGTERM');
      await waitExit(third, 20_000, 'agent daemon');
      const summary = join(nodes[2]!.vardir, 'public', 'last_run_summary.yaml');
      const beforePlain = readFileSync(summary, 'utf8');
      const plain = startMgmt(['puppet', 'agent', '--confdir', nodes[2]!.confdir], ctx.dir);
      daemons.push(plain);
      await until(() => readFileSync(summary, 'utf8') !== beforePlain, 300_000, 'the plain mgmt agent’s first run');
      const mgmtRss = rssKb(plain.child.pid!);
      const pd = start('puppet', ['agent', '--no-daemonize', '--confdir', nodes[1]!.confdir, '--runinterval', '3600']);
      daemons.push(pd);
      const before = readFileSync(join(nodes[1]!.vardir, 'public', 'last_run_summary.yaml'), 'utf8');
      await until(
        () => readFileSync(join(nodes[1]!.vardir, 'public', 'last_run_summary.yaml'), 'utf8') !== before,
        300_000,
        'the puppet agent daemon’s first run',
      );
      const puppetRss = rssKb(pd.child.pid!);
      // The issue asks for the comparison, not a bound: reported with the ratio.
      rows.push(
        row(
          'RSS, long-running mgmt puppet agent (after a run)',
          `${(mgmtRss / 1024).toFixed(1)} MB (${(mgmtRss / puppetRss).toFixed(2)}x the puppet agent daemon)`,
        ),
      );
      rows.push(row('RSS, long-running mgmt puppet agent --seeds (etcd client; after the deploy)', `${(seedsRss / 1024).toFixed(1)} MB`));
      rows.push(row('RSS, puppet agent daemon (after a run)', `${(puppetRss / 1024).toFixed(1)} MB`));
    } finally {
      for (const d of daemons) d.child.kill('SIGTERM');
      await Promise.all(daemons.map((d) => waitExit(d, 20_000, 'agent daemon').catch(() => undefined)));
      await etcd.cleanup();
    }
    notes.push(
      `One Puppet Server (max-active-instances 1) on loopback, warmed up by a puppet agent -t per node; runs alternate and each starts with the ${FILES} managed files absent. ` +
        'mgmt reads its settings and facts through Puppet (two short Ruby processes) and applies natively; puppet agent runs everything in one Ruby process.',
    );
  } finally {
    await server?.cleanup();
  }
  return { name: 'agent', title: 'Puppet agent against a Puppet Server', rows, notes };
}
