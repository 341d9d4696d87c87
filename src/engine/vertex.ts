/**
 * One vertex of the live graph and its worker: Watch feeds events; the worker runs CheckApply once every
 * parent has succeeded since this vertex's own last run, caches a good state so that pokes from parents cost
 * nothing, passes refreshes along notify edges, and applies the metaparams (retry, delay, poll, limit/burst,
 * sema, timeout, noop, hidden).
 *
 * Failures (see `onError`): a resource whose `retry` metaparam is not set never stops healing. A failed
 * check/apply is retried after a capped exponential backoff (the engine's `RetryPolicy`: 1 s doubling to 5 min)
 * and at once on each new event from its watch; its dependents wait until it succeeds, and it stays failed (for
 * the converger, the exit status and the log) until then. An explicit `retry` keeps mgmt's meaning: that many
 * retries `delay` ms apart (-1: forever), then the resource has failed permanently and is no longer watched.
 */
import type { ResourceSpec } from '../graph/spec.js';
import type { Logger } from '../observe/logger.js';
import type { Change, Resource, ResourceKind, WatchContext } from '../resources/resource.js';
import { type ChangeRedaction, type CheckRecord, genericChange, type RecordedChange, redactChange } from './check-record.js';
import { isTimeoutReason, sleep, untilAborted } from '../system/proc/abort.js';
import { RateLimiter } from './rate-limiter.js';
import type { Semaphores } from './semaphores.js';
import { errorText } from '../observe/errors.js';

/**
 * How a resource without an explicit `retry` is retried after a failure: `firstMs` after the first failure,
 * doubling after each further one, never more than `maxMs` apart; and at once on a new event from its watch, but
 * no sooner than `eventGapMs` after its last failure (a failing command whose own output its watch sees must not
 * spin).
 */
export interface RetryPolicy {
  readonly firstMs: number;
  readonly maxMs: number;
  readonly eventGapMs: number;
}

/**
 * 1 s, 2 s, 4 s ... 4 min 16 s, then every 5 min: the cap is reached at the 10th failure, about 8.5 min after the
 * first. Events retry at once, at most 10 times a second.
 */
export const DEFAULT_RETRY: RetryPolicy = { firstMs: 1000, maxMs: 300_000, eventGapMs: 100 };

/** What a vertex needs from the engine that runs it. */
export interface VertexHost {
  readonly noop: boolean;
  readonly semaphores: Semaphores;
  /** Semaphores every vertex takes (from `--sema N`). */
  readonly globalSema: readonly string[];
  /** Backoff of resources that heal (no explicit `retry`). */
  readonly retryPolicy: RetryPolicy;
  /**
   * Aborted to cancel every running check/apply at once (their processes killed): one signal for the whole engine,
   * not one per vertex (a 10,000-vertex run made 10,000 controllers for a cancel that only ever comes for all).
   */
  readonly cancelSignal: AbortSignal;
  nextStamp(): number;
  /** Called when this vertex starts (+1) or stops (-1) having work pending or running. */
  busy(delta: 1 | -1): void;
  /** A check/apply changed something, or the vertex reached a good state for the first time. */
  activity(): void;
  /** The vertex failed (for good, or for now while it heals), or recovered. */
  failureChanged(v: Vertex): void;
  /** Receives the change record of every check/apply that found the state wrong or failed (unset: none is built). */
  readonly record?: ((r: CheckRecord) => void) | undefined;
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
  private readonly limiter: RateLimiter | undefined;

  /** No explicit `retry`: retried until it succeeds (see the module comment). */
  private readonly heals: boolean;
  /** The explicit retries are used up: not watched, not run again (only with an explicit `retry`). */
  private gaveUp = false;
  private gaveUpWith: Error | undefined;
  /** While healing: the last check/apply failed, and none has succeeded since. */
  private checkFailure: Error | undefined;
  /** While healing: the watch failed, and the restarted one has not delivered an event yet. */
  private watchFailure: Error | undefined;
  /** Consecutive failed check/applies (healing), for the backoff. */
  private checkFailures = 0;
  /** Consecutive watch failures (healing); reset by a watch that runs for `retryPolicy.maxMs`. */
  private watchFailures = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  /** When the current failure began (Date.now()), for messages. */
  private failingSince: number | undefined;
  /** A retry of a failed check/apply is due (its timer fired or an event came) and has not run yet. */
  private attemptDue = false;
  /** performance.now() of the last failure, and of the pending retry timer's expiry. */
  private lastFailureAt = 0;
  private retryAt = 0;

