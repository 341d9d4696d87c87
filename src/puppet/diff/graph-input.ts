/**
 * Two mgmt graph documents (`--from-graph`/`--to-graph`: the YAML `mgmt run` reads, or `mgmt puppet translate`
 * writes) compared at the graph level, with no Puppet involved:
 * - each vertex `kind[name]` as a resource: added, removed, or its parameters changed, the metaparams under
 *   `meta`, with the document's file:line. These are the same entries as a catalog diff's (type = the kind,
 *   title = the name; exported `@@` resources as type `@@kind`), so `--ignore`, `--filters`, the text, JSON and
 *   Markdown reports work as they do for catalogs; parameters named by the `sensitive` metaparam are compared
 *   but shown redacted;
 * - the graph section: vertices added or removed, edges added, removed or turned into (or out of) refreshes, and
 *   new dependency cycles.
 * A document with errors is an error naming each one at file:line:col: a diff of a graph that cannot run would
 * not say what running it does. Dependency cycles are the exception: a cycle the new document adds is the diff's
 * to report (a failure naming the cycle, as for catalogs).
 */
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../../graph/diagnostics.js';
import { readGraphText } from '../../graph/read.js';
import type { GraphSpec, ResourceSpec } from '../../graph/spec.js';
import { validateGraph } from '../../graph/validate.js';
import { loadYamlGraph } from '../../graph/yaml-loader.js';
import type { Registry } from '../../resources/registry.js';
import type { Catalog, CatalogResource } from '../catalog.js';
import { compareCatalogs, type CompareOptions } from './compare.js';
import { diffGraphSpecs } from './graph-diff.js';
import type { NodeDiff } from './result.js';

export class GraphInputError extends Error {}

/** How graph/cycles.ts words a cycle's diagnostic: left to the diff, which reports the new ones. */
const CYCLE = 'dependency cycle: ';

/** How many of a document's errors the message lists. */
const SHOWN_ERRORS = 20;

/** Reads (as `mgmt run` does: bounded, strict UTF-8) and validates a graph document. */
export async function readGraphInput(registry: Registry, path: string): Promise<GraphSpec> {
  const text = await readGraphText(path);
  if (typeof text !== 'string') throw new GraphInputError(text.diagnostics.map(formatDiagnostic).join('\n')); // unreadable, too big, not UTF-8
  const loaded = loadYamlGraph(registry, text, path);
  const diagnostics = [...loaded.diagnostics, ...(loaded.spec ? validateGraph(registry, loaded.spec, loaded.invalid) : [])].filter(
    (d) => !d.message.startsWith(CYCLE),
  );
  if (!loaded.spec || hasErrors(diagnostics)) {
    const errors = sortDiagnostics(diagnostics).filter((d) => d.severity === 'error');
    const more = errors.length > SHOWN_ERRORS ? `\n(and ${errors.length - SHOWN_ERRORS} more)` : '';
    throw new GraphInputError(
      `${path} is not a graph mgmt can run; fix it first (mgmt validate ${path}):\n${errors.slice(0, SHOWN_ERRORS).map(formatDiagnostic).join('\n')}${more}`,
    );
  }
  return loaded.spec;
}

/** The top-level parameters a `sensitive` metaparam names (`content`, or `parameters.content` inside a map: its top). */
function sensitiveParams(r: ResourceSpec): string[] {
  return (r.meta.sensitive ?? []).map((p) => p.split('.')[0]!);
}

function asResource(r: ResourceSpec, exported: boolean): CatalogResource {
  const meta = Object.keys(r.meta).length > 0 ? { meta: r.meta } : {};
  return {
    type: exported ? `@@${r.kind}` : r.kind,
    title: r.name,
    ...(r.pos ? { file: r.pos.file, line: r.pos.line } : {}),
    tags: [],
    exported,
    virtual: false,
    parameters: { ...r.params, ...meta },
    sensitive: sensitiveParams(r),
  };
}

/** A graph document's vertices in the catalog model, so that the catalog comparison (and its rules) applies. */
function asCatalog(spec: GraphSpec): Catalog {
  return {
    node: spec.graph,
    resources: [...spec.resources.map((r) => asResource(r, false)), ...spec.exports.map((r) => asResource(r, true))],
    edges: [],
    collectors: [],
    source: spec.source ?? spec.graph,
  };
}

export interface GraphDiffOptions extends CompareOptions {
  /** Compare vertices and edges too (default true). */
  readonly graph?: boolean;
}

/** Two graph documents compared; the node is named by `node`, else by the new document's `graph:`. */
export function diffGraphDocuments(from: GraphSpec, to: GraphSpec, opts: GraphDiffOptions = {}, node?: string): NodeDiff {
  const entries = compareCatalogs(asCatalog(from), asCatalog(to), opts);
  return { node: node ?? to.graph, entries, ...(opts.graph === false ? {} : { graph: diffGraphSpecs(from, to) }) };
}
