/**
 * Benchmark: `mgmt run --etcd-server` (one host runs etcd itself; other hosts use it). Every host is a real
 * `mgmt run` process on loopback with free ports, its state directory under /dev/shm when it has room, and a
 * graph that exports one file and collects every exported file into its own directory.
 *
 * - Start-up, fresh state directory: from the spawn of `mgmt run --etcd-server` until its own export is collected
 *   (etcd started, the world connected, the export published, watched, collected and written).
 * - Start-up again from the data directory of the previous run (same measure).
 * - Exchange latency: a second host (a client of the first) rewrites its graph so that its export's content
 *   changes; measured until the `--etcd-server` host's collected copy has it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { etcdDataRoot, freePort } from '../harness/etcd.js';
import { type BenchContext, type BenchResult, fmtMs, median, row, type Row, sleep, startMgmt, type Tracked, waitExit } from './common.js';

const TTL = 2;
const START_TRIALS = 5;
const LATENCY_TRIALS = 7;

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

/** Polls every 2 ms until `pred` holds; returns the ms since `t0`, or throws after `ms` with the host's output. */
async function until(t0: number, pred: () => boolean, ms: number, what: string, p: Tracked): Promise<number> {
  for (;;) {
    if (pred()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${p.output().slice(-2000)}`);
    await sleep(2);
  }
}

async function stop(p: Tracked, what: string): Promise<void> {
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  await waitExit(p, 20_000, what);
}

export async function etcdServer(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const stateRoot = await mkdtemp(join(etcdDataRoot(), 'mgmt-bench-etcd-server-'));
  const live: Tracked[] = [];
  const graph = (name: string, out: string, tag = '') => {
    const f = join(ctx.dir, `${name}.yaml`);
    writeFileSync(
      f,
      `graph: ${name}\nresources:\n  file:\n  - {name: "@@from-${name}", path: /shared/from-${name}, state: exists, content: "from ${name}${tag}\\n"}\n  - {name: "${out}/", state: exists}\ncollect:\n- {kind: file, pattern: ${out}/}\n`,
    );
    return f;
  };
  const server = (prefix: string, port: number, out: string) => {
    const p = startMgmt(
      [
        'run',
        '--yaml',
        graph('A', out),
        '--prefix',
        prefix,
        '--hostname',
        'A',
        '--etcd-server',
        '--etcd-server-port',
        String(port),
        '--etcd-lease-ttl',
        String(TTL),
      ],
      ctx.dir,
    );
    live.push(p);
    return p;
  };
  try {
    const fresh: number[] = [];
    const again: number[] = [];
    for (let i = 0; i < START_TRIALS; i++) {
      const prefix = join(stateRoot, `start-${i}`);
      const out = join(ctx.dir, `start-${i}`);
      const mine = join(out, 'from-A');
      const port = await freePort();
      let t0 = performance.now();
      let p = server(prefix, port, out);
      fresh.push(await until(t0, () => existsSync(mine), 30_000, 'the fresh host to collect its own export', p));
      await stop(p, 'mgmt --etcd-server');
      rmSync(mine);
      t0 = performance.now();
      p = server(prefix, port, out);
      again.push(await until(t0, () => existsSync(mine), 30_000, 'the restarted host to collect its own export', p));
      await stop(p, 'mgmt --etcd-server (restarted)');
      await rm(prefix, { recursive: true, force: true });
    }
    rows.push(row(`mgmt run --etcd-server, fresh state: spawn to its own export collected, median of ${START_TRIALS}`, fmtMs(median(fresh))));
    rows.push(row('  min / max', `${fmtMs(Math.min(...fresh))} / ${fmtMs(Math.max(...fresh))}`));
    rows.push(row(`mgmt run --etcd-server, again from its data: spawn to its own export collected, median of ${START_TRIALS}`, fmtMs(median(again))));
    rows.push(row('  min / max', `${fmtMs(Math.min(...again))} / ${fmtMs(Math.max(...again))}`));

    // Exchange latency: host B (a client of A's etcd) changes its export; A collects it.
    const prefix = join(stateRoot, 'exchange');
    const port = await freePort();
    const outA = join(ctx.dir, 'x-A');
    const outB = join(ctx.dir, 'x-B');
    const a = server(prefix, port, outA);
    await until(performance.now(), () => existsSync(join(outA, 'from-A')), 30_000, 'A to collect its own export', a);
    const b = startMgmt(
      // A client of A's cluster (never a member), with A's secret.
      [
        'run',
        '--yaml',
        graph('B', outB),
        '--tmp-prefix',
        '--hostname',
        'B',
        '--cluster',
        '--no-server',
        '--cluster-secret-file',
        join(prefix, 'cluster', 'secret'),
        '--seeds',
        `https://127.0.0.1:${port}`,
        '--etcd-lease-ttl',
        String(TTL),
      ],
      ctx.dir,
    );
    live.push(b);
    await until(performance.now(), () => existsSync(join(outA, 'from-B')) && existsSync(join(outB, 'from-A')), 30_000, 'A and B to collect each other', b);
    await sleep(300);
    const lat: number[] = [];
    for (let i = 0; i < LATENCY_TRIALS; i++) {
      const tag = ` v${i}-${Date.now()}`;
      const t0 = performance.now();
      graph('B', outB, tag);
      lat.push(await until(t0, () => read(join(outA, 'from-B')).includes(tag), 20_000, `A to collect ${tag}`, b));
      await sleep(300);
    }
    rows.push(row(`exchange latency through the --etcd-server host, median of ${LATENCY_TRIALS}`, fmtMs(median(lat))));
    rows.push(row('  min / max', `${fmtMs(Math.min(...lat))} / ${fmtMs(Math.max(...lat))}`));
  } finally {
    for (const p of live.reverse()) await stop(p, 'a bench host').catch(() => undefined);
    await rm(stateRoot, { recursive: true, force: true });
  }
  return {
    name: 'etcd-server',
    title: 'one host runs etcd (mgmt run --etcd-server)',
    rows,
    notes: [
      'Every host is its own `mgmt run` process on loopback with free ports, its state directory under /dev/shm, a lease TTL of 2 s; the `--etcd-server` host exports one file and collects every exported file.',
      'Start-up is measured from the spawn until the host has collected its own export (so it includes starting etcd, connecting, publishing, the watch, the collection and the file write), polled every 2 ms; "again" starts the same host on the data the previous run left.',
      "Exchange latency: the second host (`--cluster --no-server --seeds`, with the first host's secret) rewrites its graph file so that its exported file changes; measured until the `--etcd-server` host has the new content (the graph file settles 50 ms).",
    ],
  };
}
