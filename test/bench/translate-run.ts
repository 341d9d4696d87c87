/**
 * The translation benchmark's own process (test/bench/puppet.ts runs it): `node translate-run.js N RUNS` reads and
 * translates a synthetic N-resource catalog RUNS times after one warm-up and prints each run's timings as JSON.
 */
import { readCatalog } from '../../src/puppet/catalog.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { registry } from '../../src/cli/registry.js';
import { syntheticCatalogText } from './synthetic-catalog.js';

const n = Number(process.argv[2]);
const runs = Number(process.argv[3]);
const text = syntheticCatalogText(n);
const once = () => {
  const t0 = performance.now();
  const cat = readCatalog(text, 'bench.json');
  const t1 = performance.now();
  const { spec } = translateCatalog(registry, cat);
  const t2 = performance.now();
  return { read: t1 - t0, translate: t2 - t1, resources: spec.resources.length, edges: spec.edges.length, catalog: cat.resources.length };
};
once(); // warm-up
process.stdout.write(JSON.stringify(Array.from({ length: runs }, once)));
