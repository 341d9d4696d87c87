/**
 * The engine: holds the live graph, swaps in new graphs (unchanged vertices keep running untouched), counts
 * busy vertices for the converger, and shuts down in order.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { findCycles } from '../graph/cycles.js';
import type { Diagnostic } from '../graph/diagnostics.js';
import { type EdgeSpec, type GraphSpec, type ResourceSpec, vertexId } from '../graph/spec.js';
import { logger } from '../observe/log.js';
import { lookupKind } from '../resources/registry.js';
import type { ResourceContext } from '../resources/resource.js';
import { sleep } from '../system/abort.js';
import { autoEdges } from './autoedges.js';
import { Semaphores } from './semaphores.js';
import { Edge, Vertex, type VertexHost } from './vertex.js';

export interface EngineOptions {
  readonly hostname: string;
  /** State directory; each resource gets `<prefix>/state/<kind>/<name>` on demand. */
  readonly prefix: string;
  readonly noop?: boolean;
  /** `--sema N`: at most N check/applies at a time across the whole graph. */
  readonly sema?: number;
  readonly autoEdges?: boolean;
  /** Seconds without change after which `onConverged` fires (undefined: never). */
  readonly convergedTimeout?: number;
  readonly onConverged?: (failed: readonly Vertex[]) => void;
}

export interface SwapResult {
  /** Errors mean the running graph was left untouched. */
  readonly diagnostics: Diagnostic[];
  readonly added: number;
  readonly removed: number;
  readonly kept: number;
  readonly ms: number;
}

export class Engine implements VertexHost {
  readonly noop: boolean;
  readonly semaphores = new Semaphores();
  readonly globalSema: readonly string[];
  private vertices = new Map<string, Vertex>();
  private edges: Edge[] = [];
  private current: GraphSpec | undefined;
  private clock = 0;
  private busyCount = 0;
  private lastActivity = performance.now();
  private convergeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private swapping: Promise<unknown> = Promise.resolve();
  private readonly log = logger('engine');

  constructor(private readonly opts: EngineOptions) {
    this.noop = opts.noop ?? false;
    this.globalSema = opts.sema && opts.sema > 0 ? [`:${opts.sema}`] : [];
  }

  /** The running graph with its automatic edges (for graphviz and tests). */
  graph(): { spec: GraphSpec | undefined; edges: readonly EdgeSpec[] } {
    return {
      spec: this.current,
      edges: this.edges.map((e) => ({ name: e.name, from: e.from.spec, to: e.to.spec, notify: e.notify, auto: e.auto })),
    };
  }

  vertex(id: string): Vertex | undefined {
    return this.vertices.get(id);
  }

  /**
   * Replaces the running graph with `spec`, which must already have passed loading and validation. Adds the
   * automatic edges and checks for cycles first; on any error nothing changes. Swaps are serialized.
   */
  swap(spec: GraphSpec): Promise<SwapResult> {
    const next = this.swapping.then(() => this.doSwap(spec));
    this.swapping = next.catch(() => {});
    return next;
  }

  private async doSwap(spec: GraphSpec): Promise<SwapResult> {
    const t0 = performance.now();
    const edgeSpecs = this.opts.autoEdges === false ? [...spec.edges] : [...spec.edges, ...autoEdges(spec.resources, spec.edges)];
    const ids = spec.resources.map((r) => vertexId(r));
    const cycles = findCycles(ids, edgeSpecs);
    if (cycles.length > 0) {
      const diagnostics: Diagnostic[] = cycles.map((c) => {
        const auto = c.path.length > 1 && edgeSpecs.some((e) => e.auto && c.path.includes(vertexId(e.from)) && c.path.includes(vertexId(e.to)));
        return {
          severity: 'error',
          pos: c.edge.pos,
          message: `dependency cycle: ${c.path.join(' -> ')}${
            auto ? ' (includes automatic edges: set meta: {autoedge: false} on one resource, or run with --no-autoedges)' : ''
          }`,
        };
      });
      return { diagnostics, added: 0, removed: 0, kept: 0, ms: performance.now() - t0 };
    }
    if (this.stopped) return { diagnostics: [], added: 0, removed: 0, kept: 0, ms: 0 };

    const old = this.vertices;
    const next = new Map<string, Vertex>();
    const fresh: Vertex[] = [];
    let kept = 0;
    for (const r of spec.resources) {
      const id = vertexId(r);
      const fp = fingerprint(r);
      const prev = old.get(id);
      if (prev && prev.fingerprint === fp && !(prev.failed && r.meta.rewatch)) {
        next.set(id, prev);
        kept++;
      } else {
        const v = this.createVertex(r, fp);
        next.set(id, v);
        fresh.push(v);
      }
    }
    const gone = [...old.values()].filter((v) => next.get(v.id) !== v);
    await Promise.all(gone.map((v) => v.stop()));

    // Rewire: keep an edge's pending refresh when the same edge survives.
    const oldEdges = new Map(this.edges.map((e) => [edgeKey(e.name, e.from, e.to, e.notify), e]));
    for (const v of next.values()) {
      v.parents = [];
      v.children = [];
    }
    this.edges = edgeSpecs.map((es) => {
      const from = next.get(vertexId(es.from))!;
      const to = next.get(vertexId(es.to))!;
      const e = new Edge(es.name, from, to, es.notify, es.auto === true);
      const prev = oldEdges.get(edgeKey(es.name, from, to, es.notify));
      if (prev) e.refresh = prev.refresh;
      from.children.push(e);
      to.parents.push(e);
      return e;
    });
    this.vertices = next;
    this.current = spec;
    this.lastActivity = performance.now();
    for (const v of fresh) v.start();
    const ms = performance.now() - t0;
    this.log.debug(`graph ${spec.graph}: ${next.size} vertices, ${this.edges.length} edges (${fresh.length} added, ${gone.length} removed, ${kept} kept) in ${ms.toFixed(1)} ms`);
    this.checkConverged();
    return { diagnostics: [], added: fresh.length, removed: gone.length, kept, ms };
  }

