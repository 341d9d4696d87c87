/**
 * `mgmt puppet diff` against octocatalog-diff, measured in the same run on the fixture control repository of the
 * differential test (test/harness/control-repo.ts): one node at two refs, end to end (goal: >= 5x faster); 20
 * nodes at two refs, octocatalog-diff with its own --parallel (goal: >= 10x faster); and the diff alone of two
 * compiled 10,000-resource catalogs (goal: <= 0.5 s).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { registry } from '../../src/cli/registry.js';
import { catalogFromData } from '../../src/puppet/catalog.js';
import { compareCatalogs } from '../../src/puppet/diff/compare.js';
import { diffNode } from '../../src/puppet/diff/node-diff.js';
import { buildControlRepo, diffArgs, FACTS_YAML, NODE } from '../harness/control-repo.js';
import { type BenchContext, type BenchResult, fmtMs, MGMT, median, row, start, waitExit } from './common.js';

/** Runs of each tool for the one-node row (alternated; the medians are compared). */
const ONE_NODE_RUNS = 5;

async function timed(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const t0 = performance.now();
  const p = start(cmd, args, { env });
  const r = await waitExit(p, 900_000, what);
  if (r.code !== 0 && r.code !== 2) throw new Error(`${what} exited ${r.code}: ${p.output().slice(-800)}`);
  return performance.now() - t0;
}

/** Two Puppet JSON catalogs of n files each, one in ten changed, a few added and removed. */
function bigCatalogs(n: number): [unknown, unknown] {
  const res = (i: number, v: number) => ({
    type: 'File',
    title: `/srv/bench/f${i}`,
    tags: ['file', 'class', 'bench'],
    file: '/etc/puppet/code/site.pp',
    line: i,
    exported: false,
    parameters: {
      ensure: 'file',
      owner: 'root',
      mode: v ? '0600' : '0644',
      content: `file ${i}\nline two ${v}\n`,
      require: i > 0 ? `File[/srv/bench/f${i - 1}]` : [],
    },
  });
  const doc = (rs: unknown[]) => ({ name: 'bench.example.com', version: 1, catalog_format: 1, environment: 'production', resources: rs, edges: [] });
  const a = Array.from({ length: n }, (_, i) => res(i, 0));
  const b = Array.from({ length: n }, (_, i) => res(i, i % 10 === 0 ? 1 : 0)).filter((_, i) => i % 1000 !== 7);
  b.push(res(n, 0), res(n + 1, 0));
  return [doc(a), doc(b)];
}

