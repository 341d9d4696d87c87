/**
 * `mgmt puppet [--manifest FILE | --code TEXT | --catalog FILE] [flags]`: compiles the Puppet code in the
 * long-lived Puppet worker, translates the catalog, checks the graph like any other, and runs it on the engine
 * with every `mgmt run` flag. The manifest, the module path, a catalog file and what the compile read (the
 * environment, Hiera; puppet-watch.ts) are watched: a change
 * recompiles in the same worker, translates and swaps the graph; a compile error keeps the running graph.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Diagnostic, diagnosticLogText, hasErrors } from '../graph/diagnostics.js';
import type { Loaded } from '../graph/yaml-loader.js';
import { flushLog, logger, setLogLevel } from '../observe/log.js';
import { type Catalog, CatalogError, catalogFromData, readCatalog } from '../puppet/catalog.js';
import { STORECONFIGS } from '../puppet/runtime/face-runner.js';
import { settingsHelp, withNodeCertname } from '../puppet/runtime/puppet-settings.js';
import { configurePuppet, getPuppetWorker, PuppetWorkerError, type WorkerReply, setPuppetWorkerLog, shutdownPuppetWorker } from '../puppet/runtime/worker.js';
import { checkPuppetFlags, inputName, puppetFlagOptions, readPuppetSettings, strictLevel, strictRefusal, withStrictDefault } from './puppet-flags.js';
import { puppetWatchList } from './puppet-watch.js';
import { resolveRunFlags, runFlagOptions, runFlagsHelp } from './run-flags.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';
import { errnoCode } from '../observe/errors.js';

export const puppetRunHelp = `usage: mgmt puppet [--manifest FILE | --code TEXT | --catalog FILE] [flags]
       mgmt puppet translate ...      (print the graph and the report instead: mgmt puppet translate --help)

Compiles the Puppet code locally (in a long-lived Puppet process), translates the catalog, and runs the graph.
Resources without a native translation are applied by Puppet itself. The manifest, module path and what the
compile read (the environment's directory, its Hiera data, the global hiera.yaml) are watched: an edit
recompiles and swaps the graph; a compile error keeps the running graph.

Puppet flags:
  --manifest FILE      the manifest (or directory of manifests) to compile
  --code TEXT          Puppet code to compile
  --catalog FILE       run a catalog (the face's document, Puppet's catalog JSON, a PuppetDB export)
                       (none of the three: the environment's main manifest, environment.conf's manifest)
  --facts FILE         stub facts (YAML or JSON) instead of facter
  --puppet-bin BIN     the Puppet executable (default: puppet; OpenVox's works too)
  --node NAME          the node to compile for (also Puppet's certname unless --certname is given)
  --runinterval SECS   polling interval of resources Puppet applies (default: 1800)
  --strict[=LEVEL]     refuse to run while a resource is not native: fallback refuses resources Puppet would
                       apply, degraded (the default) those too that lose an attribute
  --report FILE        write the translation report as JSON (after each compile)

Puppet settings (read as puppet apply reads them: puppet.conf [main] and [user], the environment's
environment.conf, Hiera 5 at global, environment and module level; what Puppet writes stays under
PREFIX/puppet, never in the node's own Puppet directories):
${settingsHelp()}

Run flags:
${runFlagsHelp}`;

export async function puppetRunCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: withStrictDefault(argv),
    options: { ...runFlagOptions, ...puppetFlagOptions },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(puppetRunHelp + '\n');
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const { runinterval } = checkPuppetFlags(values);
  const strict = strictLevel(values.strict);
  const flags = await resolveRunFlags(values);
  if (flags.verbose) setLogLevel('debug');
  const given = readPuppetSettings(values);
  if (given === undefined) return EXIT_FAILED;
  const settings = withNodeCertname(given, values.node);
  const modulepath = (settings.modulepath ?? []).map((d) => resolve(d));
  configurePuppet({
    stateDir: join(flags.prefix, 'puppet'),
    settings,
    // Collectors (`File <<| tag == 's' |>>`) reach our storeconfigs backend, so they become collect entries.
    args: STORECONFIGS,
    ...(values['puppet-bin'] !== undefined ? { puppetBin: values['puppet-bin'] } : {}),
  });
  const log = logger('puppet');
  setPuppetWorkerLog(log);
  const manifest = values.manifest !== undefined ? resolve(values.manifest) : undefined;
  const catalogFile = values.catalog !== undefined ? resolve(values.catalog) : undefined;
  const facts = values.facts !== undefined ? resolve(values.facts) : undefined;
  const name = inputName({
    ...(manifest ? { manifest } : {}),
    ...(catalogFile ? { catalog: catalogFile } : {}),
    ...(values.code !== undefined ? { code: values.code } : {}),
  });
  const worker = getPuppetWorker();
  worker.acquire();
  try {
    let first = true;
    /** What the first compile read (the environment, Hiera, the modulepath): watched with the manifest. */
    let compiledInputs: readonly string[] = [];
    /** Before the first compile or catalog read: the watch, set up later, catches up on changes since. */
    const readSince = Date.now();

    const compile = async (): Promise<{ reply: WorkerReply; ms: number }> => {
      const t0 = performance.now();
      const reply = await worker.request('compile', {
        ...(manifest ? { manifest } : values.code !== undefined ? { code: values.code } : {}),
        ...(facts ? { facts_file: facts } : {}),
        ...(values.node !== undefined ? { node: values.node } : {}),
      });
      return { reply, ms: performance.now() - t0 };
    };
    // The first compile is asked for BEFORE the translator, the kinds and the engine are loaded (about 100
    // modules, ~80 ms): Ruby and Puppet start meanwhile, on the other core.
    let firstCompile = catalogFile ? undefined : compile();
    firstCompile?.catch(() => undefined); // awaited in load(); this only keeps a failed import from leaving it unhandled
    const [{ checkSpec }, { formatReport }, { translateCatalog }, { runEngine }, { registry }] = await Promise.all([
      import('../graph/check-spec.js'),
      import('../puppet/report.js'),
      import('../puppet/translate.js'),
      import('./run.js'),
      import('./registry.js'),
    ]);

    const load = async (): Promise<Loaded> => {
      let catalog: Catalog;
      try {
        if (catalogFile) catalog = readCatalog(await readFile(catalogFile, 'utf8'), catalogFile);
        else {
          const pending = firstCompile ?? compile();
          firstCompile = undefined;
          const { reply, ms } = await pending;
          if (reply.error) return { diagnostics: [compileError(reply.error, name)] };
          if (first && Array.isArray(reply.watch)) compiledInputs = reply.watch;
          catalog = catalogFromData(reply.catalog, name);
          log.debug(`compiled ${name} in ${ms.toFixed(0)} ms`);
        }
      } catch (e) {
        if (e instanceof CatalogError || e instanceof PuppetWorkerError || errnoCode(e) !== undefined) {
          return { diagnostics: [{ severity: 'error', message: (e as Error).message }] };
        }
        throw e;
      }
      const { spec, report } = translateCatalog(registry, catalog, runinterval !== undefined ? { runinterval } : {});
      if (first) {
        flushLog();
        process.stderr.write(formatReport(report));
      } else
        log.info(
          `translated ${report.coverage.total.total} resources (${report.coverage.total.degraded} degraded, ${report.coverage.total.fallback} fallback)`,
        );
      first = false;
      if (values.report !== undefined) await writeFile(values.report, JSON.stringify(report, null, 2) + '\n');
      const diagnostics = checkSpec(registry, spec);
      const refusal = strictRefusal(report, strict);
      if (refusal !== undefined) diagnostics.push({ severity: 'error', message: refusal });
      return hasErrors(diagnostics) ? { diagnostics } : { spec, diagnostics };
    };

    const loaded = await load();
    for (const d of loaded.diagnostics) log[d.severity === 'error' ? 'error' : 'warn'](diagnosticLogText(d));
    if (!loaded.spec) {
      log.error(`${name}: nothing was applied`);
      return EXIT_FAILED;
    }
    const watch = puppetWatchList({ manifest, catalogFile, modulepath, compiled: compiledInputs });
    log.debug(`watching ${watch.map((w) => w.path).join(', ')}`);
    return await runEngine(loaded.spec, flags, { name, watch, readSince, load });
  } finally {
    await worker.release();
    await shutdownPuppetWorker();
  }
}

/** Puppet's compile error, placed at the file and line Puppet names. */
function compileError(err: { message: string; file?: string | null; line?: number | null }, name: string): Diagnostic {
  return {
    severity: 'error',
    message: `Puppet could not compile ${name}: ${err.message}`,
    ...(err.file ? { pos: { file: err.file, line: err.line ?? 0, col: 1 } } : {}),
  };
}
