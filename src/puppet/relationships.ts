/**
 * Relationship expansion and containment flattening (reference §5): no sentinel vertices.
 * - leaves(X): the non-container resources X contains, recursively (memoised); a leaf is its own set.
 * - A relationship A → B becomes leaves(A) × leaves(B); notify/subscribe carry a refresh where the target
 *   can take one.
 * - An empty container (an anchor, an empty class) is bridged: its predecessors × its successors, transitively;
 *   a refresh passes through only when every hop carries one (Puppet's whits pass events along refresh edges only).
 * - Stages are containers too, so `Stage[pre] before Stage[main]` orders their leaves.
 * - Puppet's automatic relationships (`automatic`) join the explicit ones, except where one of those already
 *   joins the same two resources (either direction).
 * Edges are deduplicated with their notify flags OR-ed. The work is linear in the size of the output.
 */
import type { AutoEdge } from './autorelations.js';
import { type Catalog, CatalogError, type CatalogResource, refOf } from './catalog.js';

/** The relationship metaparams: on the resource that declares them, `before`/`notify` point forward. */
export const RELATIONSHIP_PARAMS = ['before', 'require', 'notify', 'subscribe'] as const;

export interface FlatEdge {
  /** Indexes into `catalog.resources`, both leaves. */
  readonly from: number;
  readonly to: number;
  readonly notify: boolean;
}

export interface FlattenOptions {
  /** Whether a leaf takes part in the local graph (exported-only resources do not). */
  readonly local: (r: CatalogResource) => boolean;
  /** Whether a leaf's vertex reacts to refreshes (otherwise notify edges stay plain). */
  readonly refreshable: (index: number) => boolean;
  /**
   * A resource without a vertex of its own that stands for these leaves in relationships (a concat fragment for
   * its concat files); an empty list bridges it like an empty container.
   */
  readonly standsFor?: (index: number) => readonly number[] | undefined;
  /**
   * Puppet's automatic relationships (autorelations.ts), in Puppet's order. Each is added unless a relationship
   * (explicit, or an automatic one added before it) already joins the two resources in either direction, as
   * Puppet's relationship graph does before it replaces containers.
   */
  readonly automatic?: readonly AutoEdge[];
}

/** Types that only group or order other resources. */
const CONTAINER_TYPES = new Set(['Class', 'Stage', 'Anchor']);

/** Whether a resource is a container (class, stage, define instance, anchor) rather than a leaf. */
export function isContainer(r: CatalogResource, hasChildren: boolean): boolean {
  return CONTAINER_TYPES.has(r.type) || r.kind === 'defined_type' || r.kind === 'class' || r.kind === 'unknown' || hasChildren;
}

/** Puppet's capitalisation of a reference: type segments capitalised; class titles capitalised per segment. */
export function normalizeRef(ref: string): string {
  const p = parseRef(ref);
  if (!p) return ref;
  const type = capitalizeSegments(p.type);
  const title = type === 'Class' && p.title !== 'main' ? capitalizeSegments(p.title.replace(/^::/, '')) : p.title;
  return `${type}[${title}]`;
}

function capitalizeSegments(s: string): string {
  return s
    .replace(/^::/, '')
    .split('::')
    .map((seg) => (seg ? seg[0]!.toUpperCase() + seg.slice(1) : seg))
    .join('::');
}

export function parseRef(ref: string): { type: string; title: string } | undefined {
  const open = ref.indexOf('[');
  if (open <= 0 || !ref.endsWith(']')) return undefined;
  let title = ref.slice(open + 1, -1);
  if (/^'.*'$|^".*"$/.test(title)) title = title.slice(1, -1);
  return { type: ref.slice(0, open), title };
}

/** A lookup key that ignores the case differences Puppet ignores (type names, class names). */
function refKey(type: string, title: string): string {
  const t = type.replace(/^::/, '').toLowerCase();
  return t === 'class' ? `class[${title.replace(/^::/, '').toLowerCase()}]` : `${t}[${title}]`;
}

/** The references a metaparam value names: a string, or a (nested) list of strings. */
export function refsIn(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(refsIn);
  return [];
}

export interface Flattened {
  readonly edges: FlatEdge[];
  /** Per resource index: whether it is a container or stands for others (no vertex of its own). */
  readonly container: boolean[];
  /** The automatic relationships that were added (those no explicit relationship already covered). */
  readonly automatic: AutoEdge[];
}

interface Hop {
  readonly node: number;
  readonly notify: boolean;
}

