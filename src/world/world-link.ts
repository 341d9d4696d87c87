/**
 * Joins a running graph to the world: after each accepted local graph, this host's exports are published; when
 * the exports of the kinds the graph collects change, the graph is rebuilt as local + collected resources and
 * swapped in (unchanged vertices keep running): at once, or at most once per WINDOW_MS (swap-window.ts). Every
 * swap, local or collected, goes through one queue, so the graph always combines the newest local graph with the
 * newest collection.
 *
 * The world opens in the background (with `--cluster` or `--etcd-server`, once a member answers): the local graph never waits
 * for it. A collected resource that leaves the collection leaves the graph; what it managed stays as it is
 * (a collected file is not deleted).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SwapResult } from '../engine/engine.js';
import { diagnosticLogText, hasErrors } from '../graph/diagnostics.js';
import { type GraphSpec, type ResourceSpec, sameValue, vertexId } from '../graph/spec.js';
import { logger } from '../observe/log.js';
import type { Registry } from '../resources/registry.js';
import { checkCollect, collectResources } from './collect.js';
import { LocalWorld } from './local-world.js';
import { SwapWindow } from './swap-window.js';
import { ThreadedWorld } from './threaded-world.js';
import { type ClusterFlags, type Exported, toExported, type World, type WorldFlags } from './world.js';
import { errorText } from '../observe/errors.js';

const WINDOW_MS = 25;
/** How long convergence waits for etcd's first collection (then it goes on without it). */
const FIRST_COLLECTION_MS = 10_000;

/** What the link needs of `mgmt run`'s flags. */
export interface WorldLinkFlags {
  readonly hostname: string;
  readonly noop: boolean;
  /** The state directory (a member this host runs keeps its data under it). */
  readonly prefix: string;
  readonly world: WorldFlags;
}

export class WorldLink {
  private readonly log = logger('world');
  private world: World | undefined;
  /** `--cluster` or `--etcd-server`: this host's part in the self-formed cluster (loaded only with those flags). */
  private agent: import('./cluster-agent.js').ClusterAgent | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;
  /** The newest accepted local graph. */
  private local: GraphSpec | undefined;
  private collected: readonly Exported[] = [];
  private watchedKinds = '';
  private unwatch: (() => void) | undefined;
  private published: string | undefined;
  private checkedCollect: string | undefined;
  private readonly window = new SwapWindow(WINDOW_MS, () => this.swapCollected());
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** etcd: the graph collects, and the world has not delivered a collection yet (until the deadline). */
  private firstDeadline: number | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private gotFirst = false;
  /** Collected ids in the running graph → source host. */
  private running = new Map<string, string>();
  private readonly reported = new Set<string>();
  private agentTold = false;

  constructor(
    private readonly registry: Registry,
    private readonly flags: WorldLinkFlags,
    private readonly swap: (spec: GraphSpec) => Promise<SwapResult>,
    /** Whether the running graph is converged now (published in the cluster with `--cluster`). */
    private readonly converged: () => boolean = () => false,
  ) {
    // etcd: start the client's thread (and this host's member) now, while the local graph loads and applies.
    if (flags.world.seeds.length > 0 || flags.world.cluster) void this.open();
  }

  /**
   * Whether a collection is on its way (a swap waiting or running, or etcd's first collection not yet read):
   * convergence waits for it, since the swap that brings it checks convergence again.
   */
  pending(): boolean {
    return this.window.waiting || this.queued > 0 || (this.firstDeadline !== undefined && Date.now() < this.firstDeadline);
  }

