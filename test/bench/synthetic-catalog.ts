/** The synthetic catalog of the translation benchmarks (test/bench/puppet.ts, translate-run.ts). */

/** A synthetic catalog in the face's document format (what the Puppet worker returns), 90% files and 10% execs in classes. */
export function syntheticCatalogText(n: number): string {
  const r = (type: string, title: string, parameters: Record<string, unknown> = {}) => ({
    type,
    title,
    file: 'site.pp',
    line: 1,
    tags: [type.toLowerCase()],
    exported: false,
    parameters,
  });
  const resources = [r('Stage', 'main'), r('Class', 'main')];
  const edges = [{ source: 'Stage[main]', target: 'Class[main]' }];
  for (let c = 0; c < n / 10; c++) {
    resources.push(r('Class', `C${c}`, c > 0 ? { require: `Class[C${c - 1}]` } : {}));
    edges.push({ source: 'Stage[main]', target: `Class[C${c}]` });
    for (let i = 0; i < 10; i++) {
      const k = c * 10 + i;
      const x =
        i === 9
          ? r('Exec', `e${k}`, { command: `/bin/echo ${k}`, path: ['/bin'] })
          : r('File', `/srv/bench/f${k}`, { ensure: 'file', content: `${k}\n`, mode: '0644' });
      resources.push(x);
      edges.push({ source: `Class[C${c}]`, target: `${x.type}[${x.title}]` });
    }
  }
  return JSON.stringify({ format: 'mgmtgraph-catalog', version: 1, node: 'bench', resources, edges, collectors: [] });
}
