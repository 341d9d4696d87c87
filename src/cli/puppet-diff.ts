/**
 * `mgmt puppet diff`: what a Puppet change does to each node, before it merges. A drop-in for octocatalog-diff
 * (same flag names where the meaning is the same, the same JSON entries, the same exit codes 0/2/1) that also
 * compares the translated graphs (ordering and refresh edges, new cycles) and the translation status.
 *
 * Sides: two catalog files (`--from-catalog`/`--to-catalog`), two manifests (`--from-manifest`/`--to-manifest`),
 * or two git refs of a control repository (`-f`/`-t`, `--basedir`), each checked out once into a temporary
 * directory and compiled for every node (`-n`) by a pool of long-lived Puppet workers, one code base each; or
 * `--from-puppetdb`: the catalog each node runs now, from PuppetDB, against the "to" side's compile.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { errnoCode, errorText } from '../observe/errors.js';
import { type Catalog, CatalogError } from '../puppet/catalog.js';
import { bootstrap, CheckoutError, type PendingCheckout, reserveCheckout } from '../puppet/diff/checkout.js';
import { type CodeBase, CompilePool, type CompileOutcome } from '../puppet/diff/compile-pool.js';
import { applyOverrides, type Facts, factsFileIn, FactsError, parseFactOverride, readFactsFile } from '../puppet/diff/facts.js';
import { FilterError, parseFilters } from '../puppet/diff/filters.js';
import { IgnoreRuleError, parseIgnore, parseIgnoreAttr, splitRules } from '../puppet/diff/ignore.js';
import type { NodeDiffOptions } from '../puppet/diff/node-diff.js';
import { exitCode, type NodeDiff } from '../puppet/diff/result.js';
import type { RunningCatalog, RunningSource } from '../puppet/diff/running-catalogs.js';
import { UsageError } from './usage.js';

export const puppetDiffHelp = `usage: mgmt puppet diff [sides] [-n NODE ...] [flags]

Shows what a Puppet change does to each node: resources added (+), removed (-) and changed (~), as
octocatalog-diff does (same flags, same JSON entries, same exit codes), and on top the translated graph's
ordering and refresh edges, new dependency cycles, and translation status changes.

sides (one pair):
  -f, --from REF              git ref of the old code (default origin/master)
  -t, --to REF                git ref of the new code (default ., the working directory as it is)
  --basedir DIR               the control repository (default: the current directory)
  --from-catalog FILE         a compiled catalog (Puppet JSON, the face's document, PuppetDB's wire
  --to-catalog FILE           format), or PuppetDB's catalogs of many nodes (a puppet db export archive,
                              a PQL catalogs answer): -n picks the nodes
  --from-graph FILE           an mgmt graph document (YAML, as mgmt run reads): vertices, their
  --to-graph FILE             parameters and edges compared, no Puppet involved
  --from-manifest FILE        a manifest (or directory) compiled with --modulepath
  --to-manifest FILE
  --from-puppetdb             "from" is the catalog each node runs now: its latest in PuppetDB (its facts
                              too, unless --fact-file/--facts-dir), against -t REF or --to-manifest; file
                              sources compare as puppet:/// URIs (PuppetDB holds no file text)
  --puppetdb-url URL          PuppetDB (https://HOST:8081, or http on loopback)
  --puppetdb-ssl-ca FILE      with https: the CA of PuppetDB's certificate, and our client certificate
  --puppetdb-ssl-client-cert FILE   and key (PEM), as octocatalog-diff takes them; or, from an agent:
  --puppetdb-ssl-client-key FILE
  --ssldir DIR                the agent's ssldir (its ca.pem, certificate and key)
  --certname NAME             the certificate in --ssldir (default: the only one there)

nodes and compiling:
  -n, --hostname NODE         a node to compile for (repeat, or a comma-separated list)
  --fact-file FILE            facts for every node (YAML or JSON; octocatalog-diff's fact files work)
  --facts-dir DIR             facts per node: DIR/<node>.yaml or .json
  --fact-override KEY=VALUE   typed override: (string) (integer) (float) (boolean) (json) (nil); /regex/ keys
  --hiera-config FILE         Hiera 5 configuration (relative to the checkout, or absolute)
  --environment NAME          the environment the checkout serves as (default production)
  --modulepath DIRS           module directories (relative ones are inside each checkout; default: the
                              checkout's modules/, site/ when present); Debian's are appended
  --bootstrap-script FILE     run in each checkout before compiling (r10k, a Puppetfile...)
  --parallel N                Puppet workers (default: the number of cores)
  --puppet-binary BIN         the Puppet executable (default: puppet)

what is compared:
  --ignore RULE               Type[title-glob], with +, -, ::attr::path, =>v, =+>v, =->v, =~>re, =&>re, =s>=
  --ignore-attr PATH          an attribute anywhere (::parameters::x from the top)
  --include-tags              compare tags too
  --ignore-tags TAG           leave out resources tagged TAG (octocatalog-diff's ignored_octocatalog_diff)
  --filters LIST              AbsentFile, JSON, YAML, SingleItemArray, EquivalentArrayNoDatatypes
  --no-suppress-absent-file-details   show every change of a file that becomes absent
  --no-compare-file-text      compare puppet:/// sources as URIs, not as the files' text
  --no-graph                  skip the translated graph and the translation status
  --fail-on regression        a translation regression (native -> degraded -> fallback) is an error

output:
  --output-format FMT         text (default), json (octocatalog-diff's document plus our keys), markdown
                              (a pull-request comment: summary table, identical diffs grouped)
  -o, --output-file FILE      write there (no colour)
  --color, --no-color         colour (default: on a terminal, unless NO_COLOR is set)
  --display-detail-add        every parameter of added resources
  --display-source            the manifest file:line of each resource
  --header TEXT, --no-header  (JSON) the header string

Exit status: 0 no differences, 2 differences, 1 error (a node failed to compile, a new dependency cycle, a
regression with --fail-on regression, a bad flag); the other nodes are still reported.`;

const options = {
  from: { type: 'string', short: 'f' },
  to: { type: 'string', short: 't' },
  basedir: { type: 'string' },
  'from-catalog': { type: 'string' },
  'to-catalog': { type: 'string' },
  'from-manifest': { type: 'string' },
  'to-manifest': { type: 'string' },
  'from-puppetdb': { type: 'boolean' },
  'puppetdb-url': { type: 'string' },
  'puppetdb-ssl-ca': { type: 'string' },
  'puppetdb-ssl-client-cert': { type: 'string' },
  'puppetdb-ssl-client-key': { type: 'string' },
  ssldir: { type: 'string' },
  certname: { type: 'string' },
  'from-graph': { type: 'string' },
  'to-graph': { type: 'string' },
  hostname: { type: 'string', short: 'n', multiple: true },
  'fact-file': { type: 'string' },
  'facts-dir': { type: 'string' },
  'fact-override': { type: 'string', multiple: true },
  'hiera-config': { type: 'string' },
  environment: { type: 'string' },
  modulepath: { type: 'string' },
  'bootstrap-script': { type: 'string' },
  parallel: { type: 'string' },
  'puppet-binary': { type: 'string' },
  ignore: { type: 'string', multiple: true },
  'ignore-attr': { type: 'string', multiple: true },
  'include-tags': { type: 'boolean' },
  'no-include-tags': { type: 'boolean' },
  'ignore-tags': { type: 'string', multiple: true },
  'no-ignore-tags': { type: 'boolean' },
  filters: { type: 'string', multiple: true },
  'suppress-absent-file-details': { type: 'boolean' },
  'no-suppress-absent-file-details': { type: 'boolean' },
  'compare-file-text': { type: 'boolean' },
  'no-compare-file-text': { type: 'boolean' },
  'no-graph': { type: 'boolean' },
  'fail-on': { type: 'string', multiple: true },
  'output-format': { type: 'string' },
  'output-file': { type: 'string', short: 'o' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  'display-detail-add': { type: 'boolean' },
  'display-source': { type: 'boolean' },
  header: { type: 'string' },
  'no-header': { type: 'boolean' },
  debug: { type: 'boolean', short: 'd' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) => parseArgs({ args: argv, options, allowPositionals: false });

/** A bad flag, a bad rule, unreadable facts: exit 1, as octocatalog-diff (2 would read as "differences"). */
const FLAG_ERRORS = [UsageError, IgnoreRuleError, FilterError, FactsError, CheckoutError, CatalogError];
/** The same, from modules only --from-puppetdb loads (HTTPS, certificates): known by name, so they load on use. */
const FLAG_ERROR_NAMES = new Set(['PuppetDbError', 'PuppetSslError']);

