/**
 * One node's diff from its two catalogs: the Puppet-level entries (compare.ts), and on top the translated graphs
 * (graph-diff.ts) and the translation status changes (translation-diff.ts). A catalog that cannot be translated
 * (two resources becoming one vertex) still gets its Puppet-level diff; the translation failure is reported.
 */
import type { Registry } from '../../resources/registry.js';
import { type Catalog, CatalogError } from '../catalog.js';
import { translateCatalog } from '../translate.js';
import { compareCatalogs, type CompareOptions } from './compare.js';
import { diffGraphs, type Side } from './graph-diff.js';
import type { NodeDiff } from './result.js';
import { diffTranslation } from './translation-diff.js';

export interface NodeDiffOptions extends CompareOptions {
  /** Translate both sides and compare the graphs (default true). */
  readonly graph?: boolean;
}

function translated(registry: Registry, catalog: Catalog): Side | string {
  try {
    const { spec, report } = translateCatalog(registry, catalog);
    return { catalog, spec, report };
  } catch (e) {
    if (e instanceof CatalogError) return e.message;
    throw e;
  }
}

export function diffNode(node: string, from: Catalog, to: Catalog, registry: Registry, opts: NodeDiffOptions = {}): NodeDiff {
  const entries = compareCatalogs(from, to, opts);
  if (opts.graph === false) return { node, entries };
  const a = translated(registry, from);
  const b = translated(registry, to);
  // A side that does not translate has no graph to compare: the Puppet-level diff stands, with the reason.
  if (typeof b === 'string') return { node, entries, graphError: `the new catalog does not translate: ${b}` };
  if (typeof a === 'string') return { node, entries, graphError: `the old catalog does not translate: ${a}` };
  return { node, entries, graph: diffGraphs(a, b), translation: diffTranslation(a.report, b.report) };
}
