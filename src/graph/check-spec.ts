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
import { validateGraph } from './validate.js';

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
  for (const err of validateDocument(registry, doc)) {
    const m = /^\/resources\/([^/]+)(?:\/(\d+)(?:\/(.*))?)?$/.exec(err.instancePath);
    const r = m?.[2] !== undefined ? byKind.get(m[1]!)?.[Number(m[2])] : undefined;
    const extra = (err.params as { additionalProperty?: string }).additionalProperty;
    const subject = m?.[3] ? `parameter \`${m[3].replace(/\//g, '.')}\`: ` : '';
    ds.push({
      severity: 'error',
      message: extra !== undefined ? `${subject}unknown ${subject ? 'key' : 'parameter'} \`${extra}\`` : valueMessage(err, subject, ''),
      ...(r ? { where: vertexId(r) } : {}),
      ...(r ? posOf(r) : {}),
    });
  }
  const placed: GraphSpec = { ...spec, resources: spec.resources.map(withPos), exports: spec.exports.map(withPos) };
  return sortDiagnostics([...ds, ...validateGraph(registry, placed)]);
}

function posOf(r: ResourceSpec): { pos?: Pos } {
  if (r.pos) return { pos: r.pos };
  return r.origin?.file ? { pos: { file: r.origin.file, line: r.origin.line ?? 0, col: 1 } } : {};
}

function withPos(r: ResourceSpec): ResourceSpec {
  return r.pos || !r.origin?.file ? r : { ...r, ...posOf(r) };
}
