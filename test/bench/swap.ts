/**
 * Benchmark 4, graph swap and autoedges, in process: a 10,000-file tree (100 managed directories x 100 files,
 * under one managed root) is applied for real into a temp dir; then the same graph with ONE file's content
 * changed is swapped in, and `await engine.swap(next)` is timed. `autoEdges` over the tree is timed on its own.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { autoEdges } from '../../src/engine/autoedges.js';
import { checkGraphText } from '../../src/graph/read.js';
import type { GraphSpec } from '../../src/graph/spec.js';
import { setLogLevel } from '../../src/observe/log.js';
import { type BenchContext, type BenchResult, fmtMs, median, q, row, type Row } from './common.js';
import { registry } from '../../src/cli/registry.js';

const DIRS = 100;
const FILES = 100;
const SWAPS = 5;
const pad = (i: number) => String(i).padStart(3, '0');

function treeYaml(root: string, changed?: { d: number; f: number; content: string }): string {
  const out = ['graph: bench-swap', 'resources:', '  file:', `  - name: ${q(root + '/')}`, '    state: exists', '    mode: "0755"'];
  for (let d = 1; d <= DIRS; d++) {
    const dir = `${root}/d${pad(d)}/`;
    out.push(`  - name: ${q(dir)}`, '    state: exists', '    mode: "0755"');
    for (let f = 1; f <= FILES; f++) {
      const content = changed?.d === d && changed.f === f ? changed.content : `d${d} f${f}\n`;
      out.push(`  - name: ${q(`${dir}f${pad(f)}.txt`)}`, '    state: exists', `    content: ${q(content)}`, '    mode: "0644"');
    }
  }
  return out.join('\n') + '\n';
}

function mustSpec(text: string, file: string): GraphSpec {
  const loaded = checkGraphText(registry, text, file);
  if (!loaded.spec)
    throw new Error(
      `generated graph rejected: ${loaded.diagnostics
        .slice(0, 3)
        .map((d) => d.message)
        .join('; ')}`,
    );
  return loaded.spec;
}

export async function swap(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const root = join(ctx.dir, 'tree');
  const file = join(ctx.dir, 'tree.yaml');

  const text = treeYaml(root);
  const tp = performance.now();
  const spec = mustSpec(text, file);
  const parseMs = performance.now() - tp;
  rows.push(row(`parse + validate YAML (${spec.resources.length} resources, ${(text.length / 1024 / 1024).toFixed(1)} MB)`, fmtMs(parseMs)));

  // The engine logs one line per created file at info level; keep the bench output readable.
  setLogLevel('warn');
  let converged: ((n: number) => void) | undefined;
  let failedCount = 0;
  const engine = new Engine({
    registry,
    hostname: hostname(),
    prefix: join(ctx.dir, 'prefix'),
    convergedTimeout: 0,
    onConverged: (failed) => {
      failedCount = failed.length;
      const c = converged;
      converged = undefined;
      c?.(performance.now());
    },
  });
  const untilConverged = (ms: number, what: string) =>
    new Promise<number>((res, rej) => {
      const timer = setTimeout(() => {
        converged = undefined;
        rej(new Error(`engine did not converge within ${ms / 1000} s (${what})`));
      }, ms);
      converged = (t) => {
        clearTimeout(timer);
        res(t);
      };
    });

  try {
    const t0 = performance.now();
    const first = untilConverged(120_000, 'initial apply');
    const r0 = await engine.swap(spec);
    if (r0.diagnostics.length) throw new Error(`initial swap rejected: ${r0.diagnostics[0]!.message}`);
    const tConv = await first;
    if (failedCount > 0) throw new Error(`${failedCount} resources failed in the initial apply`);
    rows.push(row('initial swap (empty -> 10,101 vertices)', fmtMs(r0.ms)));
    rows.push(row('initial apply to convergence (in process)', fmtMs(tConv - t0)));

    // Swap in the same graph with one file's content changed, SWAPS times (alternating contents).
    const target = { d: 50, f: 50 };
    const targetPath = `${root}/d${pad(target.d)}/f${pad(target.f)}.txt`;
    const swapMs: number[] = [];
    const reconvMs: number[] = [];
    let last = { added: 0, removed: 0, kept: 0 };
    for (let k = 1; k <= SWAPS; k++) {
      const content = `changed ${k}\n`;
      const next = mustSpec(treeYaml(root, { ...target, content }), file);
      const wait = untilConverged(30_000, `swap ${k}`);
      const ts = performance.now();
      const r = await engine.swap(next);
      const te = performance.now();
      if (r.diagnostics.length) throw new Error(`swap ${k} rejected: ${r.diagnostics[0]!.message}`);
      const tc = await wait;
      const got = await readFile(targetPath, 'utf8');
      if (got !== content) throw new Error(`after swap ${k}, ${targetPath} holds ${JSON.stringify(got)}`);
      swapMs.push(te - ts);
      reconvMs.push(tc - ts);
      last = { added: r.added, removed: r.removed, kept: r.kept };
    }
    const med = median(swapMs);
    rows.push(row(`swap, one file changed: await engine.swap() median of ${SWAPS}`, fmtMs(med), '<= 50 ms', med <= 50));
    rows.push(row('swap, one file changed: first / max', `${fmtMs(swapMs[0]!)} / ${fmtMs(Math.max(...swapMs))}`));
    rows.push(row('swap result (added / removed / kept)', `${last.added} / ${last.removed} / ${last.kept}`));
    rows.push(row('swap to re-converged (median)', fmtMs(median(reconvMs))));

    // autoEdges over the tree.
    const ae: number[] = [];
    let edges = 0;
    for (let k = 0; k < 5; k++) {
      const ta = performance.now();
      edges = autoEdges(registry, spec.resources).length;
      ae.push(performance.now() - ta);
    }
    const aeMed = median(ae);
    rows.push(row(`autoEdges over ${spec.resources.length} resources (${edges} edges), median of 5`, fmtMs(aeMed), '<= 100 ms', aeMed <= 100));
  } finally {
    const ts = performance.now();
    await engine.shutdown();
    rows.push(row('engine shutdown (10,101 vertices)', fmtMs(performance.now() - ts)));
    setLogLevel('info');
  }

  return {
    name: 'swap',
    title: 'graph swap and autoedges on a 10,000-file tree (in process)',
    rows,
    notes: [
      `In process, from dist/src: a tree of 1 + ${DIRS} managed directories and ${DIRS * FILES} files, built with checkGraphText from generated YAML and applied for real into the temp dir (Engine with convergedTimeout 0).`,
      `Swap: the same YAML with one file's content changed is parsed beforehand; only \`await engine.swap(next)\` is timed (autoedges, cycle check, fingerprints, rewiring, stopping and starting the changed vertex). ${SWAPS} swaps alternate the content, each waiting for convergence and checking the file.`,
      'The parse + validate time is the first (cold) checkGraphText call; it is informative only.',
      'autoEdges is timed on the already-validated resources, after the engine has run (warm JIT).',
    ],
  };
}
