/**
 * One vertex of the live graph and its worker: Watch feeds events; the worker runs CheckApply once every
 * parent has succeeded since this vertex's own last run, caches a good state so that pokes from parents cost
 * nothing, passes refreshes along notify edges, and applies the metaparams (retry, delay, poll, limit/burst,
 * sema, timeout, noop, hidden).
 */
import type { ResourceSpec } from '../graph/spec.js';
import type { Logger } from '../observe/logger.js';
import type { Resource, ResourceKind, WatchContext } from '../resources/resource.js';
import { sleep, untilAborted } from '../system/proc/abort.js';
import { RateLimiter } from './rate-limiter.js';
import type { Semaphores } from './semaphores.js';
import { errorText } from '../observe/errors.js';

/** What a vertex needs from the engine that runs it. */
export interface VertexHost {
  readonly noop: boolean;
  readonly semaphores: Semaphores;
  /** Semaphores every vertex takes (from `--sema N`). */
  readonly globalSema: readonly string[];
  nextStamp(): number;
  /** Called when this vertex starts (+1) or stops (-1) having work pending or running. */
  busy(delta: 1 | -1): void;
  /** A check/apply changed something, or the vertex reached a good state for the first time. */
  activity(): void;
  failedPermanently(v: Vertex): void;
}

/** The reason given when a vertex stops watching (one shared object: an abort without a reason builds a DOMException). */
const STOPPING = new Error('the resource is stopping');

export class Edge {
  /** Set when `from` changed something and `to` has not yet run since. */
  refresh = false;
  constructor(
    readonly name: string,
    readonly from: Vertex,
    readonly to: Vertex,
    readonly notify: boolean,
    readonly auto: boolean,
  ) {}
}

export class Vertex {
  readonly id: string;
  parents: Edge[] = [];
  children: Edge[] = [];
  /** Stamp of the last successful run (0: never). */
  timestamp = 0;
  /** Known good and not dirtied by an event since. */
  cachedOk = false;
  /** When this vertex last reached a good state after a change (undefined: not yet). */
  convergedSince: number | undefined;
  failure: Error | undefined;

  private started = false;
  private stopping = false;
  private eventPending = false;
  private pokePending = false;
  private processing = false;
  private waitingForToken = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private isBusy = false;
  private retriesUsed = 0;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private watchDone: Promise<void> = Promise.resolve();
  private readonly watchAbort = new AbortController();
  private readonly applyAbort = new AbortController();
  private readonly limiter: RateLimiter | undefined;

