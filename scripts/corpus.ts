/**
 * `npm run corpus [-- flags]`: the development corpus (issue 12). Compiles every example manifest
 * (`examples/**\/*.pp`; `include <module>` for a module without examples) of the public modules listed in fixtures/corpus/modules.json, taken from a cache outside
 * the repository, with the fixed Debian 12 facts of fixtures/corpus/facts-debian12.yaml; translates each catalog,
 * checks the graph, runs the graphs that validate under noop on an in-process engine, and writes
 * docs/coverage.md. One long-lived Puppet worker compiles everything and applies the fallback resources' checks.
 * Where our result is not Puppet's on its face (a graph that does not validate, a --noop failure that no known
 * limit of the machine explains), `puppet apply --noop` runs the same example with the same facts, and the page
 * says whether Puppet refuses or fails it too (corpus-report.ts classifies).
 * CI does not run it (it needs the modules); developers do, on a machine with Puppet.
 *
 * flags:
 *   --cache DIR       the cache (default $MGMT_CORPUS_CACHE or /work/cache/corpus); modules under DIR/modules
 *   --git TEMPLATE    where each repository's git directory is, `{owner}` and `{name}` filled in (e.g.
 *                     '/work/.mirror/{owner}+{name}/repo'): exports the modules the cache lacks
 *   --update          with --git: choose each repository's newest release for this Puppet and rewrite the list
 *   --only TEXT       only the examples whose path contains TEXT (coverage.md is not written)
 *   --no-noop         compile, translate and validate only
 *   --bench           also time `mgmt puppet` against `puppet apply` on the largest example (corpus-bench.ts)
 *   --out FILE        where the coverage page goes (default docs/coverage.md)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { registry } from '../src/cli/registry.js';
import { Engine } from '../src/engine/engine.js';
import { checkSpec } from '../src/graph/check-spec.js';
import { hasErrors } from '../src/graph/diagnostics.js';
import type { GraphSpec } from '../src/graph/spec.js';
import { type LogSink, setLogSink } from '../src/observe/log.js';
import { errorText } from '../src/observe/errors.js';
import { type Catalog, CatalogError, catalogFromData } from '../src/puppet/catalog.js';
import { STORECONFIGS } from '../src/puppet/runtime/face-runner.js';
import { configurePuppet, getPuppetWorker, shutdownPuppetWorker } from '../src/puppet/runtime/worker.js';
import { translateCatalog } from '../src/puppet/translate.js';
import { benchLargest } from './corpus-bench.js';
import { CORPUS_FACTS, CORPUS_LIST, CORPUS_NODE, LARGEST_FILE, writeLargest } from './corpus-largest.js';
import { puppetApplyHome, puppetErrors, timed } from './corpus-puppet-apply.js';
import { type ExampleResult, causeOf, coverageMarkdown, resourceOutcomes } from './corpus-report.js';
import { exportModules, missingModules, modulesDir, pickRelease, readModuleList, writeModuleList, gitDirOf } from './corpus-modules.js';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
/** How long one example may take under noop before it counts as not converging. */
const NOOP_DEADLINE_MS = 180_000;
/** How long `puppet apply --noop` may take on one example. */
const PUPPET_DEADLINE_MS = 300_000;

const say = (line: string) => process.stderr.write(`corpus: ${line}\n`);

function puppetVersion(): string {
  const r = spawnSync('puppet', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`puppet --version failed (${r.error?.message ?? r.stderr}); install the Debian package puppet`);
  return r.stdout.trim();
}

