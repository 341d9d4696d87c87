/** `mgmt puppet translate`: compiles (or reads) a Puppet catalog and prints the graph YAML and the report. */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { CatalogError, type Catalog, readCatalog } from '../puppet/catalog.js';
import { compileCatalog } from '../puppet/runtime/face-runner.js';
import { DEBIAN_MODULES } from '../puppet/runtime/puppet-home.js';
import { graphYaml } from '../puppet/output.js';
import { formatReport } from '../puppet/report.js';
import { translateCatalog } from '../puppet/translate.js';
import { checkPuppetFlags, puppetFlagOptions, strictLevel, strictRefusal, withStrictDefault } from './puppet-flags.js';
import { registry } from './registry.js';
import { EXIT_FAILED, EXIT_OK } from './usage.js';

export const puppetTranslateHelp = `usage: mgmt puppet translate (--catalog FILE | --manifest FILE | --code TEXT) [flags]

Translates Puppet code (compiled locally by the mgmtgraph face) or a catalog (the face's document, Puppet's
catalog JSON, or a PuppetDB export) into a mgmt graph. The graph YAML goes to stdout (or -o FILE), the
translation report's summary to stderr. Sensitive values are redacted in every printed output.

flags:
  --catalog FILE       read a catalog (JSON or YAML; - for stdin) instead of compiling
  --manifest FILE      compile this manifest (or directory of manifests)
  --code TEXT          compile this Puppet code
  -o, --output FILE    write the graph YAML to FILE
  --report FILE        write the full report as JSON to FILE
  --strict[=LEVEL]     exit 1 (and write no graph) if a resource is not native: fallback refuses resources
                       Puppet would apply, degraded (the default) those too that lose an attribute
  --facts FILE         stub facts (YAML or JSON) instead of facter
  --modulepath DIRS    colon-separated module directories (Debian's ${DEBIAN_MODULES} is appended)
  --puppet-bin BIN     the Puppet executable (default: puppet)
  --node NAME          the node to compile for (Puppet's certname, as puppet apply --certname)
  --runinterval SECS   polling interval of fallback resources (default: 1800, Puppet's runinterval)

Exit status: 0 ok, 1 failure (compile error, bad catalog, --strict), 2 usage.`;

export async function translateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: withStrictDefault(argv),
    options: {
      ...puppetFlagOptions,
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(puppetTranslateHelp + '\n');
    return EXIT_OK;
  }
  const { runinterval } = checkPuppetFlags(values);
  const strict = strictLevel(values.strict);

  let catalog: Catalog;
  try {
    if (values.catalog !== undefined) {
      const name = values.catalog === '-' ? '<stdin>' : values.catalog;
      let text: string;
      try {
        text = readFileSync(values.catalog === '-' ? 0 : values.catalog, 'utf8');
      } catch (e) {
        process.stderr.write(`mgmt puppet: cannot read catalog ${name}: ${(e as Error).message}\n`);
        return EXIT_FAILED;
      }
      catalog = readCatalog(text, name);
    } else {
      // Puppet runs in a process group of its own, out of reach of the terminal's Ctrl-C: a signal to us stops it.
      const interrupt = new AbortController();
      let caught: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        caught = sig;
        interrupt.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const res = await compileCatalog({
        ...(values.manifest !== undefined ? { manifest: values.manifest } : {}),
        ...(values.code !== undefined ? { code: values.code } : {}),
        ...(values.facts !== undefined ? { facts: values.facts } : {}),
        ...(values.node !== undefined ? { node: values.node } : {}),
        ...(values.modulepath !== undefined ? { modulepath: values.modulepath.split(':').filter(Boolean) } : {}),
        ...(values['puppet-bin'] !== undefined ? { puppetBin: values['puppet-bin'] } : {}),
        signal: interrupt.signal,
      }).finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
      if (caught !== undefined) {
        process.stderr.write(`mgmt puppet: ${caught}: the compile was stopped\n`);
        return 128 + constants.signals[caught];
      }
      process.stderr.write(res.stderr.trim() ? res.stderr.replace(/\n*$/, '\n') : '');
      if (!res.ok) {
        process.stderr.write(`mgmt puppet: compiling ${values.manifest ?? '--code'} failed (exit ${res.code ?? 'n/a'})\n`);
        return EXIT_FAILED;
      }
      catalog = readCatalog(res.catalog, values.manifest ?? '<code>');
    }
    const { spec, report } = translateCatalog(registry, catalog, runinterval !== undefined ? { runinterval } : {});
    process.stderr.write(formatReport(report));
    if (values.report !== undefined) writeFileSync(values.report, JSON.stringify(report, null, 2) + '\n');
    const refusal = strictRefusal(report, strict);
    if (refusal !== undefined) {
      process.stderr.write(`mgmt puppet: ${refusal}; no graph written\n`);
      return EXIT_FAILED;
    }
    const yaml = graphYaml(spec);
    if (values.output !== undefined) writeFileSync(values.output, yaml);
    else process.stdout.write(yaml);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CatalogError) {
      process.stderr.write(`mgmt puppet: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  }
}