/**
 * What only the comparison and the report need: the registry of kinds, the translator, the input readers, the
 * formats. Loading them takes ~0.1 s, so the git-ref path starts its Puppet workers first and loads these while
 * Puppet starts.
 */
async function loadComparison() {
  const [
    { registry },
    { diffNode },
    graphs,
    { readCatalogPairs },
    { withFileText },
    { withCheckoutPaths },
    { formatJson },
    { formatMarkdown },
    { formatText },
  ] = await Promise.all([
    import('./registry.js'),
    import('../puppet/diff/node-diff.js'),
    import('../puppet/diff/graph-input.js'),
    import('../puppet/diff/catalog-input.js'),
    import('../puppet/diff/file-source.js'),
    import('../puppet/diff/checkout-paths.js'),
    import('../puppet/diff/format-json.js'),
    import('../puppet/diff/format-markdown.js'),
    import('../puppet/diff/format-text.js'),
  ]);
  return { registry, diffNode, graphs, readCatalogPairs, withFileText, withCheckoutPaths, formatJson, formatMarkdown, formatText };
}
type Comparison = Awaited<ReturnType<typeof loadComparison>>;

export async function diffCommand(argv: string[]): Promise<number> {
  try {
    return await diff(argv);
  } catch (e) {
    const { GraphInputError } = await import('../puppet/diff/graph-input.js');
    if (
      FLAG_ERRORS.some((c) => e instanceof c) ||
      (e instanceof Error && FLAG_ERROR_NAMES.has(e.name)) ||
      e instanceof GraphInputError ||
      errnoCode(e)?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`mgmt puppet diff: ${errorText(e)}\n`);
      return 1;
    }
    throw e;
  }
}