/** examples/**\/*.pp of a module, sorted. */
function examplesOf(dir: string): string[] {
  const root = join(dir, 'examples');
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.pp')) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Puppet's message, with the cache's path cut so the page reads the same on every machine. */
function shortMessage(text: string, cache: string): string {
  return text
    .replaceAll(modulesDir(cache) + '/', '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Runs the graph under noop until it converges; the failures with their errors. */
async function runNoop(spec: GraphSpec, cache: string): Promise<{ failures: { id: string; error: string }[]; ms: number; timedOut: boolean }> {
  const prefix = mkdtempSync(join(tmpdir(), 'mgmt-corpus-noop-'));
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let engine: Engine | undefined;
  try {
    let done: (failed: readonly { id: string; failure: Error | undefined }[]) => void = () => {};
    const converged = new Promise<readonly { id: string; failure: Error | undefined }[]>((r) => (done = r));
    engine = new Engine({ registry, hostname: CORPUS_NODE, prefix, noop: true, convergedTimeout: 0, onConverged: (failed) => done(failed) });
    const swap = await engine.swap(spec);
    if (hasErrors(swap.diagnostics)) {
      return { failures: swap.diagnostics.map((d) => ({ id: 'graph', error: shortMessage(d.message, cache) })), ms: performance.now() - t0, timedOut: false };
    }
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), NOOP_DEADLINE_MS)));
    const failed = await Promise.race([converged, deadline]);
    if (failed === 'timeout')
      return { failures: engine.failures().map((v) => ({ id: v.id, error: shortMessage(errorText(v.failure), cache) })), ms: NOOP_DEADLINE_MS, timedOut: true };
    return { failures: failed.map((v) => ({ id: v.id, error: shortMessage(errorText(v.failure), cache) })), ms: performance.now() - t0, timedOut: false };
  } finally {
    clearTimeout(timer);
    await engine?.shutdown();
    rmSync(prefix, { recursive: true, force: true });
  }
}

