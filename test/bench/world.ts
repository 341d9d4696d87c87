/**
 * Benchmark: exported and collected resources between hosts over etcd. Every host is a real `mgmt run` process
 * (its own --hostname and directory) exporting one file and collecting every exported file into its directory,
 * against one real etcd (Debian's etcd-server) on loopback with its data under /dev/shm.
 *
 * - 3 hosts: A and B run and have collected each other; C starts; measured from C's spawn to all three
 *   directories holding all three files (so it includes C's process start-up and etcd client load).
 * - 10 hosts, full mesh, 10 processes: 9 run and have collected each other; the 10th starts; measured from its
 *   spawn to all ten directories holding all ten files. Also (info) all ten started at once.
 * - Lease expiry: one host of the mesh is killed with SIGKILL; measured until every other host has logged that
 *   its export left the graph.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestEtcd, type TestEtcd } from '../harness/etcd.js';
import { type BenchContext, type BenchResult, fmtMs, median, q, row, type Row, sleep, startMgmt, type Tracked, waitExit } from './common.js';

const TTL = 2;
const TRIALS_3 = 5;
const TRIALS_10 = 3;

interface Host {
  readonly name: string;
  readonly dir: string;
  readonly graph: string;
  p?: Tracked;
}

async function makeHosts(root: string, tag: string, n: number): Promise<Host[]> {
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${tag}-${String.fromCharCode(65 + i)}`;
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const graph = join(root, `${name}.yaml`);
    await writeFile(
      graph,
      [
        `graph: ${name}`,
        'resources:',
        '  file:',
        `  - {name: ${q(`@@from-${name}`)}, path: ${q(`/shared/from-${name}`)}, state: exists, content: ${q(`hello from ${name}\n`)}}`,
        'collect:',
        `- {kind: file, pattern: ${q(dir + '/')}}`,
        '',
      ].join('\n'),
    );
    hosts.push({ name, dir, graph });
  }
  return hosts;
}

function start(h: Host, etcd: TestEtcd, tmp: string): Tracked {
  h.p = startMgmt(['run', '--yaml', h.graph, '--tmp-prefix', '--hostname', h.name, '--seeds', etcd.url, '--etcd-lease-ttl', String(TTL)], tmp);
  return h.p;
}

const count = (dir: string) => (existsSync(dir) ? readdirSync(dir).length : 0);

/** Polls every 2 ms until `pred` holds; returns performance.now() then, or throws after `ms`. */
async function until(pred: () => boolean, ms: number, what: string, hosts: readonly Host[]): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (pred()) return performance.now();
    if (performance.now() - t0 > ms) {
      const tails = hosts.map((h) => `--- ${h.name}:\n${h.p?.output().slice(-800) ?? ''}`).join('\n');
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${tails}`);
    }
    await sleep(2);
  }
}

async function stopAll(hosts: readonly Host[]): Promise<void> {
  for (const h of hosts) {
    try {
      if (h.p) process.kill(h.p.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await Promise.all(hosts.map((h) => (h.p ? waitExit(h.p, 10_000, `mgmt ${h.name}`).catch(() => undefined) : Promise.resolve())));
}

/** Starts all but the last host one after another, waits for their full mesh, then times the last one. */
async function lastStart(hosts: Host[], etcd: TestEtcd, tmp: string): Promise<number> {
  const first = hosts.slice(0, -1);
  for (const h of first) start(h, etcd, tmp);
  await until(() => first.every((h) => count(h.dir) === first.length), 60_000, `the first ${first.length} hosts to collect each other`, hosts);
  await sleep(300); // let their start-up work finish
  const t0 = performance.now();
  start(hosts.at(-1)!, etcd, tmp);
  const t1 = await until(() => hosts.every((h) => count(h.dir) === hosts.length), 30_000, `all ${hosts.length} hosts to collect all files`, hosts);
  return t1 - t0;
}

export async function world(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const etcd = await startTestEtcd('bench');
  const live: Host[] = [];
  try {
    const three: number[] = [];
    for (let i = 0; i < TRIALS_3; i++) {
      const hosts = await makeHosts(join(ctx.dir, `three-${i}`), `t${i}`, 3);
      live.push(...hosts);
      three.push(await lastStart(hosts, etcd, ctx.dir));
      await stopAll(hosts);
    }
    const m3 = median(three);
    rows.push(row(`3 hosts: last start to all converged, median of ${TRIALS_3}`, fmtMs(m3), '<= 1 s', m3 <= 1000));
    rows.push(row('3 hosts: min / max', `${fmtMs(Math.min(...three))} / ${fmtMs(Math.max(...three))}`));

    const ten: number[] = [];
    let meshHosts: Host[] = [];
    for (let i = 0; i < TRIALS_10; i++) {
      const hosts = await makeHosts(join(ctx.dir, `ten-${i}`), `m${i}`, 10);
      live.push(...hosts);
      ten.push(await lastStart(hosts, etcd, ctx.dir));
      if (i < TRIALS_10 - 1) await stopAll(hosts);
      else meshHosts = hosts;
    }
    const m10 = median(ten);
    rows.push(row(`10 hosts (10 processes), full mesh: last start to all converged, median of ${TRIALS_10}`, fmtMs(m10), '<= 3 s', m10 <= 3000));
    rows.push(row('10 hosts: min / max', `${fmtMs(Math.min(...ten))} / ${fmtMs(Math.max(...ten))}`));

    // Lease expiry: kill one host of the running mesh without a goodbye.
    const victim = meshHosts[0]!;
    const others = meshHosts.slice(1);
    const re = `no longer exported by host ${victim.name}`;
    const tk = performance.now();
    process.kill(victim.p!.pid, 'SIGKILL');
    const tg = await until(
      () => others.every((h) => h.p!.output().includes(re)),
      (TTL + 10) * 1000,
      'the killed host’s export to leave every graph',
      meshHosts,
    );
    rows.push(row(`lease expiry (TTL ${TTL} s): SIGKILL to the export gone from 9 graphs`, fmtMs(tg - tk), `<= ${TTL + 1} s`, tg - tk <= (TTL + 1) * 1000));
    // A clean exit revokes the lease at once.
    const leaver = meshHosts[1]!;
    const rest = meshHosts.slice(2);
    const re2 = `no longer exported by host ${leaver.name}`;
    const ts = performance.now();
    process.kill(leaver.p!.pid, 'SIGTERM');
    const tl = await until(
      () => rest.every((h) => h.p!.output().includes(re2)),
      (TTL + 10) * 1000,
      'the leaving host’s export to leave every graph',
      meshHosts,
    );
    rows.push(row('clean exit (SIGTERM): to the export gone from 8 graphs', fmtMs(tl - ts)));
    await stopAll(meshHosts);

    // Info: all ten at once (10 processes starting together on this machine's cores).
    const burst = await makeHosts(join(ctx.dir, 'burst'), 'b', 10);
    live.push(...burst);
    const tb = performance.now();
    for (const h of burst) start(h, etcd, ctx.dir);
    const te = await until(() => burst.every((h) => count(h.dir) === burst.length), 60_000, 'the burst mesh', burst);
    rows.push(row('10 hosts started at once: first start to all converged', fmtMs(te - tb)));
    await stopAll(burst);
  } finally {
    await stopAll(live.filter((h) => h.p?.child.exitCode === null && h.p.child.signalCode === null));
    await etcd.cleanup();
  }
  return {
    name: 'world',
    title: 'exported and collected resources between hosts over etcd',
    rows,
    notes: [
      'Every host is its own `mgmt run` process (10 processes for the mesh, no simulation inside one process) exporting one file and collecting all exported files into its own directory; one etcd 3.4 (Debian) on loopback, data on /dev/shm, started with heartbeat 10 ms / election 100 ms.',
      '"Last start to all converged" runs from spawning the last host to every directory holding every file (polled every 2 ms), so it includes that process\'s start-up, loading the etcd client (in a worker thread) and its first etcd session; the other hosts are already running.',
      `Leases have a TTL of ${TTL} s here (\`--etcd-lease-ttl ${TTL}\`; the default is 10 s). Expiry is measured to the log line of the last of the other hosts; etcd checks leases about every 500 ms, so expect TTL plus up to about half a second.`,
      'Hostnames differ per trial, and each trial stops its processes with SIGTERM (which revokes their leases) before the next.',
    ],
  };
}
