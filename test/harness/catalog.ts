/** Puppet catalogs built in code for the translator's unit tests. */
import type { ResourceSpec } from '../../src/graph/spec.js';
import type { Catalog, CatalogResource } from '../../src/puppet/catalog.js';
import type { ResourceReport } from '../../src/puppet/report.js';
import { translateCatalog } from '../../src/puppet/translate.js';
import { registry } from '../../src/cli/registry.js';

/** A resource as the face reports it, declared at site.pp:1 unless `extra` says otherwise. */
export function catalogResource(type: string, title: string, parameters: Record<string, unknown> = {}, extra: Partial<CatalogResource> = {}): CatalogResource {
  return { type, title, file: 'site.pp', line: 1, tags: [], exported: false, virtual: false, parameters, sensitive: [], ...extra };
}

export function catalogOf(resources: CatalogResource[], edges: { source: string; target: string }[] = []): Catalog {
  return { node: 'n', resources, edges, collectors: [], source: 'test' };
}

/** Translates a catalog of this one resource: its first vertex and its report line. */
export function translateOne(r: CatalogResource): { spec: ResourceSpec; report: ResourceReport } {
  const t = translateCatalog(registry, catalogOf([r]));
  return { spec: t.spec.resources[0]!, report: t.report.resources[0]! };
}
