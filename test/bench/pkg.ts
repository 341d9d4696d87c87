/**
 * Benchmark: ten small packages installed by `mgmt run` as one grouped PackageKit transaction (autogroup, the
 * default) versus ten separate transactions (`--no-autogroup`: ten vertices, which PackageKit runs one after
 * another). Real PackageKit on the system bus (test/harness/system-bus.ts starts it when needed).
 *
 * The packages are tiny Debian 12 packages whose dependencies are already installed here, so dpkg -r puts the
 * machine back exactly. None may be installed before the benchmark (it would refuse, to leave the machine's own
 * packages alone); all are removed between runs and at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usePackageKit } from '../harness/system-bus.js';
import { type BenchContext, type BenchResult, fmtMs, median, row, type Row, startMgmt, waitExit } from './common.js';

const PACKAGES = ['sl', 'hello', 'tree', 'pv', 'nyancat', 'cmatrix', 'ncdu', 'sysvbanner', 'rig', 'dtach'];
const ROUNDS = 3;
const RUN_TIMEOUT_MS = 300_000;

function installedOnes(): string[] {
  return PACKAGES.filter((p) => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f=${db:Status-Status}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) === 'installed';
    } catch {
      return false;
    }
  });
}

async function removeAll(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const present = installedOnes();
    if (present.length === 0) return;
    try {
      execFileSync('dpkg', ['-r', ...present], { stdio: 'pipe', timeout: 120_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500)); // PackageKit may still hold dpkg's lock
    }
  }
}

/** One `mgmt run` of the graph to convergence; returns its wall time in ms. */
async function timedRun(graph: string, dir: string, grouped: boolean): Promise<number> {
  const args = ['run', '--yaml', graph, '--converged-timeout', '0', '--tmp-prefix', ...(grouped ? [] : ['--no-autogroup'])];
  const t0 = performance.now();
  const p = startMgmt(args, dir);
  const r = await waitExit(p, RUN_TIMEOUT_MS, `mgmt run (${grouped ? 'grouped' : 'separate'})`);
  const ms = r.at - t0;
  if (r.code !== 0)
    throw new Error(`mgmt run (${grouped ? 'grouped' : 'separate'}) exited with ${r.code ?? r.signal}; output tail:\n${p.output().slice(-2000)}`);
  const missing = PACKAGES.filter((x) => !installedOnes().includes(x));
  if (missing.length) throw new Error(`after the ${grouped ? 'grouped' : 'separate'} run, not installed: ${missing.join(', ')}`);
  if (grouped && !p.output().includes('one PackageKit transaction for 10 packages'))
    throw new Error(`the grouped run did not use one transaction; output tail:\n${p.output().slice(-2000)}`);
  return ms;
}

export async function pkg(ctx: BenchContext): Promise<BenchResult> {
  const before = installedOnes();
  if (before.length) throw new Error(`refusing to run: ${before.join(', ')} already installed on this machine (the benchmark removes its packages)`);
  const env = await usePackageKit(PACKAGES);
  if (env.skip) throw new Error(`PackageKit is not usable here: ${env.skip}`);
  const graph = join(ctx.dir, 'pkgs.yaml');
  await writeFile(graph, ['graph: bench-pkg', 'resources:', '  pkg:', ...PACKAGES.map((p) => `  - name: ${p}`), ''].join('\n'));

  const rows: Row[] = [];
  const grouped: number[] = [];
  const separate: number[] = [];
  try {
    // Warm-up (discarded): downloads the .deb files into apt's cache, so every measured run installs from it.
    const warm = await timedRun(graph, ctx.dir, true);
    await removeAll();
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate the order so that slow drift of the machine affects both sides alike.
      for (const g of i % 2 === 0 ? [true, false] : [false, true]) {
        (g ? grouped : separate).push(await timedRun(graph, ctx.dir, g));
        await removeAll();
      }
    }
    const mg = median(grouped);
    const ms = median(separate);
    rows.push(row('warm-up run (grouped, downloads the packages)', fmtMs(warm)));
    rows.push(row(`10 packages, one grouped transaction: median of ${ROUNDS}`, fmtMs(mg)));
    rows.push(row(`10 packages, ten transactions (--no-autogroup): median of ${ROUNDS}`, fmtMs(ms)));
    rows.push(row('ten transactions / one transaction', `${(ms / mg).toFixed(2)}x`, '> 1.5x', ms / mg > 1.5));
    rows.push(row('grouped runs', grouped.map(fmtMs).join(', ')));
    rows.push(row('separate runs', separate.map(fmtMs).join(', ')));
  } finally {
    await removeAll();
    await env.release();
  }
  return {
    name: 'pkg',
    title: 'ten packages: one grouped PackageKit transaction vs ten',
    rows,
    notes: [
      `Packages: ${PACKAGES.join(', ')} (Debian 12, tiny, dependencies already installed); removed with dpkg -r before every run and at the end.`,
      'Each figure is the wall time of `mgmt run --converged-timeout 0` from start to exit: dpkg check, one Resolve per vertex, the install transaction(s), the dpkg check after. Without grouping the ten vertices start together and PackageKit queues their transactions.',
      'A warm-up run first fills apt’s download cache, so the measured runs install from the cache (no network).',
      `Rounds alternate which variant goes first; ${ROUNDS} rounds, medians reported.`,
    ],
  };
}
