/**
 * Benchmark: PuppetDB as a source, against a real PuppetDB 7.12 on a private PostgreSQL 15 (test/harness/puppetdb.ts).
 *
 * - `mgmt puppet coverage` over a fleet of NODES nodes of RESOURCES resources each, stored through PuppetDB's
 *   `replace catalog` command: wall time from spawn to exit (median of TRIALS), and per node.
 * - `mgmt puppet translate --puppetdb` for one node versus `mgmt puppet translate --catalog` of the same catalog saved
 *   to a file (median of TRIALS each): what reading from PuppetDB adds.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPuppetDb, type WireCatalog, type WireResource } from '../harness/puppetdb.js';
import { type BenchContext, type BenchResult, fmtMs, median, MGMT, row } from './common.js';

const NODES = 50;
const RESOURCES = 100;
const TRIALS = 3;
/** The goal: a fleet of 50 nodes is planned in at most this long (a thousand nodes then take a few minutes). */
const GOAL_MS = 10_000;

/** A node's catalog: mostly files and packages, some execs, and on every third node a type without translation. */
function fleetCatalog(i: number): WireCatalog {
  const certname = `node${String(i).padStart(3, '0')}.bench.test`;
  const resources: WireResource[] = [
    { type: 'Stage', title: 'main', exported: false, tags: ['stage'], parameters: { name: 'main' } },
    { type: 'Class', title: 'main', exported: false, tags: ['class'], parameters: { name: 'main' } },
  ];
  const edges: WireCatalog['edges'][number][] = [];
  const main = { type: 'Class', title: 'main' };
  edges.push({ source: { type: 'Stage', title: 'main' }, target: main, relationship: 'contains' });
  for (let k = 0; k < RESOURCES; k++) {
    const at = { file: '/etc/puppet/code/environments/production/manifests/site.pp', line: k + 1 };
    let r: WireResource;
    if (k % 10 < 6) {
      r = {
        type: 'File',
        title: `/srv/app/${k}.conf`,
        exported: false,
        tags: ['file', 'class'],
        parameters: { ensure: 'file', content: `value=${k}\n`, mode: '0644' },
        ...at,
      };
    } else if (k % 10 < 8) {
      r = { type: 'Package', title: `pkg-${k}`, exported: false, tags: ['package', 'class'], parameters: { ensure: 'installed' }, ...at };
    } else if (k % 10 < 9 || i % 3 !== 0) {
      r = { type: 'Exec', title: `reload-${k}`, exported: false, tags: ['exec', 'class'], parameters: { command: `/bin/true ${k}`, refreshonly: true }, ...at };
    } else {
      r = { type: 'Tidy', title: `/srv/app/tmp-${k}`, exported: false, tags: ['tidy', 'class'], parameters: { age: '1w' }, ...at };
    }
    resources.push(r);
    edges.push({ source: main, target: { type: r.type, title: r.title }, relationship: 'contains' });
    if (r.type === 'Exec')
      edges.push({ source: { type: 'File', title: `/srv/app/${k - 8}.conf` }, target: { type: 'Exec', title: r.title }, relationship: 'notifies' });
  }
  return { certname, environment: 'production', resources, edges };
}

function timed(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [MGMT, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mgmt ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  return ms;
}

export async function puppetdb(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now();
  const pdb = await startTestPuppetDb();
  const startMs = performance.now() - t0;
  try {
    const f0 = performance.now();
    const fleet = Array.from({ length: NODES }, (_, i) => fleetCatalog(i));
    for (const c of fleet) await pdb.replaceCatalog(c, false);
    await pdb.untilCatalogs(fleet.map((c) => c.certname));
    const fillMs = performance.now() - f0;

    const coverage: number[] = [];
    for (let t = 0; t < TRIALS; t++)
      coverage.push(timed(['puppet', 'coverage', '--puppetdb', pdb.url, '--output-format', 'json', '-o', join(ctx.dir, 'plan.json')]));
    const cov = median(coverage);

    const node = fleetCatalog(0).certname;
    const file = join(ctx.dir, 'catalog.json');
    writeFileSync(file, JSON.stringify(await pdb.query(`/pdb/query/v4/catalogs/${node}`)));
    const fromDb: number[] = [];
    const fromFile: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      fromDb.push(timed(['puppet', 'translate', '--puppetdb', pdb.url, '--node', node, '-o', join(ctx.dir, 'db.yaml')]));
      fromFile.push(timed(['puppet', 'translate', '--catalog', file, '-o', join(ctx.dir, 'file.yaml')]));
    }
    return {
      name: 'puppetdb',
      title: `PuppetDB as a source (${NODES} nodes of ${RESOURCES} resources in a real PuppetDB 7.12)`,
      rows: [
        row(`mgmt puppet coverage, ${NODES} nodes (median of ${TRIALS})`, fmtMs(cov), `<= ${fmtMs(GOAL_MS)}`, cov <= GOAL_MS),
        row('  per node', fmtMs(cov / NODES)),
        row(`translate --puppetdb, one node (median of ${TRIALS})`, fmtMs(median(fromDb))),
        row('translate --catalog, the same catalog from a file', fmtMs(median(fromFile))),
        row('PuppetDB start (PostgreSQL + JVM) / filling it', `${fmtMs(startMs)} / ${fmtMs(fillMs)}`),
      ],
      notes: [
        "Catalogs are stored with PuppetDB's `replace catalog` v9 command (all queued, then awaited until PuppetDB holds them); every third node holds a `tidy` (no translation), so the plan has a blocker to rank.",
        'Wall times from spawning `mgmt` to its exit, process start-up included; PuppetDB and mgmt share the same cores.',
      ],
    };
  } finally {
    await pdb.cleanup();
  }
}
