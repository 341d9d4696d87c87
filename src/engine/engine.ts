/**
 * The engine: holds the live graph, swaps in new graphs (unchanged vertices keep running untouched), counts
 * busy vertices for the converger, and shuts down in order.
 */
import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cycleDiagnostics } from '../graph/cycles.js';
import type { Diagnostic } from '../graph/diagnostics.js';
import { type EdgeSpec, type GraphSpec, type ResourceSpec, sameResource, sameValue, vertexId } from '../graph/spec.js';
import { logger } from '../observe/log.js';
import type { Registry } from '../resources/registry.js';
import { Redactor, secretsOf } from '../observe/redact.js';
import { normalize } from '../resources/normalize.js';
import type { AutoEdgeHints, Resource, ResourceContext } from '../resources/resource.js';
import { sleep } from '../system/proc/abort.js';
import { Bucket } from '../system/fs/bucket.js';
import { autoEdges, hintsFor } from './autoedges.js';
import { autogroup, groupKey } from './autogroup.js';
import { managedPaths } from './managed-paths.js';
import type { CheckRecord } from './check-record.js';
import { Semaphores } from './semaphores.js';
import { DEFAULT_RETRY, Edge, type RetryPolicy, Vertex, type VertexHost } from './vertex.js';

export interface EngineOptions {
  /** The kinds this engine can run (the graphs it is given were validated against the same registry). */
  readonly registry: Registry;
  readonly hostname: string;
  /** State directory; each resource gets `<prefix>/state/<kind>/<name>` on demand. */
  readonly prefix: string;
  readonly noop?: boolean;
  /** `--sema N`: at most N check/applies at a time across the whole graph. */
  readonly sema?: number;
  readonly autoEdges?: boolean;
  /** Merge groupable resources into one vertex (default true; `--no-autogroup`). */
  readonly autoGroup?: boolean;
  /**
   * Seconds without change after which `onConverged` fires (undefined: never). Retries of failing resources are
   * not changes: a graph whose only work left is retrying failures converges, with those failures.
   */
  readonly convergedTimeout?: number | undefined;
  readonly onConverged?: (failed: readonly Vertex[]) => void;
  /** The backoff of resources without an explicit `retry` (default `DEFAULT_RETRY`: 1 s doubling to 5 min). */
  readonly retryPolicy?: RetryPolicy;
  /**
   * The change record of every check/apply that found its state wrong (changed or, under noop, would change) or
   * failed, Sensitive values redacted (check-record.ts). Unset: no record is built.
   */
  readonly onCheck?: (r: CheckRecord) => void;
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
  readonly retryPolicy: RetryPolicy;
  readonly record: ((r: CheckRecord) => void) | undefined;
  /**
   * Cancels every running check/apply (shutdown after its grace, a second signal): see VertexHost. Every running
   * command listens to it, so its listeners are not limited (Node warns past 10 on one signal).
   */
  private readonly cancelAll = unlimited(new AbortController());
  get cancelSignal(): AbortSignal {
    return this.cancelAll.signal;
  }
  private vertices = new Map<string, Vertex>();
  /** Live edges by `edgeKey`. */
  private edgeByKey = new Map<string, Edge>();
  /** Each live vertex's autoedge hints, computed once when it is created. */
  private readonly hints = new WeakMap<Vertex, AutoEdgeHints | undefined>();
  private current: GraphSpec | undefined;
  /** The paths the running graph manages, computed on first demand after each swap (see managed-paths.ts). */
  private managed: ReadonlySet<string> | undefined;
  /** The vertices that asked for the managed paths (a purging directory): told when a swap changes them. */
  private readonly managedUsers = new Set<Vertex>();
  /** The backup bucket (`<prefix>/bucket`), opened on first use. */
  private backups: Bucket | undefined;
  /** Member `kind[name]` → its group's vertex id, for resources merged by autogroup. */
  private leaderOf: ReadonlyMap<string, string> = new Map();
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
    this.retryPolicy = opts.retryPolicy ?? DEFAULT_RETRY;
    this.record = opts.onCheck;
  }

  /** The running graph with its automatic edges (for graphviz and tests). */
  graph(): { spec: GraphSpec | undefined; edges: readonly EdgeSpec[] } {
    return {
      spec: this.current,
      edges: [...this.edgeByKey.values()].map((e) => ({ name: e.name, from: e.from.spec, to: e.to.spec, notify: e.notify, auto: e.auto })),
    };
  }

  /** The live vertex of `kind[name]` (for a grouped resource: its group's vertex). */
  vertex(id: string): Vertex | undefined {
    return this.vertices.get(this.leaderOf.get(id) ?? id);
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
    const old = this.vertices;
    // Autogroup needs every edge first, so a graph with groupable resources always takes the full path.
    let resources = spec.resources;
    let edgeSpecs: EdgeSpec[] | undefined;
    let leaderOf: ReadonlyMap<string, string> = new Map();
    // Grouping checks cycles on the ungrouped edges (so that a cycle is named by its own resources); merging
    // vertices with no path between them cannot add one, so that check stands for the grouped graph too.
    let cyclesChecked = false;
    if (this.opts.autoGroup !== false && spec.resources.some((r) => groupKey(this.opts.registry, r) !== undefined)) {
      const all =
        this.opts.autoEdges === false || spec.autoedges === false
          ? [...spec.edges]
          : [...spec.edges, ...autoEdges(this.opts.registry, spec.resources, spec.edges)];
      const cycles = cycleDiagnostics(
        spec.resources.map((r) => vertexId(r)),
        all,
      );
      if (cycles.length > 0) return { diagnostics: cycles, added: 0, removed: 0, kept: 0, ms: performance.now() - t0 };
      const g = autogroup(spec.resources, all, (r) => groupKey(this.opts.registry, r));
      resources = g.resources;
      edgeSpecs = g.edges;
      leaderOf = g.leaderOf;
      cyclesChecked = true;
    }
    // Decide which live vertices stay: same kind, name, parameters and metaparams (and group members).
    const ids = resources.map((r) => vertexId(r));
    const keep = new Map<string, Vertex>();
    resources.forEach((r, i) => {
      const prev = old.get(ids[i]!);
      if (prev && !(prev.failed && r.meta.rewatch) && sameResource(prev.spec, r)) keep.set(ids[i]!, prev);
    });
    if (!edgeSpecs && this.leaderOf.size === 0 && this.sameStructure(spec, ids, keep)) return this.replaceVertices(spec, ids, keep, t0);
    // Edges: the explicit ones plus automatic ones (a kept vertex's hints are reused, not recomputed).
    // (a new resource's hints, made once here, are handed on to its vertex)
    const made = new Map<ResourceSpec, AutoEdgeHints | undefined>();
    const hintsOf = (r: ResourceSpec) => {
      const v = keep.get(vertexId(r));
      if (v) return this.hints.get(v);
      const h = hintsFor(this.opts.registry, r);
      made.set(r, h);
      return h;
    };
    edgeSpecs ??=
      this.opts.autoEdges === false || spec.autoedges === false
        ? [...spec.edges]
        : [...spec.edges, ...autoEdges(this.opts.registry, spec.resources, spec.edges, hintsOf)];
    const wanted = new Map<string, EdgeSpec>();
    for (const es of edgeSpecs) {
      const k = edgeKey(es.name, vertexId(es.from), vertexId(es.to), es.notify);
      if (!wanted.has(k)) wanted.set(k, es);
    }
    // A graph whose edges are all edges of the running (acyclic) graph cannot have a cycle.
    let novel = false;
    for (const k of wanted.keys()) {
      if (!this.edgeByKey.has(k)) {
        novel = true;
        break;
      }
    }
    const diagnostics = novel && !cyclesChecked ? cycleDiagnostics(ids, edgeSpecs) : [];
    if (diagnostics.length > 0) return { diagnostics, added: 0, removed: 0, kept: 0, ms: performance.now() - t0 };
    if (this.stopped) return { diagnostics: [], added: 0, removed: 0, kept: 0, ms: 0 };

    const next = new Map<string, Vertex>();
    const fresh: Vertex[] = [];
    resources.forEach((r, i) => {
      const id = ids[i]!;
      let v = keep.get(id);
      if (!v) {
        v = this.createVertex(r, made.has(r) ? made.get(r) : hintsFor(this.opts.registry, r));
        fresh.push(v);
      }
      next.set(id, v);
    });
    const gone = [...old.values()].filter((v) => next.get(v.id) !== v);
    await Promise.all(gone.map((v) => v.stop()));

    // Rewire only what changed: an edge whose endpoints are the same live vertices stays as it is; a replaced
    // edge keeps its pending refresh.
    const edgeByKey = new Map<string, Edge>();
    const added: Edge[] = [];
    for (const [k, es] of wanted) {
      const from = next.get(vertexId(es.from))!;
      const to = next.get(vertexId(es.to))!;
      const prev = this.edgeByKey.get(k);
      if (prev?.from === from && prev.to === to) {
        edgeByKey.set(k, prev);
        continue;
      }
      const e = new Edge(es.name, from, to, es.notify, es.auto === true);
      if (prev) e.refresh = prev.refresh;
      edgeByKey.set(k, e);
      added.push(e);
    }
    const dropped = new Set<Edge>();
    for (const [k, e] of this.edgeByKey) if (edgeByKey.get(k) !== e) dropped.add(e);
    if (dropped.size > 0) {
      const touched = new Set<Vertex>();
      for (const e of dropped) {
        touched.add(e.from);
        touched.add(e.to);
      }
      for (const v of touched) {
        if (next.get(v.id) !== v) continue;
        v.parents = v.parents.filter((e) => !dropped.has(e));
        v.children = v.children.filter((e) => !dropped.has(e));
      }
    }
    for (const e of added) {
      e.from.children.push(e);
      e.to.parents.push(e);
    }
    this.edgeByKey = edgeByKey;
    this.vertices = next;
    this.current = resources === spec.resources ? spec : { ...spec, resources };
    this.managedChanged();
    this.leaderOf = leaderOf;
    for (const v of fresh) {
      const m = v.spec.members;
      if (m) this.log.info(`autogroup: ${v.id} runs ${m.length} ${v.spec.kind} resources together: ${m.map((r) => r.name).join(', ')}`);
    }
    this.lastActivity = performance.now();
    for (const v of fresh) v.start();
    const ms = performance.now() - t0;
    this.log.debug(
      `graph ${spec.graph}: ${next.size} vertices, ${edgeByKey.size} edges (${fresh.length} added, ${gone.length} removed, ${keep.size} kept${
        novel ? '' : '; no new edge, cycle check skipped'
      }) in ${ms.toFixed(1)} ms`,
    );
    this.checkConverged();
    return { diagnostics: [], added: fresh.length, removed: gone.length, kept: keep.size, ms };
  }

  /**
   * The common swap: the same resources (by kind and name) and explicit edges, and every changed resource
   * manages the same paths, so the edges cannot change. Then there is nothing to add up again: no autoedges,
   * no cycle check, and only the changed vertices are rewired.
   */
  private sameStructure(spec: GraphSpec, ids: readonly string[], keep: ReadonlyMap<string, Vertex>): boolean {
    const cur = this.current;
    if (!cur) return false;
    if (spec.resources.length !== this.vertices.size || spec.edges.length !== cur.edges.length || spec.autoedges !== cur.autoedges) return false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (keep.has(id)) continue;
      const prev = this.vertices.get(id);
      if (!prev || !sameValue(this.hints.get(prev), hintsFor(this.opts.registry, spec.resources[i]!))) return false;
    }
    for (let i = 0; i < spec.edges.length; i++) {
      const a = spec.edges[i]!;
      const b = cur.edges[i]!;
      if (a.name !== b.name || a.notify !== b.notify || vertexId(a.from) !== vertexId(b.from) || vertexId(a.to) !== vertexId(b.to)) return false;
    }
    return true;
  }

  /** Replaces the changed vertices of a same-structure swap, moving their edges (and pending refreshes) over. */
  private async replaceVertices(spec: GraphSpec, ids: readonly string[], keep: ReadonlyMap<string, Vertex>, t0: number): Promise<SwapResult> {
    if (this.stopped) return { diagnostics: [], added: 0, removed: 0, kept: 0, ms: 0 };
    const swaps: [Vertex, Vertex][] = [];
    spec.resources.forEach((r, i) => {
      if (keep.has(ids[i]!)) return;
      const old = this.vertices.get(ids[i]!)!;
      // (sameStructure found its hints equal to the old vertex's)
      swaps.push([old, this.createVertex(r, this.hints.get(old))]);
    });
    await Promise.all(swaps.map(([old]) => old.stop()));
    const replacement = new Map(swaps);
    const moved = (v: Vertex) => replacement.get(v) ?? v;
    for (const [old, v] of swaps) {
      this.vertices.set(v.id, v);
      for (const list of [old.parents, old.children]) {
        for (const e of list) {
          const k = edgeKey(e.name, e.from.id, e.to.id, e.notify);
          if (this.edgeByKey.get(k) !== e) continue; // already moved (both ends replaced)
          const ne = new Edge(e.name, moved(e.from), moved(e.to), e.notify, e.auto);
          ne.refresh = e.refresh;
          this.edgeByKey.set(k, ne);
          // A kept endpoint swaps the old edge for the new one in place; a new endpoint starts its lists.
          if (ne.from === e.from) replaceIn(ne.from.children, e, ne);
          else ne.from.children.push(ne);
          if (ne.to === e.to) replaceIn(ne.to.parents, e, ne);
          else ne.to.parents.push(ne);
        }
      }
    }
    this.current = spec;
    this.managedChanged();
    this.lastActivity = performance.now();
    for (const [, v] of swaps) v.start();
    const ms = performance.now() - t0;
    this.log.debug(`graph ${spec.graph}: ${swaps.length} vertices replaced, edges unchanged, in ${ms.toFixed(1)} ms`);
    this.checkConverged();
    return { diagnostics: [], added: swaps.length, removed: swaps.length, kept: keep.size, ms };
  }

  /**
   * After a swap: the managed paths are worked out again when someone uses them; if they changed, each live vertex
   * that uses them gets an event (a purge then removes what the new graph no longer manages).
   */
  private managedChanged(): void {
    const before = this.managed;
    this.managed = undefined;
    for (const v of this.managedUsers) if (this.vertices.get(v.id) !== v) this.managedUsers.delete(v);
    if (!before || this.managedUsers.size === 0) return;
    const now = managedPaths(this.opts.registry, this.current);
    if (now.size === before.size && [...now].every((p) => before.has(p))) {
      this.managed = before; // same set: users keep what they worked out from it
      return;
    }
    this.managed = now;
    for (const v of this.managedUsers) v.event();
  }

  /** `hints`: the resource's autoedge hints (hintsFor), kept for the swaps to come. */
  private createVertex(r: ResourceSpec, hints: AutoEdgeHints | undefined): Vertex {
    const kind = this.opts.registry.get(r.kind);
    if (!kind) throw new Error(`internal: unknown kind ${r.kind} after validation (the graph was checked against another registry)`);
    const id = vertexId(r);
    // Sensitive values never reach the log: every line and every error of this vertex goes through one redactor.
    const members = r.members ?? [r];
    const marked = members.some((m) => (m.meta.sensitive?.length ?? 0) > 0);
    // Normalized first: a sensitive name parameter (an exec's `cmd`) may be unset and default to the name.
    const redactor = marked ? new Redactor(members.flatMap((m) => secretsOf(normalize(kind, m.name, m.params).params, m.meta.sensitive))) : undefined;
    const log = redactor ? redactor.logger(logger(redactor.text(id))) : logger(id);
    let dir: string | undefined;
    const self: { v?: Vertex } = {}; // set below, once the vertex exists
    const sensitive = marked ? new Set(members.flatMap((m) => (m.meta.sensitive ?? []).map((s) => s.split('.')[0]!))) : NOT_SENSITIVE;
    const ctx: ResourceContext = {
      id,
      log,
      sensitive,
      hostname: this.opts.hostname,
      varDir: async () => {
        if (!dir) {
          dir = join(this.opts.prefix, 'state', r.kind, encodeURIComponent(r.name));
          await mkdir(dir, { recursive: true, mode: 0o700 });
        }
        return dir;
      },
      managedPaths: () => {
        if (self.v) this.managedUsers.add(self.v);
        return (this.managed ??= managedPaths(this.opts.registry, this.current));
      },
      bucket: () => (this.backups ??= new Bucket(join(this.opts.prefix, 'bucket'))),
    };
    let created: Resource;
    try {
      created =
        r.members && kind.autogroup
          ? kind.autogroup.create(
              r.members.map((m) => ({ name: m.name, params: m.params })),
              ctx,
            )
          : kind.create(r.name, r.params, ctx);
    } catch (e) {
      throw redactor ? redactor.error(e) : e;
    }
    const resource = redactor?.active ? redactedErrors(created, redactor) : created;
    const v = new Vertex(r, kind, resource, this, log, marked ? { sensitive, redactor } : undefined);
    self.v = v;
    this.hints.set(v, hints);
    return v;
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

  failureChanged(v: Vertex): void {
    this.log.debug(`${v.id} ${v.failedPermanently ? 'failed permanently' : v.failed ? 'is failing' : 'recovered'}`);
    this.checkConverged();
  }

  /** Vertices failing now: given up on (explicit `retry` used up), or being retried until they succeed. */
  failures(): Vertex[] {
    return [...this.vertices.values()].filter((v) => v.failed);
  }

  /** Nothing is running and every vertex is good, failed, or behind a failed ancestor (published by `--cluster`). */
  isSettled(): boolean {
    return !this.stopped && this.busyCount === 0 && this.settled();
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
      if (performance.now() - this.lastActivity < timeout * 1000 - 1) {
        this.checkConverged();
        return;
      }
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
   * cancelled (their processes killed) and given `cancelMs` more to return.
   */
  async shutdown(graceMs = 900, cancelMs = 500): Promise<void> {
    this.stopped = true;
    clearTimeout(this.convergeTimer);
    await this.swapping;
    const all = [...this.vertices.values()];
    const done = Promise.all(all.map((v) => v.stop()));
    const finished = await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
    if (!finished) {
      this.log.warn('cancelling check/applies still running after the grace period');
      this.cancelAll.abort(new Error('cancelled: mgmt is shutting down'));
      await Promise.race([done, sleep(cancelMs)]);
    }
    this.backups?.close();
  }

  /** Cancels everything at once (second signal). */
  abort(): void {
    this.stopped = true;
    this.cancelAll.abort(new Error('cancelled: mgmt is shutting down'));
  }
}

const NOT_SENSITIVE: ReadonlySet<string> = new Set();

function unlimited(ac: AbortController): AbortController {
  setMaxListeners(0, ac.signal);
  return ac;
}

/** The resource with its watch and check/apply errors redacted (the vertex logs them and keeps the last failure). */
function redactedErrors(res: Resource, redactor: Redactor): Resource {
  const cleanup = res.cleanup?.bind(res);
  return {
    async watch(w) {
      try {
        await res.watch(w);
      } catch (e) {
        throw redactor.error(e);
      }
    },
    async checkApply(c) {
      try {
        return await res.checkApply(c);
      } catch (e) {
        throw redactor.error(e);
      }
    },
    ...(cleanup
      ? {
          async cleanup() {
            try {
              await cleanup();
            } catch (e) {
              throw redactor.error(e);
            }
          },
        }
      : {}),
  };
}

function replaceIn(list: Edge[], old: Edge, next: Edge): void {
  const i = list.indexOf(old);
  if (i >= 0) list[i] = next;
}

function edgeKey(name: string, from: string, to: string, notify: boolean): string {
  return `${name}\n${from}\n${to}\n${notify ? 1 : 0}`;
}
