/**
 * Checks a graph spec that did not come from YAML (a translated Puppet catalog) exactly as a loaded YAML graph
 * is checked: every resource against the JSON Schema, then the semantic checks. Problems point at the
 * resource's origin (its manifest file and line) when it has one.
 */
import type { Registry } from '../resources/registry.js';
import type { Diagnostic } from './diagnostics.js';
import { sortDiagnostics } from './diagnostics.js';
import { validateDocument } from './schema.js';
import { valueMessage } from './schema-messages.js';
import { type GraphSpec, type Pos, type ResourceSpec, vertexId } from './spec.js';
import { placeOf, validateGraph } from './validate.js';

export function checkSpec(registry: Registry, spec: GraphSpec): Diagnostic[] {
  const all = [...spec.resources, ...spec.exports];
  const byKind = new Map<string, ResourceSpec[]>();
  for (const r of all) {
    let l = byKind.get(r.kind);
    if (!l) byKind.set(r.kind, (l = []));
    l.push(r);
  }
  const doc = {
    graph: spec.graph,
    resources: Object.fromEntries(
      [...byKind].map(([kind, list]) => [kind, list.map((r) => ({ name: r.name, ...(Object.keys(r.meta).length ? { meta: r.meta } : {}), ...r.params }))]),
    ),
    edges: spec.edges.map((e) => ({ name: e.name, from: e.from, to: e.to, notify: e.notify })),
  };
  const ds: Diagnostic[] = [];
  /** Resources the schema refused: the semantic checks (and the kinds' own) never see parameters of the wrong type. */
  const refused = new Set<ResourceSpec>();
  for (const err of validateDocument(registry, doc)) {
    const m = /^\/resources\/([^/]+)(?:\/(\d+)(?:\/(.*))?)?$/.exec(err.instancePath);
    const r = m?.[2] !== undefined ? byKind.get(m[1]!)?.[Number(m[2])] : undefined;
    if (r) refused.add(r);
    // not about one resource: an edge (at its position), or the graph itself (at the top of its source)
    const e = /^\/edges\/(\d+)/.exec(err.instancePath);
    const elsewhere = e ? spec.edges[Number(e[1])]?.pos : spec.source ? { file: spec.source, line: 1, col: 1 } : undefined;
    const extra = (err.params as { additionalProperty?: string }).additionalProperty;
    const edge = e ? spec.edges[Number(e[1])] : undefined;
    const subject = m?.[3]
      ? `parameter \`${m[3].replace(/\//g, '.')}\`: `
      : edge
        ? `edge \`${edge.name}\`${err.instancePath.replace(/^\/edges\/\d+/, '').replace(/\//g, ' ')}: `
        : err.instancePath === '/graph'
          ? 'the graph’s name: '
          : '';
    ds.push({
      severity: 'error',
      message: extra !== undefined ? `${subject}unknown ${subject ? 'key' : 'parameter'} \`${extra}\`` : valueMessage(err, subject, ''),
      ...(r ? { where: vertexId(r) } : {}),
      ...(r ? posOf(r) : elsewhere ? { pos: elsewhere } : {}),
    });
  }
  const keep = (r: ResourceSpec) => !refused.has(r);
  const checked: GraphSpec = refused.size ? { ...spec, resources: spec.resources.filter(keep), exports: spec.exports.filter(keep) } : spec;
  const invalid = new Set([...refused].map((r) => vertexId(r)));
  return sortDiagnostics([...ds, ...validateGraph(registry, checked, invalid)]);
}

function posOf(r: ResourceSpec): { pos?: Pos } {
  const pos = placeOf(r);
  return pos ? { pos } : {};
}