export function flattenRelationships(catalog: Catalog, opts: FlattenOptions): Flattened {
  const rs = catalog.resources;
  const n = rs.length;
  const index = new Map<string, number>();
  rs.forEach((r, i) => index.set(refKey(r.type, r.title), i));
  const find = (ref: string): number | undefined => {
    const p = parseRef(ref);
    return p ? index.get(refKey(p.type, p.title)) : undefined;
  };
  const errors: string[] = [];
  // without its manifest, a resource is placed in the catalog it came from
  const at = (r: CatalogResource) => (r.file ? `${r.file}:${r.line ?? '?'}` : r.line !== undefined ? `${catalog.source} (line ${r.line})` : catalog.source);

  // Containment.
  const children: number[][] = Array.from({ length: n }, () => []);
  for (const e of catalog.edges) {
    const s = find(e.source);
    const t = find(e.target);
    if (s === undefined || t === undefined) {
      errors.push(`${catalog.source}: containment edge ${e.source} -> ${e.target} names ${s === undefined ? e.source : e.target}, which is not in the catalog`);
      continue;
    }
    children[s]!.push(t);
  }
  const merged = rs.map((_, i) => opts.standsFor?.(i));
  merged.forEach((m, i) => {
    if (m) children[i]!.push(...m);
  });
  const container = rs.map((r, i) => merged[i] !== undefined || isContainer(r, children[i]!.length > 0));
  const local = rs.map((r) => opts.local(r));

  const leafMemo = new Array<number[] | undefined>(n);
  const leaves = (i: number): number[] => {
    const m = leafMemo[i];
    if (m) return m;
    if (!container[i]) return (leafMemo[i] = local[i] ? [i] : []);
    leafMemo[i] = []; // guards against containment cycles
    const kids = children[i]!;
    let out: number[];
    if (kids.length === 1) out = leaves(kids[0]!);
    else {
      const seen = new Set<number>();
      out = [];
      for (const k of kids)
        for (const l of leaves(k))
          if (!seen.has(l)) {
            seen.add(l);
            out.push(l);
          }
    }
    return (leafMemo[i] = out);
  };

  // Relationships between catalog resources (leaves or containers).
  const outs: Hop[][] = Array.from({ length: n }, () => []);
  const ins: Hop[][] = Array.from({ length: n }, () => []);
  const rels: { from: number; to: number; notify: boolean }[] = [];
  rs.forEach((r, i) => {
    for (const meta of RELATIONSHIP_PARAMS) {
      const v = r.parameters[meta];
      if (v === undefined) continue;
      for (const ref of refsIn(v)) {
        const j = find(ref);
        if (j === undefined) {
          errors.push(`${at(r)}: ${refOf(r)}: \`${meta}\` names ${normalizeRef(ref)}, which is not in the catalog`);
          continue;
        }
        const forward = meta === 'before' || meta === 'notify';
        const notify = meta === 'notify' || meta === 'subscribe';
        const from = forward ? i : j;
        const to = forward ? j : i;
        rels.push({ from, to, notify });
        outs[from]!.push({ node: to, notify });
        ins[to]!.push({ node: from, notify });
      }
    }
  });
  if (errors.length) throw new CatalogError(errors.join('\n'));
  const automatic: AutoEdge[] = [];
  if (opts.automatic?.length) {
    const joined = new Set<number>();
    for (const rel of rels) joined.add(rel.from * n + rel.to);
    for (const a of opts.automatic) {
      if (joined.has(a.from * n + a.to) || joined.has(a.to * n + a.from)) continue;
      joined.add(a.from * n + a.to);
      automatic.push(a);
      rels.push(a);
      outs[a.from]!.push({ node: a.to, notify: a.notify });
      ins[a.to]!.push({ node: a.from, notify: a.notify });
    }
  }

  // Effective endpoints: a non-empty node stands for its leaves; an empty one for its neighbours, transitively.
  const ALL: Hop[] = [];
  const through = (memo: (Hop[] | undefined)[], adj: Hop[][]) => {
    const go = (i: number): Hop[] => {
      const m = memo[i];
      if (m) return m;
      const ls = leaves(i);
      if (ls.length > 0) return (memo[i] = ls.map((l) => ({ node: l, notify: true })));
      if (!container[i]) return (memo[i] = ALL); // a non-local leaf (exported only): no bridge
      memo[i] = ALL; // cycle guard
      const acc = new Map<number, boolean>();
      for (const h of adj[i]!) for (const x of go(h.node)) acc.set(x.node, (acc.get(x.node) ?? false) || (h.notify && x.notify));
      return (memo[i] = [...acc].map(([node, notify]) => ({ node, notify })));
    };
    return go;
  };
  const sourcesOf = through(new Array<Hop[] | undefined>(n), ins);
  const targetsOf = through(new Array<Hop[] | undefined>(n), outs);

  const edges: FlatEdge[] = [];
  const seen = new Map<number, number>();
  for (const rel of rels) {
    const ss = sourcesOf(rel.from);
    if (ss.length === 0) continue;
    const ts = targetsOf(rel.to);
    for (const s of ss) {
      for (const t of ts) {
        if (s.node === t.node) continue; // a fragment and its own file
        const notify = rel.notify && s.notify && t.notify && opts.refreshable(t.node);
        const key = s.node * n + t.node;
        const k = seen.get(key);
        if (k === undefined) {
          seen.set(key, edges.length);
          edges.push({ from: s.node, to: t.node, notify });
        } else if (notify && !edges[k]!.notify) edges[k] = { ...edges[k]!, notify: true };
      }
    }
  }
  return { edges, container, automatic };
}

/** Whether the edges between `n` nodes (indexes) have a cycle (iterative depth-first search, linear). */
export function hasCycle(n: number, edges: readonly { readonly from: number; readonly to: number }[]): boolean {
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) out[e.from]!.push(e.to);
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [v, k] = top;
      if (k < out[v]!.length) {
        top[1]++;
        const w = out[v]![k]!;
        if (state[w] === 1) return true;
        if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  return false;
}