/** `puppet apply --noop` on one example with the corpus's facts: its exit code and its `Error:` lines. */
async function puppetNoop(manifest: string, cache: string, base: string): Promise<{ code: number | null; errors: string[] }> {
  const home = puppetApplyHome(base, CORPUS_FACTS, CORPUS_NODE);
  try {
    const r = await timed(home.argv(manifest, modulesDir(cache)), home.env, PUPPET_DEADLINE_MS);
    return { code: r.code, errors: puppetErrors(r.output).map((e) => shortMessage(e, cache)) };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cache: { type: 'string' },
      git: { type: 'string' },
      update: { type: 'boolean' },
      only: { type: 'string' },
      'no-noop': { type: 'boolean' },
      bench: { type: 'boolean' },
      out: { type: 'string' },
    },
    allowPositionals: false,
  });
  const cache = resolve(values.cache ?? process.env.MGMT_CORPUS_CACHE ?? '/work/cache/corpus');
  const version = puppetVersion();
  let list = readModuleList(CORPUS_LIST);
  if (values.update) {
    if (values.git === undefined) throw new Error('--update needs --git TEMPLATE (where the repositories are)');
    const template = values.git;
    list = {
      '//': list['//'] ?? '',
      puppet: version,
      modules: list.modules.map((m) => ({ ...pickRelease(gitDirOf(template, m.repo), m.repo, version), examples: m.examples })),
    };
    writeModuleList(CORPUS_LIST, list);
    say(`chose releases for Puppet ${version}; wrote ${relative(REPO, CORPUS_LIST)}`);
  }
  const missing = missingModules(cache, list);
  if (missing.length) {
    if (values.git === undefined) {
      throw new Error(
        `${missing.length} module(s) missing from the cache ${cache} (${missing.map((m) => m.repo).join(', ')}); ` +
          `give --git TEMPLATE, e.g. --git '/work/.mirror/{owner}+{name}/repo', to export them from git`,
      );
    }
    exportModules(cache, missing, values.git, say);
  }
  if (version !== list.puppet) say(`warning: the releases were chosen for Puppet ${list.puppet}; this is Puppet ${version}`);

  const stateDir = mkdtempSync(join(tmpdir(), 'mgmt-corpus-'));
  // The engine's and the worker's log lines are not the report: keep them out of the terminal, count errors only.
  const logSink: LogSink = { write: () => {} };
  setLogSink(logSink);
  // An empty confdir: the corpus compiles the same on every machine, whatever its own puppet.conf says.
  const confdir = join(stateDir, 'empty-confdir');
  mkdirSync(confdir);
  configurePuppet({
    stateDir,
    settings: { confdir, modulepath: [modulesDir(cache)], certname: CORPUS_NODE },
    args: STORECONFIGS,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const worker = getPuppetWorker();
  worker.acquire();
  const results: ExampleResult[] = [];
  const t0 = performance.now();
  try {
    for (const m of list.modules) {
      if (!m.examples) continue;
      const files = examplesOf(join(modulesDir(cache), m.name));
      // A module without examples: its main class with its defaults, as `include` declares it.
      const inputs = files.length
        ? files.map((file) => ({ file, path: relative(modulesDir(cache), file) }))
        : [{ code: `include ${m.name}\n`, path: `${m.name}/(include ${m.name})` }];
      for (const input of inputs) {
        const path = input.path;
        if (values.only !== undefined && !path.includes(values.only)) continue;
        const te = performance.now();
        const res: ExampleResult = { module: m.name, path, compiled: false };
        results.push(res);
        const reply = await worker
          .request('compile', { ...('file' in input ? { manifest: input.file } : { code: input.code }), facts_file: CORPUS_FACTS, node: CORPUS_NODE })
          .catch((e: unknown) => e as Error);
        if (reply instanceof Error || reply.error) {
          res.compileError = shortMessage(reply instanceof Error ? reply.message : reply.error!.message, cache);
          say(`${path}: compile failed: ${res.compileError.slice(0, 200)}`);
          continue;
        }
        res.compiled = true;
        let catalog: Catalog;
        let spec: GraphSpec;
        try {
          catalog = catalogFromData(reply.catalog, path);
          const t = translateCatalog(registry, catalog);
          spec = t.spec;
          res.outcomes = resourceOutcomes(catalog, t.report);
          res.report = t.report;
        } catch (e) {
          if (!(e instanceof CatalogError)) throw e;
          res.validationErrors = [shortMessage(e.message, cache)];
          say(`${path}: translation failed: ${e.message}`);
          continue;
        }
        // What `puppet apply` runs for this input: the example, or a file holding the `include` line.
        const manifestOf = (): string => {
          if ('file' in input) return input.file;
          const f = join(stateDir, 'include.pp');
          writeFileSync(f, input.code);
          return f;
        };
        const diagnostics = checkSpec(registry, spec).filter((d) => d.severity === 'error');
        if (diagnostics.length) {
          res.validationErrors = diagnostics.map((d) => shortMessage(d.message, cache));
          say(`${path}: the graph does not validate: ${res.validationErrors[0]!.slice(0, 200)}`);
          // Does Puppet refuse it too? (The contract holds for what `puppet apply` can apply.)
          res.puppetNoop = await puppetNoop(manifestOf(), cache, join(stateDir, 'puppet-apply'));
          continue;
        }
        res.validated = true;
        if (!values['no-noop']) {
          const run = await runNoop(spec, cache);
          const refs = new Map(res.report.resources.map((r) => [`${r.kind}[${r.name}]`, r.ref]));
          res.noop = { ...run, failures: run.failures.map((f) => ({ ...f, ...(refs.has(f.id) ? { ref: refs.get(f.id)! } : {}) })) };
          // A failure no known limit of this machine explains: does Puppet's own noop fail that resource too?
          if (run.timedOut || run.failures.some((f) => !causeOf(f.error).machine)) {
            res.puppetNoop = await puppetNoop(manifestOf(), cache, join(stateDir, 'puppet-apply'));
          }
        }
        say(
          `${path}: ${res.outcomes.length} resources, ${res.outcomes.filter((o) => o.status === 'native').length} native` +
            (res.noop ? `; noop: ${res.noop.failures.length} failed${res.noop.timedOut ? ' (did not converge)' : ''}` : '') +
            ` (${((performance.now() - te) / 1000).toFixed(1)} s)`,
        );
      }
    }
  } finally {
    await worker.release();
    await shutdownPuppetWorker();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  say(`${results.length} examples in ${seconds.toFixed(0)} s`);
  // The largest example that validates (a file, not an `include` line): the end-to-end benchmark's input.
  const largest = results
    .filter((r) => r.validated && !r.path.includes('(include '))
    .sort((a, b) => (b.outcomes?.length ?? 0) - (a.outcomes?.length ?? 0) || (a.path < b.path ? -1 : 1))[0];
  if (values.only === undefined) {
    const out = resolve(values.out ?? join(REPO, 'docs', 'coverage.md'));
    writeFileSync(out, coverageMarkdown({ list, puppet: version, results, noop: !values['no-noop'], seconds }));
    say(`wrote ${relative(REPO, out)}`);
    if (largest) {
      const m = list.modules.find((x) => x.name === largest.module);
      writeLargest({ example: largest.path, module: largest.module, commit: m?.commit ?? '', resources: largest.outcomes?.length ?? 0 });
      say(`wrote ${relative(REPO, LARGEST_FILE)} (${largest.path})`);
    }
  }
  if (values.bench) {
    if (!largest) throw new Error('--bench: no example validates');
    await benchLargest(join(modulesDir(cache), largest.path), modulesDir(cache), CORPUS_FACTS, CORPUS_NODE, say);
  }
  return 0;
}

const isMain = process.argv[1] !== undefined && statSync(process.argv[1]).isFile() && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`corpus: ${errorText(e)}\n`);
      process.exit(1);
    },
  );
}
