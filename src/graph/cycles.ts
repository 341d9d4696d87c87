/** Finds dependency cycles and names each one by its path: `file[a] -> exec[b] -> file[a]`. */
import type { Diagnostic } from './diagnostics.js';
import type { EdgeSpec, Pos } from './spec.js';
import { vertexId } from './spec.js';

export interface Cycle {
  /** Vertex ids along the cycle; the first is repeated at the end. */
  readonly path: string[];
  /** The first edge of the cycle, for its position. */
  readonly edge: EdgeSpec;
}

/** One cycle per strongly connected component that has one (iterative Tarjan: O(V + E), no recursion). */
export function findCycles(vertices: Iterable<string>, edges: readonly EdgeSpec[]): Cycle[] {
  const out = new Map<string, EdgeSpec[]>();
  for (const e of edges) {
    const f = vertexId(e.from);
    let l = out.get(f);
    if (!l) out.set(f, (l = []));
    l.push(e);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  let next = 0;
  for (const root of vertices) {
    if (index.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = out.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = vertexId(succ[top.i++]!.to);
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        }
      } else {
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1]!.v;
          low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
        }
        if (low.get(top.v) === index.get(top.v)) {
          const scc: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            scc.push(w);
          } while (w !== top.v);
          const selfLoop = (out.get(top.v) ?? []).some((e) => vertexId(e.to) === top.v);
          if (scc.length > 1 || selfLoop) sccs.push(scc);
        }
      }
    }
  }
  return sccs.map((scc) => cycleIn(new Set(scc), out));
}

/** A shortest cycle through the component's smallest vertex (BFS inside the component). */
function cycleIn(scc: Set<string>, out: Map<string, EdgeSpec[]>): Cycle {
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, EdgeSpec>();
  const queue = [start];
  for (const v of queue) {
    for (const e of out.get(v) ?? []) {
      const w = vertexId(e.to);
      if (!scc.has(w)) continue;
      if (w === start) {
        const edgesBack: EdgeSpec[] = [e];
        let cur = v;
        while (cur !== start) {
          const pe = prev.get(cur)!;
          edgesBack.push(pe);
          cur = vertexId(pe.from);
        }
        edgesBack.reverse();
        return { path: [start, ...edgesBack.map((x) => vertexId(x.to))], edge: edgesBack[0]! };
      }
      if (!prev.has(w)) {
        prev.set(w, e);
        queue.push(w);
      }
    }
  }
  throw new Error(`internal: no cycle found in component of ${start}`);
}

/**
 * Every cycle as an error placed at its first edge. A cycle that runs through an automatic edge says how to
 * break it; with `onlyThroughAutoEdges`, cycles made of written edges alone are left out (reported already).
 * `posOf` places a cycle whose first edge has no position (an automatic one) at its first vertex.
 */
export function cycleDiagnostics(
  vertices: Iterable<string>,
  edges: readonly EdgeSpec[],
  opts: { onlyThroughAutoEdges?: boolean; posOf?: (vertexId: string) => Pos | undefined } = {},
): Diagnostic[] {
  const cycles = findCycles(vertices, edges);
  if (cycles.length === 0) return [];
  const auto = new Set(edges.filter((e) => e.auto).map((e) => `${vertexId(e.from)}\n${vertexId(e.to)}`));
  const out: Diagnostic[] = [];
  for (const c of cycles) {
    const throughAuto = c.path.slice(1).some((to, i) => auto.has(`${c.path[i]}\n${to}`));
    if (opts.onlyThroughAutoEdges && !throughAuto) continue;
    const hint = throughAuto
      ? ' (includes automatic edges: set meta: {autoedge: false} on one resource, set autoedges: false at the top of the graph, or run with --no-autoedges)'
      : '';
    const pos = c.edge.pos ?? opts.posOf?.(c.path[0]!);
    out.push({ severity: 'error', ...(pos ? { pos } : {}), message: `dependency cycle: ${c.path.join(' -> ')}${hint}` });
  }
  return out;
}
