/**
 * The paths a graph's resources manage: every kind's `manages` hints (what autoedges are built from), taken
 * whether or not the graph turns autoedges off, without the trailing `/` of directories. A purging directory
 * leaves these alone (src/resources/file/purge.ts).
 */
import type { GraphSpec } from '../graph/spec.js';
import type { Registry } from '../resources/registry.js';

export function managedPaths(registry: Registry, spec: GraphSpec | undefined): ReadonlySet<string> {
  const out = new Set<string>();
  if (!spec) return out;
  for (const r of spec.resources) {
    for (const m of r.members ?? [r]) {
      for (const p of registry.get(m.kind)?.autoEdges?.(m.name, m.params).manages ?? []) {
        out.add(p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
      }
    }
  }
  return out;
}
