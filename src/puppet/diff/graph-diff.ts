/**
 * The translated graphs compared: vertices added or removed, edges added, removed or changed (an ordering edge
 * that became a refresh edge, or the reverse), each edge named by its Puppet resources and where it comes from
 * (a relationship written in the manifest or containment, or one of Puppet's automatic relationships), and the
 * dependency cycles the new graph has that the old one did not. This is what a catalog diff cannot show: the
 * order the engine will apply things in, and what refreshes what. Two translated catalogs (`diffGraphs`) name
 * vertices and edges by their Puppet resources; two graph documents (`diffGraphSpecs`) by their vertices.
 */
import { findCycles } from '../../graph/cycles.js';
import type { GraphSpec } from '../../graph/spec.js';
import { vertexId } from '../../graph/spec.js';
import { autoRelations } from '../autorelations.js';
import { type Catalog, refOf } from '../catalog.js';
import type { TranslationReport } from '../report.js';
import { typeRules } from '../types/index.js';

export type EdgeOrigin = 'explicit' | 'autorelation';

export interface VertexChange {
  readonly change: '+' | '-';
  /** The vertex, `kind[name]`. */
  readonly vertex: string;
  /** The Puppet resource it translates. */
  readonly ref: string;
}

export interface EdgeChange {
  /** `~`: the edge stayed but now sends refreshes (`notify`) or no longer does. */
  readonly change: '+' | '-' | '~';
  /** Puppet refs of its ends. */
  readonly from: string;
  readonly to: string;
  readonly origin: EdgeOrigin;
  readonly notify: boolean;
  readonly oldNotify?: boolean;
}

export interface GraphDiff {
  readonly vertices: readonly VertexChange[];
  readonly edges: readonly EdgeChange[];
  /** Cycles of the new graph (Puppet refs, the first repeated last) that the old graph did not have. */
  readonly newCycles: readonly (readonly string[])[];
}

/** One side, translated: the graph, its report, and the catalog it came from. */
export interface Side {
  readonly catalog: Catalog;
  readonly spec: GraphSpec;
  readonly report: TranslationReport;
}

interface EdgeInfo {
  readonly from: string;
  readonly to: string;
  readonly notify: boolean;
  readonly origin: EdgeOrigin;
}

/** A graph as compared: how each vertex is named in the report, and its edges by `from -> to` in those names. */
interface GraphView {
  readonly spec: GraphSpec;
  readonly refs: Map<string, string>;
  readonly edges: Map<string, EdgeInfo>;
}

/** The Puppet ref of each vertex id. */
function refsOf(s: Side): Map<string, string> {
  return new Map(s.spec.resources.map((r) => [vertexId(r), r.origin?.ref ?? vertexId(r)]));
}

function edgesOf(s: Side): Map<string, EdgeInfo> {
  const rs = s.catalog.resources;
  const auto = new Set(
    autoRelations(
      s.catalog,
      (t) => typeRules.get(t),
      (r) => !(r.exported && r.virtual),
    ).map((e) => `${refOf(rs[e.from]!)} -> ${refOf(rs[e.to]!)}`),
  );
  const out = new Map<string, EdgeInfo>();
  for (const e of s.spec.edges) {
    const [from, to] = e.name.split(' -> ') as [string, string];
    out.set(e.name, { from, to, notify: e.notify, origin: auto.has(e.name) ? 'autorelation' : 'explicit' });
  }
  return out;
}

function cycles(spec: GraphSpec, refs: Map<string, string>): string[][] {
  const ids = spec.resources.map((r) => vertexId(r));
  return findCycles(ids, spec.edges).map((c) => c.path.map((id) => refs.get(id) ?? id));
}

/** A graph document's edges by their vertices; two edges between the same vertices are one, a refresh if either is. */
function specEdges(spec: GraphSpec): Map<string, EdgeInfo> {
  const out = new Map<string, EdgeInfo>();
  for (const e of spec.edges) {
    const from = vertexId(e.from);
    const to = vertexId(e.to);
    const k = `${from} -> ${to}`;
    out.set(k, { from, to, notify: e.notify || out.get(k)?.notify === true, origin: 'explicit' });
  }
  return out;
}

/** A cycle as a set of members, to tell whether the old graph had the same one. */
const cycleKey = (c: readonly string[]) => [...new Set(c)].sort().join('\f');

/** Two translated catalogs' graphs. */
export function diffGraphs(from: Side, to: Side): GraphDiff {
  return diffViews({ spec: from.spec, refs: refsOf(from), edges: edgesOf(from) }, { spec: to.spec, refs: refsOf(to), edges: edgesOf(to) });
}

/** Two graph documents (what `mgmt run` reads). */
export function diffGraphSpecs(from: GraphSpec, to: GraphSpec): GraphDiff {
  const view = (spec: GraphSpec): GraphView => ({ spec, refs: new Map(spec.resources.map((r) => [vertexId(r), vertexId(r)])), edges: specEdges(spec) });
  return diffViews(view(from), view(to));
}

function diffViews(from: GraphView, to: GraphView): GraphDiff {
  const oldRefs = from.refs;
  const newRefs = to.refs;
  const vertices: VertexChange[] = [];
  for (const [v, ref] of newRefs) if (!oldRefs.has(v)) vertices.push({ change: '+', vertex: v, ref });
  for (const [v, ref] of oldRefs) if (!newRefs.has(v)) vertices.push({ change: '-', vertex: v, ref });
  vertices.sort((a, b) => (a.vertex < b.vertex ? -1 : a.vertex > b.vertex ? 1 : a.change < b.change ? -1 : 1));

  const oldEdges = from.edges;
  const newEdges = to.edges;
  const edges: EdgeChange[] = [];
  for (const [k, e] of newEdges) {
    const o = oldEdges.get(k);
    if (!o) edges.push({ change: '+', ...e });
    else if (o.notify !== e.notify) edges.push({ change: '~', ...e, oldNotify: o.notify });
  }
  for (const [k, e] of oldEdges) if (!newEdges.has(k)) edges.push({ change: '-', ...e });
  edges.sort((a, b) => {
    const x = `${a.from} -> ${a.to}`;
    const y = `${b.from} -> ${b.to}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });

  const had = new Set(cycles(from.spec, oldRefs).map(cycleKey));
  const newCycles = cycles(to.spec, newRefs).filter((c) => !had.has(cycleKey(c)));
  return { vertices, edges, newCycles };
}

export function hasGraphChanges(g: GraphDiff | undefined): boolean {
  return g !== undefined && (g.vertices.length > 0 || g.edges.length > 0 || g.newCycles.length > 0);
}
