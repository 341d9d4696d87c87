/**
 * Benchmark: the self-formed cluster (`mgmt run --cluster`). Every host is a real `mgmt run` process on loopback
 * (test/harness/cluster.ts), with `--ideal-cluster-size 3` and a lease TTL of 2 s.
 *
 * - 5 hosts started together: time to 3 healthy members, and to every host holding all 5 exported files.
 * - A member host killed (mgmt and its etcd, SIGKILL): time until the cluster has 3 healthy members again.
 * - Exchange latency: one host rewrites its graph (its export's content changes); time until another host's
 *   collected file has the new content. Through the self-formed cluster, and through a static 3-member etcd
 *   started by hand (plain http on loopback, same raft timings) with two `--seeds` hosts, in the same run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning, type LineProcess, startLines } from '../../src/system/proc/launcher.js';
import { type ClusterHost, eventually, TestCluster } from '../harness/cluster.js';
import { etcdDataRoot, freePort } from '../harness/etcd.js';
import { type BenchContext, type BenchResult, fmtMs, median, row, type Row, sleep, startMgmt, type Tracked, waitExit } from './common.js';

const TTL = 2;
const LATENCY_TRIALS = 7;

/** Rewrites `write`'s export `trials` times; each time, the ms until `read`'s collected file holds the new content. */
async function exchangeLatency(rewrite: (tag: string) => void, collected: () => string, trials: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    const tag = ` v${i}-${Date.now()}`;
    const t0 = performance.now();
    rewrite(tag);
    await eventually(() => collected().includes(tag), 20_000, `the change ${tag} to be collected`);
    out.push(performance.now() - t0);
    await sleep(300);
  }
  return out;
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