  /** Swaps in a new local graph (with the current collection); on success publishes its exports. */
  swapLocal(next: GraphSpec): Promise<SwapResult> {
    return this.enqueue(async () => {
      // The embedded world holds only this graph's exports: collect them in the same swap.
      if (this.isLocal() && next.collect.length > 0) this.collected = this.flags.noop ? [] : next.exports.map((r) => toExported(this.flags.hostname, r));
      const r = await this.swapCombined(next, 'local');
      if (!hasErrors(r.diagnostics)) this.accepted(next);
      return r;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.window.cancel();
    clearTimeout(this.firstTimer);
    this.unwatch?.();
    await this.opening?.catch(() => {});
    await this.world?.close();
    await this.agent?.close();
  }

  /** A second signal: no waiting; an etcd member this host runs gets SIGTERM (by PID) and is left to exit. */
  abort(): void {
    this.closed = true;
    this.agent?.abort();
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    this.queued++;
    const next = this.queue.then(f).finally(() => this.queued--);
    this.queue = next.catch(() => {});
    return next;
  }

  private isLocal(): boolean {
    return this.flags.world.seeds.length === 0 && !this.flags.world.cluster;
  }

  /** Re-swaps the current graph (nothing changes), so that the engine checks convergence again. */
  private kick(): void {
    void this.enqueue(async () => {
      if (this.local && !this.closed) await this.swapCombined(this.local, 'collected');
    });
  }

  /** Swaps local + collected; when the collected part is what breaks it, swaps the local graph alone. */
  private async swapCombined(local: GraphSpec, why: 'local' | 'collected'): Promise<SwapResult> {
    if (local.collect.length === 0 || this.collected.length === 0) {
      const r = await this.swap(local);
      if (!hasErrors(r.diagnostics)) this.noteRunning(new Map());
      return r;
    }
    const c = collectResources(this.registry, local.collect, this.collected, local.resources, this.flags.hostname);
    for (const x of c.rejected) {
      const key = `${x.host}\0${x.kind}\0${x.name}\0${x.reason}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.log.warn(`not collected: ${x.kind}[${x.name}] exported by host ${x.host}: ${x.reason}`);
    }
    const full: GraphSpec = c.resources.length ? { ...local, resources: [...local.resources, ...c.resources] } : local;
    const r = await this.swap(full);
    if (!hasErrors(r.diagnostics)) {
      this.noteRunning(new Map([...c.from].map(([id, e]) => [id, e.host])), c.from);
      return r;
    }
    if (full === local) return r;
    for (const d of r.diagnostics) this.log.error(`with the collected resources: ${diagnosticLogText(d)}`);
    this.log.error(`the ${c.resources.length} collected resource(s) break the graph; running ${why === 'local' ? 'the new' : 'the'} local graph without them`);
    const alone = await this.swap(local);
    if (!hasErrors(alone.diagnostics)) this.noteRunning(new Map());
    return alone;
  }

  /** Logs collected resources that joined or left the running graph. */
  private noteRunning(now: Map<string, string>, from?: ReadonlyMap<string, Exported>): void {
    for (const [id, host] of now) {
      if (this.running.has(id)) continue;
      const e = from?.get(id);
      const at = e?.origin?.file ? ` (${e.origin.file}:${e.origin.line ?? '?'})` : '';
      this.log.info(`collected ${id} from host ${host}${at}`);
    }
    for (const [id, host] of this.running) {
      if (!now.has(id)) this.log.info(`${id}: no longer exported by host ${host}; removed from the graph (what it managed is left as it is)`);
    }
    this.running = now;
  }

  /** After a local graph was accepted: publish its exports and watch what it collects. */
  private accepted(next: GraphSpec): void {
    this.local = next;
    const collectKey = JSON.stringify(next.collect.map((c) => [c.kind, c.pattern, c.query, c.type]));
    if (collectKey !== this.checkedCollect) {
      this.checkedCollect = collectKey;
      const { errors, warnings } = checkCollect(this.registry, next.collect);
      for (const m of errors) this.log.error(m);
      for (const m of warnings) this.log.warn(m);
    }
    if (this.flags.noop) {
      if (next.exports.length > 0 && this.published !== 'noop') this.log.info(`--noop: ${next.exports.length} exported resource(s) not published`);
      this.published = 'noop';
    }
    const exportsKey = this.flags.noop ? 'noop' : JSON.stringify(next.exports.map((r) => [r.kind, r.name, r.params, r.meta]));
    const kinds = [...new Set(next.collect.map((c) => c.kind))].sort().join(',');
    const needWorld =
      (exportsKey !== 'noop' && next.exports.length > 0) ||
      kinds !== '' ||
      this.world !== undefined ||
      this.flags.world.seeds.length > 0 ||
      this.flags.world.cluster !== undefined;
    if (!needWorld) return;
    if (kinds && !this.isLocal() && !this.gotFirst && this.firstDeadline === undefined) {
      this.firstDeadline = Date.now() + FIRST_COLLECTION_MS;
      this.firstTimer = setTimeout(() => {
        if (this.firstDeadline === undefined) return;
        this.firstDeadline = undefined;
        this.log.warn(
          `no collection from etcd within ${FIRST_COLLECTION_MS / 1000} s; convergence goes on without it (collected resources join when etcd answers)`,
        );
        this.kick();
      }, FIRST_COLLECTION_MS);
    }
    void this.open().then(() => {
      const w = this.world;
      if (!w || this.closed) return;
      if (exportsKey !== this.published) {
        this.published = exportsKey;
        if (!this.flags.noop) w.publish(this.publishable(next.exports));
      }
      if (kinds !== this.watchedKinds) {
        this.watchedKinds = kinds;
        this.unwatch?.();
        this.unwatch = kinds ? w.watch(kinds.split(','), (list) => this.onCollected(list)) : undefined;
        if (!kinds && this.collected.length) this.onCollected([]);
      }
    });
  }

  /**
   * etcd stores what it is given in clear, readable by every client of the cluster: a resource with Sensitive
   * values is not exported there (an error says which and why); the embedded local world keeps them in memory.
   */
  private publishable(exports: readonly ResourceSpec[]): readonly ResourceSpec[] {
    if (this.isLocal()) return exports;
    const out: ResourceSpec[] = [];
    for (const r of exports) {
      const sensitive = r.meta.sensitive ?? [];
      if (sensitive.length === 0) {
        out.push(r);
        continue;
      }
      const at = r.pos ? `${r.pos.file}:${r.pos.line}: ` : r.origin?.file ? `${r.origin.file}:${r.origin.line ?? '?'}: ` : '';
      const key = `sensitive\0${vertexId(r)}\0${sensitive.join(',')}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.log.error(
        `${at}@@${vertexId(r)} is not exported: its sensitive parameters (${sensitive.join(', ')}) would be stored in clear in etcd, where every host of the cluster can read them; export it without Sensitive values (or let each host read the secret locally)`,
      );
    }
    return out;
  }

  private onCollected(list: readonly Exported[]): void {
    const first = this.firstDeadline !== undefined;
    this.gotFirst = true;
    this.firstDeadline = undefined;
    clearTimeout(this.firstTimer);
    if (sameExports(list, this.collected)) {
      if (first) this.kick();
      this.agentAfterSwaps();
      return;
    }
    this.collected = list;
    // A swap waiting for the window's end takes the newest collection when it runs.
    this.window.changed();
  }

  private swapCollected(): void {
    void this.enqueue(async () => {
      const local = this.local;
      if (!local || this.closed) return;
      const r = await this.swapCombined(local, 'collected');
      for (const d of r.diagnostics) this.log.error(diagnosticLogText(d));
    });
    this.agentAfterSwaps();
  }

  /** Once, after the first collection is swapped in: the cluster agent may load its own client now. */
  private agentAfterSwaps(): void {
    if (this.agentTold) return;
    this.agentTold = true;
    void this.queue.then(() => this.agent?.worldReady());
  }

  private open(): Promise<void> {
    return (this.opening ??= this.doOpen().catch((e: unknown) => {
      this.log.error(`${errorText(e)}; exported resources are neither published nor collected`);
    }));
  }

  private async doOpen(): Promise<void> {
    const wf = this.flags.world;
    if (wf.seeds.length === 0 && !wf.cluster) {
      this.world = new LocalWorld(this.flags.hostname);
      return;
    }
    const world = new ThreadedWorld(this.flags.hostname, this.log);
    this.world = world;
    if (wf.cluster) return this.openCluster(world, wf.cluster);
    const seeds = wf.seeds;
    world.start({
      seeds,
      ttl: wf.ttl,
      // This host's signing key and the keys pinned for the others (host-keys.ts).
      stateDir: join(this.flags.prefix, 'world'),
      ...(wf.tls ? { tls: wf.tls } : {}),
      ...(wf.auth ? { auth: wf.auth } : {}),
    });
  }

  /**
   * `--cluster` (and `--etcd-server`, its one-host case): the cluster agent starts (and, on the first host,
   * bootstraps) this host's part of the cluster; the world connects once a member answers, and moves to other
   * members when the ones it uses stop answering.
   */
  private async openCluster(world: ThreadedWorld, c: ClusterFlags): Promise<void> {
    const wf = this.flags.world;
    const [{ ClusterAgent }, pki] = await Promise.all([import('./cluster-agent.js'), import('./cluster-pki.js')]);
    const dir = join(this.flags.prefix, 'cluster');
    const urls = [...c.clientUrls, ...c.serverUrls, ...c.advertiseClientUrls, ...c.advertiseServerUrls];
    const tls = c.secretFile
      ? await pki.tlsFromSecret(pki.readSecret(c.secretFile), join(dir, 'tls'), this.flags.hostname, urls)
      : c.oneHost && !wf.tls
        ? await pki.tlsFromSecret(this.ownSecret(pki, dir), join(dir, 'tls'), this.flags.hostname, urls)
        : pki.tlsFromFiles(wf.tls ?? {});
    if (c.oneHost) this.oldServerData();
    if (this.closed) return;
    const agent = await ClusterAgent.start({
      hostname: this.flags.hostname,
      dir,
      seeds: wf.seeds,
      ideal: c.ideal,
      idealGiven: c.idealGiven,
      noServer: c.noServer,
      ...(c.oneHost ? { oneHost: true } : {}),
      urls: { listenClient: c.clientUrls, listenPeer: c.serverUrls, advertiseClient: c.advertiseClientUrls, advertisePeer: c.advertiseServerUrls },
      tls,
      ttl: wf.ttl,
      converged: this.converged,
      log: this.log,
      etcdLog: logger('etcd-member'),
    });
    this.agent = agent;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by close() while this awaited; TypeScript keeps the narrowing from before the await
    if (this.closed) return;
    let started = false;
    agent.watchEndpoints((seeds) => {
      if (this.closed) return;
      if (started) {
        world.setEndpoints(seeds);
        return;
      }
      started = true;
      world.start({ seeds, ttl: wf.ttl, stateDir: join(this.flags.prefix, 'world'), tls: { cacert: tls.cacert, cert: tls.cert, key: tls.key } });
    });
  }

  /** `--etcd-server` without credentials: the secret this host made for its cluster (made now on the first start). */
  private ownSecret(pki: typeof import('./cluster-pki.js'), dir: string): Buffer {
    const file = join(dir, 'secret');
    const { secret, made } = pki.ownSecret(file);
    const how = made ? 'made a new cluster secret in' : 'the cluster secret is in';
    this.log.info(
      `cluster: --etcd-server without --cluster-secret-file: ${how} ${file}; a host joins with a copy of it (--cluster --cluster-secret-file COPY --seeds URL)`,
    );
    return secret;
  }

  /** Data an earlier mgmt left in PREFIX/etcd (before --etcd-server ran through the cluster code): said once, never used. */
  private oldServerData(): void {
    const old = join(this.flags.prefix, 'etcd');
    if (!existsSync(join(old, 'member'))) return;
    this.log.warn(
      `${old} holds the data of the etcd an earlier mgmt --etcd-server ran; --etcd-server now keeps its data in ${join(this.flags.prefix, 'cluster', 'etcd')} and does not use it. It held only exports, which every host publishes again: delete it to free the space (rm -r ${old})`,
    );
  }
}

/** Same exports (host, kind, name, content), in any order. */
function sameExports(a: readonly Exported[], b: readonly Exported[]): boolean {
  if (a.length !== b.length) return false;
  const key = (e: Exported) => `${e.host}\0${vertexId(e)}`;
  const m = new Map(b.map((e) => [key(e), e]));
  return a.every((e) => {
    const o = m.get(key(e));
    return o !== undefined && sameValue(e.params, o.params) && sameValue(e.meta, o.meta) && sameValue(e.origin, o.origin);
  });
}