function nodesOf(v: Values): string[] {
  return [
    ...new Set(
      (v.hostname ?? [])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

function compareOptions(v: Values): NodeDiffOptions {
  const ignores = [
    ...(v.ignore ?? []).flatMap(splitRules).map(parseIgnore),
    ...(v['ignore-attr'] ?? [])
      .flatMap((s) => s.split(','))
      .filter(Boolean)
      .map(parseIgnoreAttr),
  ];
  const failOn = v['fail-on'] ?? [];
  for (const f of failOn) if (f !== 'regression') throw new UsageError(`--fail-on takes "regression"; got ${JSON.stringify(f)}`);
  return {
    ignores,
    includeTags: v['include-tags'] === true && v['no-include-tags'] !== true,
    ignoreTags: v['no-ignore-tags'] ? [] : (v['ignore-tags'] ?? []),
    filters: (v.filters ?? []).flatMap(parseFilters),
    suppressAbsentFileDetails: v['no-suppress-absent-file-details'] !== true,
    graph: v['no-graph'] !== true,
  };
}

/** `--puppetdb-url` and the client certificate: octocatalog-diff's three files, or an agent's ssldir. */
function puppetDbSourceOf(v: Values): RunningSource {
  const url = v['puppetdb-url'] ?? process.env.PUPPETDB_URL;
  if (url === undefined) throw new UsageError('--from-puppetdb needs --puppetdb-url URL (or PUPPETDB_URL in the environment)');
  const files = [v['puppetdb-ssl-ca'], v['puppetdb-ssl-client-cert'], v['puppetdb-ssl-client-key']];
  const given = files.filter((f) => f !== undefined).length;
  if (given > 0 && given < 3) throw new UsageError('give --puppetdb-ssl-ca, --puppetdb-ssl-client-cert and --puppetdb-ssl-client-key together');
  if (given === 3 && v.ssldir !== undefined) throw new UsageError('give either the --puppetdb-ssl-* files or --ssldir, not both');
  return {
    url,
    ...(given === 3 ? { files: { ca: files[0]!, cert: files[1]!, key: files[2]! } } : {}),
    ...(v.ssldir !== undefined ? { ssldir: v.ssldir } : {}),
    ...(v.certname !== undefined ? { certname: v.certname } : {}),
  };
}

/** The node's facts: from the fact files, else `known` (PuppetDB's), then the overrides. */
function factsFor(v: Values, node: string, known?: Facts): Facts {
  let facts: Facts = known ?? {};
  const dir = v['facts-dir'];
  const file = (dir !== undefined ? factsFileIn(dir, node) : undefined) ?? v['fact-file'];
  if (dir !== undefined && file === undefined)
    throw new FactsError(`no facts for ${node}: neither ${join(dir, `${node}.yaml`)} nor .json exists, and no --fact-file`);
  if (file !== undefined) facts = readFactsFile(file);
  // A comma starts another override only where a key= follows (a (json) value has commas of its own).
  const overrides = (v['fact-override'] ?? []).flatMap((s) => s.split(/,(?=\s*[A-Za-z_/][^=,"]*=)/)).filter(Boolean);
  return applyOverrides(facts, overrides.map(parseFactOverride));
}

/**
 * The module path of a checkout: --modulepath (relative entries inside it), else its modules/ and site/ (named
 * before the checkout is filled; Puppet skips the directories that do not exist, at each compile).
 */
function modulepathOf(v: Values, dir: string): string[] {
  const entries = v.modulepath !== undefined ? v.modulepath.split(':').filter(Boolean) : ['modules', 'site'];
  return entries.map((p) => resolve(dir, p));
}

/** The checkout's main manifest: its manifests/ directory (every .pp in it), as an environment's default. */
function mainManifest(dir: string): string | undefined {
  const m = join(dir, 'manifests');
  return existsSync(m) ? m : undefined;
}

async function diff(argv: string[]): Promise<number> {
  const { values: v } = parse(argv);
  if (v.help) {
    process.stdout.write(puppetDiffHelp + '\n');
    return 0;
  }
  const format = v['output-format'] ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'markdown')
    throw new UsageError(`--output-format takes text, json or markdown; got ${JSON.stringify(format)}`);
  const opts = compareOptions(v);
  const fileText = v['no-compare-file-text'] !== true;
  const parallel = v.parallel !== undefined ? Number(v.parallel) : availableParallelism();
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError('--parallel takes a positive number of workers');
  const nodes = nodesOf(v);

  const catalogs = v['from-catalog'] !== undefined || v['to-catalog'] !== undefined;
  const manifests = v['from-manifest'] !== undefined || v['to-manifest'] !== undefined;
  const graphs = v['from-graph'] !== undefined || v['to-graph'] !== undefined;
  if ([catalogs, manifests, graphs].filter(Boolean).length > 1)
    throw new UsageError('give one pair of sides: --from-catalog/--to-catalog, --from-manifest/--to-manifest or --from-graph/--to-graph');
  let results: NodeDiff[];
  let loaded: Promise<Comparison> | undefined;
  const comparison = () => (loaded ??= loadComparison());
  if (v['from-puppetdb'] === true) {
    if (catalogs || graphs || v['from-manifest'] !== undefined || v.from !== undefined)
      throw new UsageError(
        '--from-puppetdb is the "from" side: give it with -t REF or --to-manifest FILE, not with another "from" side or catalog or graph files',
      );
    if (nodes.length === 0) throw new UsageError('name the nodes whose running catalog to compare: -n NODE (repeat it, or a comma-separated list)');
    const { runningCatalogs } = await import('../puppet/diff/running-catalogs.js');
    const running = await runningCatalogs(puppetDbSourceOf(v), nodes);
    // PuppetDB holds no file text: both sides compare puppet:/// sources as URIs.
    results = await compiled(v, nodes, opts, parallel, false, manifests, comparison, running);
  } else if (graphs) {
    if (v['from-graph'] === undefined || v['to-graph'] === undefined) throw new UsageError('give both --from-graph FILE and --to-graph FILE');
    const { registry, graphs: g } = await comparison();
    const [a, b] = await Promise.all([g.readGraphInput(registry, v['from-graph']), g.readGraphInput(registry, v['to-graph'])]);
    results = [g.diffGraphDocuments(a, b, opts, nodes[0])];
  } else if (catalogs) {
    if (v['from-catalog'] === undefined || v['to-catalog'] === undefined) throw new UsageError('give both --from-catalog FILE and --to-catalog FILE');
    const { registry, diffNode, readCatalogPairs } = await comparison();
    const pairs = await readCatalogPairs(v['from-catalog'], v['to-catalog'], nodes);
    results = pairs.map((p) => diffNode(p.node, p.from, p.to, registry, opts));
  } else {
    results = await compiled(v, nodes, opts, parallel, fileText, manifests, comparison);
  }
  const { formatJson, formatMarkdown, formatText } = await comparison();

  const policy = { failOnRegression: (v['fail-on'] ?? []).includes('regression') };
  const toFile = v['output-file'] !== undefined;
  const color = !toFile && (v.color === true || (v['no-color'] !== true && process.stdout.isTTY && process.env.NO_COLOR === undefined));
  const textOptions = { ...policy, color, detailAdd: v['display-detail-add'] === true, source: v['display-source'] === true };
  const text =
    format === 'json'
      ? formatJson(results, policy, v['no-header'] ? undefined : v.header)
      : format === 'markdown'
        ? formatMarkdown(results, textOptions)
        : formatText(results, textOptions);
  if (toFile) writeFileSync(v['output-file']!, text);
  else process.stdout.write(text);
  return exitCode(results, policy);
}

/** `running`: the "from" side is each node's catalog from PuppetDB (in `nodes` order), not a compile. */
async function compiled(
  v: Values,
  nodes: string[],
  opts: NodeDiffOptions,
  parallel: number,
  fileText: boolean,
  manifests: boolean,
  comparison: () => Promise<Comparison>,
  running?: readonly RunningCatalog[],
): Promise<NodeDiff[]> {
  if (nodes.length === 0) throw new UsageError('name the nodes to compile for: -n NODE (repeat it, or a comma-separated list)');
  const runningOf = new Map(running?.map((r, i) => [nodes[i]!, r] as const));
  const facts = new Map(
    nodes.map((n) => {
      const r = runningOf.get(n);
      return [n, factsFor(v, n, r?.ok ? r.facts : undefined)] as const;
    }),
  );
  const sides = running ? (['to'] as const) : (['from', 'to'] as const);
  const puppetBin = v['puppet-binary'];
  const checkouts: PendingCheckout[] = [];
  const bases: CodeBase[] = [];
  const common = {
    ...(v.environment !== undefined ? { environment: v.environment } : {}),
    ...(puppetBin !== undefined ? { puppetBin } : {}),
  };
  try {
    if (manifests) {
      if ((!running && v['from-manifest'] === undefined) || v['to-manifest'] === undefined)
        throw new UsageError('give both --from-manifest FILE and --to-manifest FILE');
      const modulepath = (v.modulepath ?? '')
        .split(':')
        .filter(Boolean)
        .map((p) => resolve(p));
      for (const id of sides) {
        bases.push({
          id,
          manifest: resolve((id === 'from' ? v['from-manifest'] : v['to-manifest'])!),
          modulepath,
          ...(v['hiera-config'] !== undefined ? { hieraConfig: resolve(v['hiera-config']) } : {}),
          ...common,
        });
      }
    } else {
      // The checkouts' directories are named first, so that the workers start (and load Puppet) while git fills them.
      const basedir = resolve(v.basedir ?? '.');
      const refs = sides.map((id) => [id, id === 'from' ? (v.from ?? 'origin/master') : (v.to ?? '.')] as const);
      for (const [, ref] of refs) checkouts.push(await reserveCheckout(basedir, ref));
      const hiera = v['hiera-config'];
      refs.forEach(([id], i) => {
        const dir = checkouts[i]!.dir;
        bases.push({
          id,
          envDir: dir,
          // read at each compile, once the checkout is filled
          get manifest() {
            return mainManifest(dir);
          },
          modulepath: modulepathOf(v, dir),
          ...(hiera !== undefined ? { hieraConfig: resolve(dir, hiera) } : {}),
          ...common,
        });
      });
    }
    const pool = new CompilePool(bases, parallel);
    try {
      await pool.prestart(nodes.length); // Puppet loads while the code is checked out and the comparison loaded
      const cmp = comparison();
      cmp.catch(() => undefined);
      await Promise.all(
        checkouts.map(async (co) => {
          await co.fill();
          if (v['bootstrap-script'] !== undefined && co.ref !== '.') await bootstrap(co, v['bootstrap-script']);
        }),
      );
      const one = async (node: string): Promise<NodeDiff> => {
        const r = runningOf.get(node);
        const [a, b] = await Promise.all([
          r === undefined
            ? pool.compile('from', node, facts.get(node)!)
            : r.ok
              ? ({ ok: true, catalog: r.catalog, ms: 0 } as const)
              : ({ ok: false, message: `its running catalog: ${r.message}` } as const),
          pool.compile('to', node, facts.get(node)!),
        ]);
        const dirs = checkouts.length > 0 ? (['from', 'to'] as const).map((id) => bases.find((base) => base.id === id)?.envDir) : [];
        return nodeResult(await cmp, node, a, b, opts, fileText, dirs);
      };
      return await Promise.all(nodes.map(one));
    } finally {
      await pool.close();
    }
  } finally {
    await Promise.all(checkouts.map((c) => c.remove()));
  }
}

/** One node's diff; `dirs` are the checkouts of each side, whose paths are shown relative to them. */
function nodeResult(
  cmp: Comparison,
  node: string,
  a: CompileOutcome,
  b: CompileOutcome,
  opts: NodeDiffOptions,
  fileText: boolean,
  dirs: readonly (string | undefined)[],
): NodeDiff {
  const [da, db] = dirs;
  if (!a.ok || !b.ok) {
    const failed = [!a.ok ? { ...a, dir: da } : undefined, !b.ok ? { ...b, dir: db } : undefined];
    const first = (failed[0] ?? failed[1])!;
    const side = failed[0] && failed[1] ? 'both' : failed[0] ? 'from' : 'to';
    const rel = (text: string) => (first.dir === undefined ? text : text.replaceAll(first.dir + sep, ''));
    return {
      node,
      entries: [],
      error: { side, message: rel(first.message), ...(first.file ? { file: rel(first.file) } : {}), ...(first.line ? { line: first.line } : {}) },
    };
  }
  const side = (catalog: Catalog, dir: string | undefined) => {
    const withText = fileText ? cmp.withFileText(catalog) : catalog;
    return dir === undefined ? withText : cmp.withCheckoutPaths(withText, dir);
  };
  return cmp.diffNode(node, side(a.catalog, da), side(b.catalog, db), cmp.registry, opts);
}
