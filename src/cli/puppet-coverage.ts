/**
 * `mgmt puppet coverage --puppetdb URL`: the fleet's migration plan. Reads every active node's latest catalog from
 * PuppetDB, translates it, and prints per node the share of native resources and what blocks 100%, and over the
 * fleet the blockers ranked by how many nodes each holds back.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorText } from '../observe/errors.js';
import { CatalogError } from '../puppet/catalog.js';
import { fleetCoverage, nodeCoverage, type NodeCoverage, nodeWithout } from '../puppet/agent/fleet-coverage.js';
import { COVERAGE_FORMATS, type CoverageFormat, formatCoverage } from '../puppet/agent/fleet-coverage-output.js';
import { nodeCatalogFromPuppetDb, puppetDbClient } from '../puppet/agent/puppetdb-catalog.js';
import { PuppetDbError } from '../puppet/agent/puppetdb-client.js';
import { PuppetSslError } from '../puppet/agent/puppet-ssl.js';
import { translateCatalog } from '../puppet/translate.js';
import { registry } from './registry.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const puppetCoverageHelp = `usage: mgmt puppet coverage --puppetdb URL [flags]

The migration plan: translates the latest catalog of every active node in PuppetDB and prints, per node, the
share of native resources and what blocks 100% (in migration order: fewest blockers first), and over the fleet
the blockers ranked by how many nodes each holds back (the translations to add first). Nothing is applied.

flags:
  --puppetdb URL          PuppetDB (https://HOST:8081 with --ssldir, or http on loopback)
  --ssldir DIR            the agent's ssldir, whose certificate identifies us to PuppetDB over https
  --certname NAME         the certificate in --ssldir to use (default: the only one there)
  --environment ENV       only the nodes whose latest catalog is of this environment
  --output-format FORMAT  text (default), json or markdown
  -o, --output FILE       write the plan to FILE instead of stdout
  --concurrency N         catalogs read at once (default 4)

Exit status: 0 the plan was made (whatever it says), 1 PuppetDB could not be read, 2 usage.`;

export async function coverageCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      puppetdb: { type: 'string' },
      ssldir: { type: 'string' },
      certname: { type: 'string' },
      environment: { type: 'string' },
      'output-format': { type: 'string' },
      output: { type: 'string', short: 'o' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(puppetCoverageHelp + '\n');
    return EXIT_OK;
  }
  if (values.puppetdb === undefined) throw new UsageError('mgmt puppet coverage needs --puppetdb URL');
  const format = (values['output-format'] ?? 'text') as CoverageFormat;
  if (!COVERAGE_FORMATS.includes(format)) throw new UsageError(`--output-format takes ${COVERAGE_FORMATS.join(', ')}; got ${JSON.stringify(format)}`);
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError('--concurrency takes a whole number from 1 to 64');

  let client;
  try {
    client = puppetDbClient({
      url: values.puppetdb,
      ...(values.ssldir !== undefined ? { ssldir: values.ssldir } : {}),
      ...(values.certname !== undefined ? { certname: values.certname } : {}),
    });
  } catch (e) {
    if (e instanceof PuppetDbError || e instanceof PuppetSslError) {
      process.stderr.write(`mgmt puppet coverage: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  }
  const pdb = client;
  try {
    const nodes = await pdb.activeNodes(values.environment);
    const results: NodeCoverage[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < nodes.length; i = next++) {
        const n = nodes[i]!;
        results.push(await coverNode(pdb, n.certname, n.catalog_environment));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, nodes.length) }, worker));
    const plan = fleetCoverage(`PuppetDB ${pdb.url}${values.environment !== undefined ? ` (environment ${values.environment})` : ''}`, results);
    const out = formatCoverage(plan, format);
    if (values.output !== undefined) writeFileSync(values.output, out);
    else process.stdout.write(out);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof PuppetDbError) {
      process.stderr.write(`mgmt puppet coverage: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  } finally {
    pdb.close();
  }
}

/** One node's coverage; a node whose catalog is missing or does not translate is reported, not fatal. */
async function coverNode(pdb: ReturnType<typeof puppetDbClient>, node: string, environment: string | null): Promise<NodeCoverage> {
  let got;
  try {
    got = await nodeCatalogFromPuppetDb(pdb, node);
  } catch (e) {
    if (e instanceof PuppetDbError && e.status === 404) return nodeWithout(node, environment, 'no-catalog', 'PuppetDB holds no catalog for it');
    if (e instanceof CatalogError) return nodeWithout(node, environment, 'failed', e.message);
    throw e;
  }
  try {
    return nodeCoverage(translateCatalog(registry, got.catalog).report, got.info.environment ?? environment);
  } catch (e) {
    if (e instanceof CatalogError) return nodeWithout(node, environment, 'failed', errorText(e));
    throw e;
  }
}
