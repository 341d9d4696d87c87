/**
 * Autogroup: resources of a kind that can run together (see `ResourceKind.autogroup`), with equal group keys and
 * metaparams and no path between them, become one vertex named after the first of them, so that for example
 * ten packages are installed in one PackageKit transaction. Edges to and from a member move to its group.
 *
 * Merging two vertices with no path between them cannot create a cycle, and each merge is checked against
 * the graph as it already is after the previous merges. Cost: one breadth-first search per candidate merge,
 * only for groupable resources; a graph without any pays one pass over its resources.
 */
import { type EdgeSpec, type ResourceSpec, sameValue, vertexId } from '../graph/spec.js';
import type { Registry } from '../resources/registry.js';

export interface Grouping {
  /** The resources to run: grouped ones are replaced by their first member carrying `members`. */
  readonly resources: ResourceSpec[];
  /** The edges with their ends moved to the groups (edges inside a group cannot exist). */
  readonly edges: EdgeSpec[];
  /** Member `kind[name]` → the group vertex's `kind[name]`, for every member of a group of two or more. */
  readonly leaderOf: ReadonlyMap<string, string>;
}

/** The group key of a resource, or undefined when it never groups. */
export function groupKey(registry: Registry, r: ResourceSpec): string | undefined {
  if (r.meta.autogroup === false) return undefined;
  const key = registry.get(r.kind)?.autogroup?.key(r.name, r.params);
  return key === undefined ? undefined : `${r.kind}\n${key}`;
}

/** `keyOf` is the grouping rule: the kinds' own (`(r) => groupKey(registry, r)`) or a unit test's. */
export function autogroup(resources: readonly ResourceSpec[], edges: readonly EdgeSpec[], keyOf: (r: ResourceSpec) => string | undefined): Grouping {
  const keys = resources.map(keyOf);
  if (!keys.some((k) => k !== undefined)) return { resources: [...resources], edges: [...edges], leaderOf: new Map() };

  const index = new Map<string, number>();
  resources.forEach((r, i) => index.set(vertexId(r), i));
  const out: number[][] = resources.map(() => []);
  for (const e of edges) {
    const f = index.get(vertexId(e.from));
    const t = index.get(vertexId(e.to));
    if (f !== undefined && t !== undefined) out[f]!.push(t);
  }
  // group[i]: the index of the group leader vertex i belongs to; members[leader]: its members in order.
  const group = resources.map((_, i) => i);
  const members = new Map<number, number[]>();
  const reaches = (fromGroup: number, toGroup: number): boolean => {
    const seen = new Set<number>([fromGroup]);
    const queue = [fromGroup];
    while (queue.length > 0) {
      const g = queue.pop()!;
      for (const v of members.get(g) ?? [g]) {
        for (const t of out[v]!) {
          const tg = group[t]!;
          if (tg === toGroup) return true;
          if (!seen.has(tg)) {
            seen.add(tg);
            queue.push(tg);
          }
        }
      }
    }
    return false;
  };

  const open = new Map<string, number[]>(); // group key → leaders of groups with that key
  resources.forEach((r, i) => {
    const key = keys[i];
    if (key === undefined) return;
    const leaders = open.get(key) ?? [];
    open.set(key, leaders);
    for (const l of leaders) {
      if (!sameValue(resources[l]!.meta, r.meta)) continue;
      if (reaches(l, i) || reaches(i, l)) continue;
      group[i] = l;
      const m = members.get(l) ?? [l];
      m.push(i);
      members.set(l, m);
      return;
    }
    leaders.push(i);
  });

  const leaderOf = new Map<string, string>();
  const grouped: ResourceSpec[] = [];
  resources.forEach((r, i) => {
    if (group[i] !== i) return;
    const m = members.get(i);
    if (!m) {
      grouped.push(r);
      return;
    }
    const lead = vertexId(r);
    for (const j of m) leaderOf.set(vertexId(resources[j]!), lead);
    grouped.push({ ...r, members: m.map((j) => resources[j]!) });
  });
  if (leaderOf.size === 0) return { resources: [...resources], edges: [...edges], leaderOf };
  const moved = (ref: EdgeSpec['from']) => {
    const l = leaderOf.get(vertexId(ref));
    if (l === undefined) return ref;
    const r = resources[index.get(l)!]!;
    return { kind: r.kind, name: r.name };
  };
  const movedEdges = edges.map((e) => (leaderOf.has(vertexId(e.from)) || leaderOf.has(vertexId(e.to)) ? { ...e, from: moved(e.from), to: moved(e.to) } : e));
  return { resources: grouped, edges: movedEdges, leaderOf };
}
