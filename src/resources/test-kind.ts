/**
 * The `test` kind, for engine tests: a harmless resource whose "state" is a flag in memory, so that tests of
 * scheduling, failures, retries, timeouts, refreshes, noop and drift depend neither on `/bin/sh` nor on the
 * file system. It counts its check/apply calls, can be told to fail (the first N times or always), to take a
 * given time, to start out of state, or to drift later; tests drive it through its parameters and through the
 * handle of each resource name, which they hold.
 *
 * It is in no registry of its own accord: a test makes a `TestBench` and adds `bench.kind` to the registry it
 * hands the loader and the engine (`registry.with(bench.kind)`), so the published schema and docs never show it.
 */
import { TIMER_MAX_MS } from './params.js';
import { type Problem, defineKind, type ResourceKind } from './resource.js';
import { sleep, untilAborted } from '../system/proc/abort.js';

const params = {
  fail: {
    type: 'integer',
    minimum: -1,
    default: 0,
    doc: 'The first N check/applies of this resource fail; -1: every one fails.',
  },
  duration: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_MS,
    default: 0,
    doc: 'Milliseconds each check/apply takes (cut short with an error when it is cancelled).',
  },
  lingers: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_MS,
    default: 0,
    doc: 'Milliseconds a cancelled check/apply still takes before it returns its error (as a process group does between SIGTERM and SIGKILL).',
  },
  drifted: {
    type: 'boolean',
    default: false,
    doc: 'The state starts wrong (when the bench first sees this name): the first check finds it out of state, and an apply fixes it (a change).',
  },
  group: { type: 'string', doc: 'Autogroup: resources with the same group run as one vertex (one check/apply for all of them).' },
} as const;

