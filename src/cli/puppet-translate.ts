/** `mgmt puppet translate`: compiles (or reads) a Puppet catalog and prints the graph YAML and the report. */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import jsYaml from 'js-yaml';
import { CatalogError, type Catalog, readCatalog } from '../puppet/catalog.js';
import { compileCatalog } from '../puppet/runtime/face-runner.js';
import { settingsHelp } from '../puppet/runtime/puppet-settings.js';
import { graphYaml } from '../puppet/output.js';
import { formatReport } from '../puppet/report.js';
import { translateCatalog } from '../puppet/translate.js';
import { checkPuppetFlags, inputName, puppetFlagOptions, readPuppetSettings, strictLevel, strictRefusal, withStrictDefault } from './puppet-flags.js';
import { registry } from './registry.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';
import { nodeCatalogFromPuppetDb, puppetDbClient } from '../puppet/agent/puppetdb-catalog.js';
import { PuppetDbError } from '../puppet/agent/puppetdb-client.js';
import { PuppetSslError } from '../puppet/agent/puppet-ssl.js';

export const puppetTranslateHelp = `usage: mgmt puppet translate [--catalog FILE | --manifest FILE | --code TEXT | --puppetdb URL --node NAME] [flags]

Translates Puppet code (compiled locally by the mgmtgraph face) or a catalog (the face's document, Puppet's
catalog JSON, a PuppetDB export, or a node's latest catalog read from PuppetDB) into a mgmt graph. The graph
YAML goes to stdout (or -o FILE), the translation report's summary to stderr. Sensitive values are redacted in every printed output.

flags:
  --catalog FILE       read a catalog (JSON or YAML; - for stdin) instead of compiling
  --manifest FILE      compile this manifest (or directory of manifests)
  --code TEXT          compile this Puppet code
                       (none of the three: the environment's main manifest, environment.conf's manifest)
  -o, --output FILE    write the graph YAML to FILE
  --report FILE        write the full report as JSON to FILE
  --strict[=LEVEL]     exit 1 (and write no graph) if a resource is not native: fallback refuses resources
                       Puppet would apply, degraded (the default) those too that lose an attribute
  --facts FILE         stub facts (YAML or JSON) instead of facter
  --puppet-bin BIN     the Puppet executable (default: puppet)
  --node NAME          the node to compile for (also Puppet's certname unless --certname is given), or to
                       read from PuppetDB
  --puppetdb URL       read the node's latest catalog from PuppetDB (https://HOST:8081, or http on loopback)
                       with the certificate --certname in --ssldir; PuppetDB holds no Sensitive parameters:
                       resources arrive without them
  --facts-out FILE     with --puppetdb: write the node's latest facts there (YAML, as --facts reads them)
  --runinterval SECS   polling interval of fallback resources (default: 1800, Puppet's runinterval)

Puppet settings (read as puppet apply reads them; what Puppet writes goes to a temporary directory):
${settingsHelp()}

Exit status: 0 ok, 1 failure (compile error, bad catalog, --strict), 2 usage.`;

export async function translateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: withStrictDefault(argv),
    options: {
      ...puppetFlagOptions,
      output: { type: 'string', short: 'o' },
      puppetdb: { type: 'string' },
      'facts-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(puppetTranslateHelp + '\n');
    return EXIT_OK;
  }
  const { runinterval } = checkPuppetFlags(values);
  if (values.puppetdb !== undefined && values.node === undefined) throw new UsageError('--puppetdb needs --node NAME: the certname whose catalog to read');
  if (values.puppetdb === undefined) {
    if (values['facts-out'] !== undefined) throw new UsageError('--facts-out goes with --puppetdb URL');
  }
  const strict = strictLevel(values.strict);

  let catalog: Catalog;
  try {
    if (values.puppetdb !== undefined && values.node !== undefined) {
      catalog = await fromPuppetDb(values.puppetdb, values.node, values);
    } else if (values.catalog !== undefined) {
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
      const settings = readPuppetSettings(values);
      if (settings === undefined) return EXIT_FAILED;
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
        settings,
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
        process.stderr.write(`mgmt puppet: compiling ${inputName(values)} failed (exit ${res.code ?? 'n/a'})\n`);
        return EXIT_FAILED;
      }
      catalog = readCatalog(res.catalog, values.manifest ?? (values.code !== undefined ? '<code>' : "<the environment's main manifest>"));
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
    if (e instanceof CatalogError || e instanceof PuppetDbError || e instanceof PuppetSslError) {
      process.stderr.write(`mgmt puppet: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  }
}

/** The node's latest catalog from PuppetDB (and its facts, with --facts-out); says what it read on stderr. */
async function fromPuppetDb(url: string, node: string, v: { ssldir?: string; certname?: string; 'facts-out'?: string }): Promise<Catalog> {
  const client = puppetDbClient({
    url,
    ...(v.ssldir !== undefined ? { ssldir: v.ssldir } : {}),
    ...(v.certname !== undefined ? { certname: v.certname } : {}),
  });
  try {
    const got = await nodeCatalogFromPuppetDb(client, node, { facts: v['facts-out'] !== undefined });
    const i = got.info;
    process.stderr.write(
      `mgmt puppet: ${node}: catalog ${i.version ?? '(no version)'} of ${i.producerTimestamp ?? '(no time)'}, environment ${i.environment ?? '(none)'}` +
        `${i.codeId ? `, code_id ${i.codeId}` : ''} from PuppetDB ${client.url}\n`,
    );
    if (i.deactivated) process.stderr.write(`mgmt puppet: warning: PuppetDB deactivated ${node} at ${i.deactivated}: its catalog may be stale\n`);
    if (v['facts-out'] !== undefined) {
      if (!got.facts) throw new PuppetDbError(`PuppetDB at ${client.url} holds no facts for ${node}: no --facts-out written`);
      writeFileSync(v['facts-out'], jsYaml.dump(got.facts.values, { sortKeys: true, noRefs: true }));
    }
    return got.catalog;
  } finally {
    client.close();
  }
}