  constructor(
    readonly spec: ResourceSpec,
    readonly kind: ResourceKind,
    readonly resource: Resource,
    private readonly host: VertexHost,
    readonly log: Logger,
  ) {
    this.id = `${spec.kind}[${spec.name}]`;
    const { limit, burst } = spec.meta;
    this.limiter = limit !== undefined && limit !== Infinity ? new RateLimiter(limit, burst ?? 1) : undefined;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  start(): void {
    this.loopDone = this.loop();
    this.startWatch();
  }

  /** Something this vertex manages may have drifted. */
  event(): void {
    if (this.stopping || this.failure || this.eventPending) return;
    this.eventPending = true;
    this.kick();
  }

  /** A parent finished (or a child wants this vertex to catch up); never marks the vertex dirty. */
  poke(): void {
    if (this.stopping || this.failure || this.pokePending) return;
    this.pokePending = true;
    this.kick();
  }

  /** Stops watching, lets a running check/apply finish, then cleans up. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.watchAbort.abort(STOPPING);
      this.kick();
    }
    await this.loopDone;
    await Promise.race([this.watchDone, sleep(1000)]);
    await this.resource.cleanup?.();
    this.updateBusy();
  }

  /** Cancels a running check/apply (its process is killed); used when a graceful stop takes too long. */
  cancel(): void {
    this.applyAbort.abort(new Error('cancelled: mgmt is shutting down'));
  }

  /**
   * Whether a child whose last run is `since` may run now: this vertex has succeeded after it, or it is known
   * good (it ran successfully, and no event, change or failure has happened since). The second case keeps a
   * child's own drift event from re-running the parent and, through it, poking every sibling: without it one
   * repaired file in a directory of N managed files costs N pokes.
   */
  succeededFor(since: number): boolean {
    if (this.timestamp > since) return true;
    return this.timestamp > 0 && this.cachedOk && !this.eventPending && !this.processing && !this.failure;
  }

  private kick(): void {
    this.updateBusy();
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private updateBusy(): void {
    const want =
      !this.stopping && !this.failure && (this.eventPending || this.pokePending || this.processing || this.waitingForToken || this.retryTimer !== undefined);
    if (want !== this.isBusy) {
      this.isBusy = want;
      this.host.busy(want ? 1 : -1);
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping && !this.failure) {
      if (!this.eventPending && !this.pokePending) {
        this.updateBusy();
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (this.eventPending) {
        const wait = this.limiter?.take() ?? 0;
        if (wait > 0) {
          this.waitingForToken = true;
          this.log.debug(`rate limited: next event in ${wait} ms`);
          await sleep(wait, this.watchAbort.signal);
          this.waitingForToken = false;
          continue;
        }
        this.eventPending = false;
        this.cachedOk = false;
        this.started = true;
      }
      this.pokePending = false;
      if (!this.started) continue;
      this.processing = true;
      try {
        await this.process();
      } finally {
        this.processing = false;
      }
    }
    this.updateBusy();
  }

  private async process(): Promise<void> {
    let stale = false;
    for (const e of this.parents) {
      if (!e.from.succeededFor(this.timestamp)) {
        stale = true;
        e.from.poke();
      }
    }
    if (stale) return; // the parents poke back when they have run
    const meta = this.spec.meta;
    const refreshEdges = this.parents.filter((e) => e.notify && e.refresh);
    const refresh = refreshEdges.length > 0 && this.kind.refreshable;
    const noop = this.host.noop || meta.noop === true;
    let ok = true;
    if (!meta.hidden && !(this.cachedOk && !refresh)) {
      const release = await this.host.semaphores.acquire([...(meta.sema ?? []), ...this.host.globalSema]);
      const t0 = performance.now();
      try {
        ok = await this.checkApply(!noop, refresh);
      } catch (err) {
        this.onError(err, 'check/apply');
        return;
      } finally {
        release();
      }
      this.log.debug(`check/apply: ${ok ? 'ok' : noop ? 'would change' : 'changed'} (${(performance.now() - t0).toFixed(1)} ms)`);
    }
    if (meta.retryreset) this.retriesUsed = 0;
    this.cachedOk = true;
    if (!noop) {
      for (const e of refreshEdges) e.refresh = false;
      if (!ok) for (const e of this.children) if (e.notify) e.refresh = true;
    }
    if ((!ok && !noop) || this.convergedSince === undefined) {
      this.convergedSince = performance.now();
      this.host.activity();
    }
    this.timestamp = this.host.nextStamp();
    // Wake the children that have something to do: those not known good (waiting for this vertex, or never
    // run) and those with a refresh pending on this edge. A known-good child would only skip and stamp, and
    // poking all of them made every re-check of a directory cost one poke per file below it.
    for (const e of this.children) if (!e.to.cachedOk || e.refresh) e.to.poke();
  }

  /** See CheckApplyContext.reading: events so far are covered by the running check. */
  private readonly reading = (): void => {
    if (this.processing) this.eventPending = false;
  };

  private async checkApply(apply: boolean, refresh: boolean): Promise<boolean> {
    const timeoutMs = this.spec.meta.timeout ?? 0;
    // Without a deadline the vertex's own cancel signal is enough: no controller per call (10,000-vertex runs
    // made hundreds of thousands of abort listeners and signals otherwise).
    if (timeoutMs <= 0) return this.resource.checkApply({ apply, refresh, signal: this.applyAbort.signal, reading: this.reading });
    const ac = new AbortController();
    const onCancel = () => ac.abort(this.applyAbort.signal.reason);
    this.applyAbort.signal.addEventListener('abort', onCancel, { once: true });
    const run = this.resource.checkApply({ apply, refresh, signal: ac.signal, reading: this.reading });
    run.catch(() => {}); // a late rejection after a timeout must not crash the process
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new Error(`timed out after ${timeoutMs} ms (metaparam timeout)`);
          err.name = 'TimeoutError'; // the same name AbortSignal.timeout() uses; resources report it as a timeout
          ac.abort(err);
          reject(err);
        }, timeoutMs);
      });
      return await Promise.race([run, deadline]);
    } finally {
      clearTimeout(timer);
      this.applyAbort.signal.removeEventListener('abort', onCancel);
    }
  }

  private onError(err: unknown, what: 'check/apply' | 'watch'): void {
    const msg = errorText(err);
    if (this.stopping) {
      this.log.debug(`${what} ended while stopping: ${msg}`);
      return;
    }
    const retry = this.spec.meta.retry ?? 0;
    const delay = this.spec.meta.delay ?? 0;
    this.retriesUsed++;
    if (retry < 0 || this.retriesUsed <= retry) {
      this.log.warn(`${what} failed: ${msg} (retry ${this.retriesUsed} of ${retry < 0 ? 'unlimited' : retry} in ${delay} ms)`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (what === 'watch') this.startWatch();
        else this.event();
        this.updateBusy();
      }, delay);
      this.updateBusy();
      return;
    }
    this.failure = err instanceof Error ? err : new Error(msg);
    this.log.error(`${what} failed: ${msg}${retry > 0 ? ` (after ${retry} retries)` : ''}; giving up on this resource`);
    this.watchAbort.abort(STOPPING);
    this.kick();
    this.host.failedPermanently(this);
  }

  private startWatch(): void {
    const meta = this.spec.meta;
    const signal = this.watchAbort.signal;
    const w: WatchContext = { signal, event: () => this.event() };
    let p: Promise<void>;
    const poll = meta.poll ?? 0;
    if (meta.hidden || poll < 0) {
      this.event();
      p = untilAborted(signal);
    } else if (poll > 0) {
      this.event();
      const t = setInterval(() => this.event(), poll * 1000);
      p = untilAborted(signal).then(() => clearInterval(t));
    } else {
      try {
        p = this.resource.watch(w);
      } catch (err) {
        p = Promise.reject(err);
      }
    }
    this.watchDone = p.then(
      () => {
        if (!signal.aborted) this.onError(new Error('watch stopped unexpectedly'), 'watch');
      },
      (err: unknown) => {
        if (!signal.aborted) this.onError(err, 'watch');
      },
    );
  }
}