  constructor(
    readonly spec: ResourceSpec,
    readonly kind: ResourceKind,
    readonly resource: Resource,
    private readonly host: VertexHost,
    readonly log: Logger,
    private readonly redaction?: ChangeRedaction,
  ) {
    this.id = `${spec.kind}[${spec.name}]`;
    const { limit, burst } = spec.meta;
    this.limiter = limit !== undefined && limit !== Infinity ? new RateLimiter(limit, burst ?? 1) : undefined;
    this.heals = spec.meta.retry === undefined;
  }

  /** The error this vertex is failing with: given up on, or failing now and being retried; undefined when fine. */
  get failure(): Error | undefined {
    return this.gaveUpWith ?? this.checkFailure ?? this.watchFailure;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Failed for good (explicit `retry` used up); a healing vertex never is. */
  get failedPermanently(): boolean {
    return this.gaveUp;
  }

  start(): void {
    this.loopDone = this.loop();
    this.startWatch();
  }

  /** Something this vertex manages may have drifted. */
  event(): void {
    if (this.stopping || this.gaveUp) return;
    if (this.checkFailure && !this.attemptDue) this.retrySoon(); // a change may have fixed the cause
    if (this.eventPending) return;
    this.eventPending = true;
    this.kick();
  }

  /** An event from the resource's own watch: a watch that had failed runs again. */
  private watchEvent(): void {
    if (this.watchFailure && !this.stopping) this.watchRecovered();
    this.event();
  }

  /**
   * A parent finished (or a child wants this vertex to catch up); never marks the vertex dirty. A failing
   * vertex takes no pokes between its retries (children would otherwise retry it on every event of theirs),
   * only when a retry is due and waits for its own parents.
   */
  poke(): void {
    if (this.stopping || this.gaveUp || this.pokePending) return;
    if (this.checkFailure && !this.attemptDue) return;
    this.pokePending = true;
    this.kick();
  }

  /** Stops watching, lets a running check/apply finish, then cleans up. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      clearTimeout(this.watchTimer);
      this.watchTimer = undefined;
      this.watchAbort.abort(STOPPING);
      this.kick();
    }
    await this.loopDone;
    await Promise.race([this.watchDone, sleep(1000)]);
    await this.resource.cleanup?.();
    this.updateBusy();
  }

  /**
   * Whether a child whose last run is `since` may run now: this vertex has succeeded after it, or it is known
   * good (it ran successfully, and no event, change or failure has happened since). The second case keeps a
   * child's own drift event from re-running the parent and, through it, poking every sibling: without it one
   * repaired file in a directory of N managed files costs N pokes.
   */
  succeededFor(since: number): boolean {
    if (this.timestamp > since) return true;
    return this.timestamp > 0 && this.cachedOk && !this.eventPending && !this.processing && !this.checkFailure && !this.gaveUp;
  }

  private kick(): void {
    this.updateBusy();
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Busy: work is pending or running. A healing vertex's wait for its next retry is not busy (the converger
   * treats a failing resource as settled); an explicit retry's wait is, as in mgmt.
   */
  private updateBusy(): void {
    const want =
      !this.stopping &&
      !this.gaveUp &&
      (this.eventPending || this.pokePending || this.processing || this.waitingForToken || (this.retryTimer !== undefined && !this.heals));
    if (want !== this.isBusy) {
      this.isBusy = want;
      this.host.busy(want ? 1 : -1);
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping && !this.gaveUp) {
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
    if (this.checkFailure && !this.attemptDue) return; // between retries: the retry timer or an event runs it
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
    this.attemptDue = false;
    if (!meta.hidden && !(this.cachedOk && !refresh)) {
      const release = await this.host.semaphores.acquire([...(meta.sema ?? []), ...this.host.globalSema]);
      const t0 = performance.now();
      const at = Date.now();
      const changes: RecordedChange[] | undefined = this.host.record ? [] : undefined;
      // Drift repaired: this vertex had reached its state before this run.
      const corrective = this.convergedSince !== undefined && !refresh;
      try {
        ok = await this.checkApply(!noop, refresh, changes);
      } catch (err) {
        if (changes) this.emit({ outcome: 'failed', changes, corrective, refresh, at, ms: performance.now() - t0, error: errorText(err) });
        this.onError(err, 'check/apply');
        return;
      } finally {
        release();
      }
      const ms = performance.now() - t0;
      this.log.debug(`check/apply: ${ok ? 'ok' : noop ? 'would change' : 'changed'} (${ms.toFixed(1)} ms)`);
      if (changes && !ok) {
        if (changes.length === 0) changes.push(genericChange(!noop));
        this.emit({ outcome: noop ? 'noop' : 'changed', changes, corrective, refresh, at, ms });
      }
    }
    if (meta.retryreset) this.retriesUsed = 0;
    if (this.checkFailure) this.checkRecovered();
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

  private emit(r: Omit<CheckRecord, 'id' | 'kind' | 'name' | 'origin'>): void {
    const text = (s: string) => this.redaction?.redactor?.text(s) ?? s;
    const { kind, name, origin } = this.spec;
    try {
      this.host.record?.({ id: text(this.id), kind, name: text(name), ...(origin ? { origin } : {}), ...r });
    } catch (err) {
      this.log.warn(`the change record could not be handed on: ${errorText(err)}`);
    }
  }

  /** See CheckApplyContext.reading: events so far are covered by the running check. */
  private readonly reading = (): void => {
    if (this.processing) this.eventPending = false;
  };

  /**
   * Runs the resource's check/apply under the `timeout` metaparam. On the deadline the call is cancelled through
   * its signal, and it counts as done only once it has returned: an exec returns once its whole process group is
   * gone, so a retry never runs beside the copy it replaces.
   */
  private async checkApply(apply: boolean, refresh: boolean, changes: RecordedChange[] | undefined): Promise<boolean> {
    const timeoutMs = this.spec.meta.timeout ?? 0;
    const change = changes ? (c: Change) => changes.push(redactChange(c, this.redaction)) : undefined;
    const rec = change ? { change } : {};
    // Without a deadline the engine's cancel signal is enough: no controller per call (10,000-vertex runs made
    // hundreds of thousands of abort listeners and signals otherwise).
    const cancel = this.host.cancelSignal;
    if (timeoutMs <= 0) return this.resource.checkApply({ apply, refresh, signal: cancel, reading: this.reading, ...rec });
    const ac = new AbortController();
    const onCancel = () => ac.abort(cancel.reason);
    if (cancel.aborted) onCancel();
    else cancel.addEventListener('abort', onCancel, { once: true });
    let lingering: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      const err = new Error(`timed out after ${timeoutMs} ms (metaparam timeout)`);
      err.name = 'TimeoutError'; // the same name AbortSignal.timeout() uses; resources report it as a timeout
      ac.abort(err);
      lingering = setTimeout(() => this.log.warn(`still finishing 5 s after its timeout of ${timeoutMs} ms; the next run waits for it`), 5000);
    }, timeoutMs);
    try {
      let result: boolean;
      try {
        result = await this.resource.checkApply({ apply, refresh, signal: ac.signal, reading: this.reading, ...rec });
      } catch (err) {
        if (isTimeoutReason(ac.signal.reason)) throw withCause(ac.signal.reason as Error, err);
        throw err;
      }
      // Finished, but only after its deadline (it did not heed the signal): still a timeout.
      if (ac.signal.aborted && isTimeoutReason(ac.signal.reason)) throw ac.signal.reason as Error;
      return result;
    } finally {
      clearTimeout(timer);
      clearTimeout(lingering);
      cancel.removeEventListener('abort', onCancel);
    }
  }

  private onError(err: unknown, what: 'check/apply' | 'watch'): void {
    const msg = errorText(err);
    if (this.stopping) {
      this.log.debug(`${what} ended while stopping: ${msg}`);
      return;
    }
    this.cachedOk = false;
    if (this.heals) {
      this.heal(err, what);
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
    this.gaveUp = true;
    this.gaveUpWith = err instanceof Error ? err : new Error(msg);
    this.log.error(
      `${what} failed: ${msg}${retry > 0 ? ` (after ${retry} retries)` : ''}; giving up on this resource (its explicit meta retry is used up): ` +
        'its dependents will not run until a graph swap with rewatch or a restart; remove `retry` to have it retried until it succeeds',
    );
    this.watchAbort.abort(STOPPING);
    this.kick();
    this.host.failureChanged(this);
  }

  /** A failure of a resource that heals: log it with what happens next, and schedule the retry. */
  private heal(err: unknown, what: 'check/apply' | 'watch'): void {
    const error = err instanceof Error ? err : new Error(errorText(err));
    const first = this.failure === undefined;
    this.failingSince ??= Date.now();
    const policy = this.host.retryPolicy;
    const fixed = this.spec.meta.delay; // an explicit delay keeps its meaning: the wait between retries
    const n = what === 'watch' ? ++this.watchFailures : ++this.checkFailures;
    const wait = fixed ?? Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(n - 1, 40));
    const capped = fixed === undefined && wait >= policy.maxMs;
    const since = first ? '' : `, failing since ${clock(this.failingSince)}`;
    const deps = this.children.length;
    const waiting = deps === 0 ? '' : deps === 1 ? '; 1 dependent waits' : `; ${deps} dependents wait`;
    this.lastFailureAt = performance.now();
    if (what === 'watch') {
      this.watchFailure = error;
      clearTimeout(this.watchTimer);
      this.watchTimer = setTimeout(() => {
        this.watchTimer = undefined;
        if (!this.stopping) this.startWatch();
      }, wait);
      this.log.error(
        `watch failed (${ordinal(n)} time${since}): ${error.message}; restarting it in ${duration(wait)}. ` +
          'Changes are not seen meanwhile; fix the cause (mgmt keeps retrying)',
      );
    } else {
      this.checkFailure = error;
      this.attemptDue = false;
      this.scheduleRetry(wait, true);
      // An event that came while this attempt ran (after it began reading the state) retries it soon.
      if (this.eventPending) this.scheduleRetry(this.host.retryPolicy.eventGapMs);
      this.log.error(
        `check/apply failed (${ordinal(n)} time${since}): ${error.message}; retrying in ${duration(wait)} and at once on a change${waiting}. ` +
          'Fix the cause: mgmt retries until it succeeds',
      );
    }
    const before = n === 1 ? 0 : Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(n - 2, 40));
    if (capped && before < policy.maxMs) {
      this.log.error(
        `still failing since ${clock(this.failingSince)}; from now on retried every ${duration(policy.maxMs)} (and at once on a change) until it succeeds`,
      );
    }
    this.updateBusy();
    if (first) this.host.failureChanged(this);
  }

