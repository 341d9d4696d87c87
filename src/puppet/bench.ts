/** Quick measure: translation alone of a synthetic N-resource catalog (`node dist/src/puppet/bench.js [N]`). */
import type { Catalog, CatalogResource } from './catalog.js';
import { translateCatalog } from './translate.js';

function catalog(n: number): Catalog {
  const r = (type: string, title: string, parameters: Record<string, unknown> = {}): CatalogResource => ({
    type, title, file: 'site.pp', line: 1, tags: [], exported: false, virtual: false, parameters, sensitive: [],
  });
  const resources = [r('Stage', 'main'), r('Class', 'main')];
  const edges = [{ source: 'Stage[main]', target: 'Class[main]' }];
  for (let c = 0; c < n / 10; c++) {
    resources.push(r('Class', `C${c}`, c > 0 ? { require: `Class[C${c - 1}]` } : {}));
    edges.push({ source: 'Stage[main]', target: `Class[C${c}]` });
    for (let i = 0; i < 10; i++) {
      const k = c * 10 + i;
      const x = i === 9 ? r('Exec', `e${k}`, { command: `/bin/echo ${k}`, path: ['/bin'] }) : r('File', `/tmp/f${k}`, { content: `${k}\n`, mode: '0644' });
      resources.push(x);
      edges.push({ source: `Class[C${c}]`, target: `${x.type}[${x.title}]` });
    }
  }
  return { node: 'bench', resources, edges, collectors: [], source: 'bench' };
}

const n = Number(process.argv[2] ?? 10000);
const cat = catalog(n);
translateCatalog(catalog(1000)); // warm up
const t0 = performance.now();
const { spec } = translateCatalog(cat);
const ms = performance.now() - t0;
process.stdout.write(`translated ${spec.resources.length} resources, ${spec.edges.length} edges in ${ms.toFixed(0)} ms\n`);
