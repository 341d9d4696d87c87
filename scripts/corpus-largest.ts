/**
 * The input of the end-to-end benchmark (`mgmt puppet` against `puppet apply`, the `puppet-e2e` row of `npm run
 * bench`): the largest corpus example, by resources of Ruby types in its catalog, when the corpus cache is here;
 * else the largest example of the fixtures of our own (fixtures/puppet/equivalence/*.pp, made to be run by both
 * tools), chosen the same way by compiling each. `npm run corpus` records the largest corpus example that
 * validates in fixtures/corpus/largest-example.json (with its module's commit), so the bench need not compile the
 * whole corpus to find it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogFromData } from '../src/puppet/catalog.js';
import { STORECONFIGS } from '../src/puppet/runtime/face-runner.js';
import { configurePuppet, getPuppetWorker, shutdownPuppetWorker } from '../src/puppet/runtime/worker.js';
import { missingModules, modulesDir, readModuleList } from './corpus-modules.js';
import { rubyTypeResources } from './corpus-report.js';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
export const CORPUS_LIST = join(REPO, 'fixtures', 'corpus', 'modules.json');
export const CORPUS_FACTS = join(REPO, 'fixtures', 'corpus', 'facts-debian12.yaml');
export const CORPUS_NODE = 'corpus.example.test';
export const LARGEST_FILE = join(REPO, 'fixtures', 'corpus', 'largest-example.json');
/** The fixtures of our own the bench falls back to, and the modules they use. */
export const OWN_EXAMPLES = join(REPO, 'fixtures', 'puppet', 'equivalence');

export interface LargestExample {
  readonly '//'?: string;
  /** Under the cache's modules directory: `apache/examples/vhost_proxypass.pp`. */
  readonly example: string;
  readonly module: string;
  readonly commit: string;
  readonly resources: number;
}

/** What the benchmark runs: a manifest, its modulepath, and how to name it in the row. */
export interface BenchInput {
  readonly manifest: string;
  readonly modulepath: string;
  readonly resources: number;
  /** `corpus: apache/examples/vhost_proxypass.pp (158 resources, apache at 1a2b3c4)` */
  readonly label: string;
}

export function writeLargest(record: Omit<LargestExample, '//'>): void {
  const doc: LargestExample = {
    '//': 'Written by npm run corpus: the largest corpus example whose graph validates (resources of Ruby types in its catalog), which the puppet-e2e row of npm run bench times when the corpus cache is present.',
    ...record,
  };
  writeFileSync(LARGEST_FILE, JSON.stringify(doc, null, 2) + '\n');
}

/** The recorded largest corpus example, when the cache holds the corpus at the listed commits; else why not. */
export function corpusInput(cache: string): BenchInput | string {
  if (!existsSync(LARGEST_FILE)) return `${LARGEST_FILE} is missing (npm run corpus writes it)`;
  const largest = JSON.parse(readFileSync(LARGEST_FILE, 'utf8')) as LargestExample;
  const list = readModuleList(CORPUS_LIST);
  const missing = missingModules(cache, list);
  if (missing.length) return `no corpus cache at ${cache} (${missing.length} of ${list.modules.length} modules missing)`;
  const manifest = join(modulesDir(cache), largest.example);
  if (!existsSync(manifest)) return `${manifest} is not in the cache`;
  return {
    manifest,
    modulepath: modulesDir(cache),
    resources: largest.resources,
    label: `corpus: ${largest.example} (${largest.resources} resources, ${largest.module} at ${largest.commit.slice(0, 7)})`,
  };
}

/**
 * The largest of our own examples: each fixtures/puppet/equivalence/*.pp with `@ROOT@` set to a directory under
 * `dir`, compiled by one Puppet worker with the corpus's facts; the one with the most resources of Ruby types.
 */
export async function ownInput(dir: string): Promise<BenchInput> {
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  const state = join(dir, 'state');
  mkdirSync(join(state, 'empty-confdir'), { recursive: true });
  const modulepath = join(OWN_EXAMPLES, 'modules');
  configurePuppet({
    stateDir: state,
    settings: { confdir: join(state, 'empty-confdir'), modulepath: [modulepath], certname: CORPUS_NODE },
    args: STORECONFIGS,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const worker = getPuppetWorker();
  worker.acquire();
  let best: { name: string; manifest: string; resources: number } | undefined;
  try {
    for (const name of readdirSync(OWN_EXAMPLES)
      .filter((f) => f.endsWith('.pp'))
      .sort()) {
      const manifest = join(dir, name);
      writeFileSync(manifest, readFileSync(join(OWN_EXAMPLES, name), 'utf8').replaceAll('@ROOT@', root));
      const reply = await worker.request('compile', { manifest, facts_file: CORPUS_FACTS, node: CORPUS_NODE });
      if (reply.error) throw new Error(`fixtures/puppet/equivalence/${name} does not compile: ${reply.error.message}`);
      const resources = rubyTypeResources(catalogFromData(reply.catalog, name)).length;
      if (!best || resources > best.resources) best = { name, manifest, resources };
    }
  } finally {
    await worker.release();
    await shutdownPuppetWorker();
  }
  if (!best) throw new Error(`no example in ${OWN_EXAMPLES}`);
  return {
    manifest: best.manifest,
    modulepath,
    resources: best.resources,
    label: `fixtures: fixtures/puppet/equivalence/${best.name} (${best.resources} resources)`,
  };
}