  private createVertex(r: ResourceSpec, fp: string): Vertex {
    const kind = lookupKind(r.kind);
    if (!kind) throw new Error(`internal: unknown kind ${r.kind} after validation`);
    const id = vertexId(r);
    const log = logger(id);
    let dir: string | undefined;
    const ctx: ResourceContext = {
      id,
      log,
      hostname: this.opts.hostname,
      varDir: async () => {
        if (!dir) {
          dir = join(this.opts.prefix, 'state', r.kind, encodeURIComponent(r.name));
          await mkdir(dir, { recursive: true, mode: 0o700 });
        }
        return dir;
      },
    };
    return new Vertex(r, fp, kind, kind.create(r.name, r.params, ctx), this, log);
  }

  nextStamp(): number {
    return ++this.clock;
  }

  busy(delta: 1 | -1): void {
    this.busyCount += delta;
    if (this.busyCount === 0) this.checkConverged();
    else if (delta === 1 && this.convergeTimer) {
      clearTimeout(this.convergeTimer);
      this.convergeTimer = undefined;
    }
  }

  activity(): void {
    this.lastActivity = performance.now();
  }

  failedPermanently(v: Vertex): void {
    this.log.debug(`${v.id} failed permanently; its dependents will not run`);
    this.checkConverged();
  }

  /** Vertices that failed permanently. */
  failures(): Vertex[] {
    return [...this.vertices.values()].filter((v) => v.failed);
  }

  private checkConverged(): void {
    const timeout = this.opts.convergedTimeout;
    if (timeout === undefined || this.stopped || this.busyCount > 0) return;
    if (!this.settled()) return;
    clearTimeout(this.convergeTimer);
    const wait = Math.max(0, timeout * 1000 - (performance.now() - this.lastActivity));
    this.convergeTimer = setTimeout(() => {
      this.convergeTimer = undefined;
      if (this.busyCount > 0 || this.stopped || !this.settled()) return;
      if (performance.now() - this.lastActivity < timeout * 1000 - 1) return this.checkConverged();
      this.opts.onConverged?.(this.failures());
    }, wait);
  }

  /** Every vertex has reached a good state, failed, or waits behind a failed ancestor. */
  private settled(): boolean {
    const blocked = new Map<Vertex, boolean>();
    const isBlocked = (v: Vertex): boolean => {
      const known = blocked.get(v);
      if (known !== undefined) return known;
      blocked.set(v, false);
      const b = v.parents.some((e) => e.from.failed || isBlocked(e.from));
      blocked.set(v, b);
      return b;
    };
    for (const v of this.vertices.values()) {
      if (v.failed || v.convergedSince !== undefined) continue;
      if (!isBlocked(v)) return false;
    }
    return true;
  }

  /**
   * Stops every vertex: watches end, running check/applies may finish within `graceMs`, after which they are
   * cancelled (their processes killed).
   */
  async shutdown(graceMs = 900): Promise<void> {
    this.stopped = true;
    clearTimeout(this.convergeTimer);
    await this.swapping;
    const all = [...this.vertices.values()];
    const done = Promise.all(all.map((v) => v.stop()));
    const finished = await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
    if (!finished) {
      this.log.warn('cancelling check/applies still running after the grace period');
      for (const v of all) v.cancel();
      await Promise.race([done, sleep(500)]);
    }
  }

  /** Cancels everything at once (second signal). */
  abort(): void {
    this.stopped = true;
    for (const v of this.vertices.values()) v.cancel();
  }
}

function edgeKey(name: string, from: Vertex, to: Vertex, notify: boolean): string {
  return `${name}\n${from.id}\n${to.id}\n${notify}`;
}

/** Kind, name, parameters and metaparams, canonically serialized: equal fingerprints keep a vertex running. */
export function fingerprint(r: ResourceSpec): string {
  return JSON.stringify([r.kind, r.name, canonical(r.params), canonical(r.meta)]);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = canonical((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}