/** A static 3-member etcd (plain http, loopback), started by hand as an operator would; stopped by PID. */
async function staticEtcd(root: string): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const names = ['s1', 's2', 's3'];
  const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const client = (i: number) => `http://127.0.0.1:${ports[2 * i]}`;
  const initial = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const procs: LineProcess[] = [];
  for (const [i, n] of names.entries()) {
    const argv = [
      'etcd',
      '--name',
      n,
      '--data-dir',
      join(root, n),
      '--logger',
      'zap',
      '--log-level',
      'error',
      '--listen-client-urls',
      client(i),
      '--advertise-client-urls',
      client(i),
      '--listen-peer-urls',
      peer(i),
      '--initial-advertise-peer-urls',
      peer(i),
      '--initial-cluster',
      initial,
      '--initial-cluster-state',
      'new',
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '1000',
    ];
    procs.push(
      await startLines(
        { command: { argv }, env: { PATH: '/usr/bin:/bin:/usr/local/bin' }, killGraceMs: 5000 },
        () => {},
        () => {},
      ),
    );
  }
  const urls = names.map((_, i) => client(i));
  await eventually(
    async () => {
      const r = await fetch(`${urls[0]}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    },
    30_000,
    'the static etcd cluster to be healthy',
  );
  return {
    urls,
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
      for (const p of procs) while (isRunning(p.pid)) await sleep(10);
    },
  };
}

export async function cluster(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const c = await TestCluster.create({ ttl: TTL, ideal: 3 });
  let stat: { urls: string[]; stop: () => Promise<void> } | undefined;
  const statHosts: Tracked[] = [];
  const statRoot = join(etcdDataRoot(), `mgmt-bench-static-${process.pid}`);
  try {
    const hosts: ClusterHost[] = [];
    for (const n of ['A', 'B', 'C', 'D', 'E']) hosts.push(await c.add(n));
    const [a] = hosts as [ClusterHost];
    const client = c.client(hosts);
    const t0 = performance.now();
    for (const h of hosts) c.start(h, h === a ? [] : [a]);
    const three = await eventually(async () => (await c.healthyMembers(client)).length === 3, 120_000, 'three healthy members');
    await eventually(() => hosts.every((h) => c.files(h).length === 5), 120_000, 'every host to collect all five files');
    const all = performance.now() - t0;
    rows.push(row('5 hosts started together: to 3 healthy members', fmtMs(three)));
    rows.push(row('5 hosts started together: to all exchanges converged (every host holds all 5 files)', fmtMs(all)));

    // Exchange latency through the self-formed cluster: a client host's export, read on another host.
    const members = await c.members(client);
    const writer = hosts.find((h) => !members.includes(h.name))!;
    const reader = hosts.find((h) => h !== writer)!;
    const self = await exchangeLatency(
      (tag) => c.graph(writer, [`from-${writer.name}`], tag),
      () => read(join(reader.out, `from-${writer.name}`)),
      LATENCY_TRIALS,
    );

    // A member host killed (not the coordinator): until 3 healthy members again.
    const coord = await c.coordinator(client);
    const victim = hosts.find((h) => members.includes(h.name) && h.name !== coord)!;
    const tk = performance.now();
    await c.crash(victim);
    const rest = hosts.filter((h) => h !== victim);
    const c2 = c.client(rest);
    await eventually(
      async () => {
        const m = await c.healthyMembers(c2);
        return m.length === 3 && !m.includes(victim.name) && (await c.members(c2)).length === 3;
      },
      (TTL + 30) * 1000,
      'three healthy members again',
    );
    const back = performance.now() - tk;
    rows.push(
      row(
        `member host killed (kill -9 of mgmt and its etcd): to 3 healthy members again (TTL ${TTL} s)`,
        fmtMs(back),
        `<= ${TTL + 10} s`,
        back <= (TTL + 10) * 1000,
      ),
    );
    await c.cleanup();

    // The same exchange through a static 3-member etcd started by hand.
    mkdirSync(statRoot, { recursive: true });
    stat = await staticEtcd(statRoot);
    const dirs = ['P', 'Q'].map((n) => join(ctx.dir, `static-${n}`));
    const graph = (n: string, tag: string) => {
      const f = join(ctx.dir, `static-${n}.yaml`);
      const out = join(ctx.dir, `static-${n}`);
      writeFileSync(
        f,
        `graph: static${n}\nresources:\n  file:\n  - {name: "@@s-${n}", path: /shared/s-${n}, state: exists, content: "s-${n}${tag}\\n"}\n  - {name: "${out}/", state: exists}\ncollect:\n- {kind: file, pattern: ${out}/}\n`,
      );
      return f;
    };
    for (const n of ['P', 'Q']) {
      statHosts.push(
        startMgmt(
          ['run', '--yaml', graph(n, ''), '--tmp-prefix', '--hostname', `static-${n}`, '--seeds', stat.urls.join(','), '--etcd-lease-ttl', String(TTL)],
          ctx.dir,
        ),
      );
    }
    await eventually(() => dirs.every((d) => existsSync(join(d, 's-P')) && existsSync(join(d, 's-Q'))), 60_000, 'the static hosts to collect each other');
    const fixed = await exchangeLatency(
      (tag) => graph('P', tag),
      () => read(join(dirs[1]!, 's-P')),
      LATENCY_TRIALS,
    );
    const ms = median(self);
    const mf = median(fixed);
    rows.push(row(`exchange latency through the self-formed cluster (TLS), median of ${LATENCY_TRIALS}`, fmtMs(ms)));
    rows.push(row(`exchange latency through a static 3-member etcd started by hand (http), median of ${LATENCY_TRIALS}`, fmtMs(mf)));
    rows.push(row('self-formed / static (5 cluster hosts running vs 2 static hosts)', (ms / mf).toFixed(2)));
  } finally {
    await c.cleanup();
    for (const p of statHosts) {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await Promise.all(statHosts.map((p) => waitExit(p, 10_000, 'a static host').catch(() => undefined)));
    await stat?.stop();
    await rm(statRoot, { recursive: true, force: true });
  }
  return {
    name: 'cluster',
    title: 'the self-formed etcd cluster (--cluster)',
    rows,
    notes: [
      "Every host is its own `mgmt run --cluster --ideal-cluster-size 3` process on loopback, with free ports, state under /dev/shm, a lease TTL of 2 s, and the certificates made from a shared secret; each member is Debian's etcd 3.4 with heartbeat 100 ms / election 1 s (etcd's defaults).",
      "Times to members are polled every 100 ms through etcd's member list and each member's /health; the replacement includes the lease TTL (a dead host is noticed when its lease expires), the coordinator's grace of one TTL, and etcd's own 5 s wait after a membership change (--strict-reconfig-check).",
      "Exchange latency: one host rewrites its graph file so that its exported file's content changes; measured until another host's collected copy has it (the graph file settles 50 ms, the swap, the etcd write, the watch, the swap (at once unless one ran within the last 25 ms) and the write on the other host). The static cluster is 3 etcd processes started by hand with plain http, two `--seeds` hosts.",
    ],
  };
}