/** What the bench knows of one resource name, across the vertices that had it (a swap may replace them). */
export class TestHandle {
  /** check/apply calls started (including those that failed or were cancelled). */
  checks = 0;
  /** Calls that found the state wrong and fixed it (apply). */
  changes = 0;
  /** Calls that found the state wrong under noop (nothing changed). */
  wouldChange = 0;
  /** Calls that received a refresh and applied it. */
  refreshes = 0;
  /** Calls that failed (told to fail, or cancelled). */
  failures = 0;
  /** Times a resource of this name was created (a kept vertex is not created again). */
  instances = 0;
  /** Calls running now. */
  running = 0;
  inState = true;
  private failLeft = 0;
  private failAlways = false;
  private readonly emitters = new Set<() => void>();
  private readonly breakers = new Set<(e: Error) => void>();
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly bench: TestBench,
  ) {}

  /** Makes the next `n` check/applies fail, or every one from now on (`'always'`). */
  fail(n: number | 'always' = 1): void {
    if (n === 'always') this.failAlways = true;
    else this.failLeft += n;
  }

  /** Ends `fail('always')` and any failures still due. */
  heal(): void {
    this.failAlways = false;
    this.failLeft = 0;
  }

  /** The state goes wrong behind the engine's back, and the watch says so (one event). */
  drift(): void {
    this.inState = false;
    this.event();
  }

  /** A watch event without a change of state (a false positive the engine must tolerate). */
  event(): void {
    for (const emit of this.emitters) emit();
  }

  /** Every running watch of this name fails (a watch error, as when a watch command exits). */
  breakWatch(): void {
    const all = [...this.breakers];
    this.breakers.clear();
    for (const b of all) b(new Error('test: the watch broke'));
  }

  /** Whether a watch of this name is running (and so would deliver `event()`). */
  get watching(): boolean {
    return this.emitters.size > 0;
  }

  /** Holds every check/apply of this name at its start until `release()`: concurrency without the clock. */
  hold(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  /** @internal the kind's side */
  takeFailure(): boolean {
    if (this.failAlways) return true;
    if (this.failLeft > 0) {
      this.failLeft--;
      return true;
    }
    return false;
  }

  /** @internal */
  watchWith(emit: () => void): () => void {
    this.emitters.add(emit);
    return () => this.emitters.delete(emit);
  }

  /** @internal resolves when `signal` is aborted, rejects when `breakWatch()` is called */
  watchUntil(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const onBreak = (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      };
      const onAbort = () => {
        this.breakers.delete(onBreak);
        resolve();
      };
      this.breakers.add(onBreak);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** @internal */
  async waitAtGate(signal: AbortSignal): Promise<void> {
    if (this.gate) await Promise.race([this.gate, untilAborted(signal)]);
  }

  /** @internal */
  note(what: string): void {
    this.bench.journal.push(`${what} ${this.name}`);
  }
}

/** The handles of a test's `test` resources, a journal of what they did in order, and the kind bound to them. */
export class TestBench {
  /** `start a`, `end a`, `fail a`, `refresh a`, ... in the order they happened. */
  readonly journal: string[] = [];
  /** The most check/applies that ran at once, across every `test` resource. */
  maxRunning = 0;
  private running = 0;
  private readonly handles = new Map<string, TestHandle>();
  readonly kind: ResourceKind;

  constructor() {
    this.kind = testKind(this);
  }

  /** The handle of resource `name` (made on first use; its state starts right unless the graph says `drifted`). */
  handle(name: string): TestHandle {
    let h = this.handles.get(name);
    if (!h) this.handles.set(name, (h = new TestHandle(name, this)));
    return h;
  }

  /** Whether `name` has its handle yet (a resource of that name was created, or a test asked for it). */
  has(name: string): boolean {
    return this.handles.has(name);
  }

  /** Forgets every handle and the journal, for the next test. */
  reset(): void {
    this.handles.clear();
    this.journal.length = 0;
    this.maxRunning = 0;
    this.running = 0;
  }

  /** @internal */
  enter(h: TestHandle): void {
    h.running++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
  }

  /** @internal */
  leave(h: TestHandle): void {
    h.running--;
    this.running--;
  }
}

function testKind(bench: TestBench): ResourceKind {
  return defineKind({
    kind: 'test',
    doc: 'A resource for engine tests: its state is a flag in memory; it counts its check/applies and can be told to fail, to take time or to drift.',
    params,
    refreshable: true,
    reach: { touches: ['nothing'], collect: 'plain' },
    validate: (_name, p) => {
      const out: Problem[] = [];
      if (p.group === '') out.push({ param: 'group', message: '`group` may not be empty' });
      return out;
    },
    autogroup: {
      key: (_name, p) => p.group,
      create: (members, ctx) => {
        const all = members.map((m) => create(m.name, m.params, ctx.log.info.bind(ctx.log)));
        return {
          async watch(w) {
            const stops = all.map((r) => r.subscribe(() => w.event()));
            w.event();
            await untilAborted(w.signal);
            for (const stop of stops) stop();
          },
          async checkApply(c) {
            let ok = true;
            for (const r of all) ok = (await r.checkApply(c)) && ok;
            return ok;
          },
        };
      },
    },
    create: (name, p, ctx) => {
      const r = create(name, p, ctx.log.info.bind(ctx.log));
      return {
        async watch(w) {
          const stop = r.subscribe(() => w.event());
          try {
            w.event();
            await r.watchUntil(w.signal);
          } finally {
            stop();
          }
        },
        checkApply: (c) => r.checkApply(c),
      };
    },
  });

  function create(name: string, p: Readonly<Record<string, unknown>>, info: (m: string) => void) {
    const fresh = !bench.has(name);
    const h = bench.handle(name);
    h.instances++;
    if (fresh && p.drifted === true) h.inState = false;
    const fail = typeof p.fail === 'number' ? p.fail : 0;
    if (fail < 0) h.fail('always');
    else if (fail > 0 && h.instances === 1) h.fail(fail);
    const duration = typeof p.duration === 'number' ? p.duration : 0;
    const lingers = typeof p.lingers === 'number' ? p.lingers : 0;
    return {
      subscribe: (emit: () => void) => h.watchWith(emit),
      watchUntil: (signal: AbortSignal) => h.watchUntil(signal),
      async checkApply(c: { apply: boolean; refresh: boolean; signal: AbortSignal }): Promise<boolean> {
        h.checks++;
        bench.enter(h);
        h.note('start');
        try {
          await h.waitAtGate(c.signal);
          if (duration > 0) await sleep(duration, c.signal);
          if (c.signal.aborted) {
            if (lingers > 0) await sleep(lingers);
            throw new Error('test: cancelled');
          }
          if (h.takeFailure()) throw new Error('test: told to fail');
          let ok = h.inState;
          if (!ok) {
            if (c.apply) {
              h.inState = true;
              h.changes++;
              info('changed');
            } else {
              h.wouldChange++;
              info('would change');
            }
          }
          if (c.refresh) {
            ok = false;
            if (c.apply) {
              h.refreshes++;
              h.note('refresh');
            }
          }
          h.note('end');
          return ok;
        } catch (e) {
          h.failures++;
          h.note('fail');
          throw e;
        } finally {
          bench.leave(h);
        }
      },
    };
  }
}