  /** An event while failing: retry at once, or once `eventGapMs` have passed since the last failure. */
  private retrySoon(): void {
    const wait = this.lastFailureAt + this.host.retryPolicy.eventGapMs - performance.now();
    if (wait <= 0) this.attemptDue = true;
    else this.scheduleRetry(wait);
  }

  /** The retry timer fires in `ms` (an earlier pending one stays, unless `replace`). */
  private scheduleRetry(ms: number, replace = false): void {
    const at = performance.now() + ms;
    if (this.retryTimer !== undefined && !replace && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.attemptDue = true;
      this.event();
    }, ms);
  }

  private checkRecovered(): void {
    const n = this.checkFailures;
    this.checkFailure = undefined;
    this.checkFailures = 0;
    this.attemptDue = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.host.activity(); // a real change: the converger's quiet period starts over (a watch coming back is not one)
    this.recovered(`after ${plural(n, 'failed attempt')}`);
  }

  private watchRecovered(): void {
    this.watchFailure = undefined;
    this.recovered('watching again');
  }

  private recovered(how: string): void {
    if (this.failure !== undefined) return; // the other failure still stands
    const since = this.failingSince;
    this.failingSince = undefined;
    this.log.info(`recovered (${how}; failing since ${since === undefined ? '?' : clock(since)})`);
    this.host.failureChanged(this);
  }

  private startWatch(): void {
    const meta = this.spec.meta;
    const signal = this.watchAbort.signal;
    const w: WatchContext = { signal, event: () => this.watchEvent() };
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
    const startedAt = performance.now();
    this.watchDone = p.then(
      () => {
        if (!signal.aborted) this.watchEnded(new Error('watch stopped unexpectedly'), startedAt);
      },
      (err: unknown) => {
        if (!signal.aborted) this.watchEnded(err, startedAt);
      },
    );
  }

  /** A watch that ran for the longest retry interval has proven itself: its backoff starts over. */
  private watchEnded(err: unknown, startedAt: number): void {
    if (performance.now() - startedAt >= this.host.retryPolicy.maxMs) this.watchFailures = 0;
    this.onError(err, 'watch');
  }
}

function withCause(err: Error, cause: unknown): Error {
  const text = errorText(cause);
  const out = new Error(text && !text.includes(err.message) ? `${err.message}: ${text}` : err.message, { cause });
  out.name = err.name;
  return out;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

/** `250 ms`, `4 s`, `4 min 16 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** `HH:MM:SS` local time, as the log shows it. */
function clock(at: number): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