export async function puppetDiff(ctx: BenchContext): Promise<BenchResult> {
  const rows = [];
  const notes: string[] = [];
  const repo = buildControlRepo();
  try {
    const from = repo.commits[0]!;
    const to = repo.commits[repo.commits.length - 1]!;
    const env = { ...process.env, HOME: ctx.dir };
    // The same flags for both tools (octocatalog-diff needs --output-format first), JSON to a file of the bench.
    const args = (out: string, nodes?: string, facts?: string[]) => [
      '--output-format',
      'json',
      '-o',
      join(ctx.dir, out),
      ...diffArgs(repo, from, to, nodes, facts),
    ];
    const oursOneArgs = [MGMT, 'puppet', 'diff', ...args('ours1.json')];
    const octoOneArgs = [...args('octo1.json'), '--puppet-binary', '/usr/bin/puppet'];
    // Puppet's compiled Ruby is cached (src/puppet/runtime/ruby-boot.ts): a private cache, empty for the first run
    // (shown on its own: a CI runner that keeps no cache pays this every time), filled by it for the others.
    const oursEnv = { ...process.env, MGMT_RUBY_CACHE: join(ctx.dir, 'ruby-cache') };
    mkdirSync(oursEnv.MGMT_RUBY_CACHE, { mode: 0o700 });
    const oursCold = await timed('node', oursOneArgs, 'mgmt puppet diff (1 node, empty compile cache)', oursEnv);
    // Alternated, so that a change of the machine's load while it runs touches both tools alike.
    const oursRuns: number[] = [];
    const octoRuns: number[] = [];
    const loadBefore = loadavg()[0]!;
    for (let i = 0; i < ONE_NODE_RUNS; i++) {
      oursRuns.push(await timed('node', oursOneArgs, 'mgmt puppet diff (1 node)', oursEnv));
      octoRuns.push(await timed('octocatalog-diff', octoOneArgs, 'octocatalog-diff (1 node)', env));
    }
    const oursOne = median(oursRuns);
    const octoOne = median(octoRuns);
    rows.push(
      row(`1 node, 2 refs: mgmt puppet diff (median of ${ONE_NODE_RUNS})`, fmtMs(oursOne)),
      row(`1 node, 2 refs: octocatalog-diff (median of ${ONE_NODE_RUNS})`, fmtMs(octoOne)),
      row('1 node, 2 refs: mgmt puppet diff runs', oursRuns.map(fmtMs).join(', ')),
      row('1 node, 2 refs: octocatalog-diff runs', octoRuns.map(fmtMs).join(', ')),
      row('1 node, 2 refs: load average (1 min) before, after', `${loadBefore.toFixed(2)}, ${loadavg()[0]!.toFixed(2)}`),
    );
    rows.push(row('1 node, 2 refs: speed-up', `${(octoOne / oursOne).toFixed(1)}x`, '>= 5x', octoOne / oursOne >= 5));
    rows.push(
      row('1 node, 2 refs: mgmt puppet diff, first run (empty compile cache)', fmtMs(oursCold)),
      row('1 node, 2 refs: speed-up of that first run', `${(octoOne / oursCold).toFixed(1)}x`),
    );

    const nodes = Array.from({ length: 20 }, (_, i) => `node${i + 1}.example.com`);
    const facts = join(ctx.dir, 'facts');
    mkdirSync(facts, { recursive: true });
    for (const n of nodes) writeFileSync(join(facts, `${n}.yaml`), FACTS_YAML.replaceAll(NODE, n));
    const oursMany = await timed(
      'node',
      [MGMT, 'puppet', 'diff', ...args('ours20.json', nodes.join(','), ['--facts-dir', facts])],
      'mgmt puppet diff (20 nodes)',
      oursEnv,
    );
    // octocatalog-diff reads one fact file for all nodes (--fact-file): the same work per node as ours.
    const octoMany = await timed(
      'octocatalog-diff',
      [...args('octo20.json', nodes.join(',')), '--parallel', '--puppet-binary', '/usr/bin/puppet'],
      'octocatalog-diff (20 nodes)',
      env,
    );
    rows.push(row('20 nodes, 2 refs: mgmt puppet diff', fmtMs(oursMany)), row('20 nodes, 2 refs: octocatalog-diff --parallel', fmtMs(octoMany)));
    rows.push(row('20 nodes, 2 refs: speed-up', `${(octoMany / oursMany).toFixed(1)}x`, '>= 10x', octoMany / oursMany >= 10));
  } finally {
    repo.remove();
  }

  const [a, b] = bigCatalogs(10_000);
  const ca = catalogFromData(a, 'from.json');
  const cb = catalogFromData(b, 'to.json');
  const puppetLevel: number[] = [];
  const withGraph: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    compareCatalogs(ca, cb);
    puppetLevel.push(performance.now() - t0);
    t0 = performance.now();
    diffNode('bench', ca, cb, registry);
    withGraph.push(performance.now() - t0);
  }
  const m = median(puppetLevel);
  rows.push(row('10,000-resource catalogs: Puppet-level diff (median of 5)', fmtMs(m), '<= 0.5 s', m <= 500));
  rows.push(row('10,000-resource catalogs: with both graphs translated and compared', fmtMs(median(withGraph))));
  notes.push(
    "The control repository is the differential test's (test/harness/control-repo.ts): its first and last commits, facts from a file; both tools compile locally with Debian's Puppet 7.",
    'mgmt puppet diff runs --parallel = cores workers (one ref each); octocatalog-diff 2.1.0 with --parallel. Wall time from process start to exit.',
    `One node: ${ONE_NODE_RUNS} runs of each tool, alternated, medians compared; the machine's load average is shown because other work on it slows both.`,
    "mgmt's Puppet workers keep Ruby's compiled code in a cache (~/.cache/mgmt/ruby by default; here a private one): the first run fills it (shown apart), the others read it.",
    'The 10,000-resource row times the diff only (catalogs parsed already): 1,000 changed, 10 removed, 2 added resources.',
  );
  return { name: 'puppet-diff', title: 'mgmt puppet diff vs octocatalog-diff', rows, notes };
}
