/**
 * User and group entries through the name service switch (NSS): whatever /etc/nsswitch.conf lists for `passwd`
 * and `group` (the local files, LDAP, SSSD, extrausers, systemd's dynamic users...), asked with getent(1) from
 * Debian's libc-bin, through the one launcher. Every other tool on the host sees accounts this way.
 *
 * Cost: a getent run takes a few milliseconds, so lookups are batched and cached:
 * - Batching: the keys asked for while a getent run for the same database is pending or running go into one
 *   `getent passwd k1 k2 ...` (at most `NSS_BATCH_KEYS` keys per run). A graph of 10,000 files owned by 10,000
 *   directory users starts a handful of getent processes, not 10,000; and at most one run per database is under
 *   way at a time.
 * - Caching: an answer is kept `NSS_FOUND_TTL_MS` (an entry found) or `NSS_MISSING_TTL_MS` (no such entry), as
 *   nscd and sssd keep theirs; a failed run (timeout, getent missing) is not cached. So a user added in the
 *   directory is seen within NSS_MISSING_TTL_MS, and a changed entry within NSS_FOUND_TTL_MS.
 * - Deadline: a run is killed after `NSS_TIMEOUT_MS` (an unreachable LDAP server can keep getent waiting for
 *   minutes); every key of the batch then fails with an error saying so, and the next lookup asks again.
 *
 * Callers that manage local accounts (the user and group kinds) do not come here: they read the local files.
 */
import { describeOutcome, outputTail, run, SpawnError, type ProcessResult } from '../proc/launcher.js';
import { errorText } from '../../observe/errors.js';
import { SYSTEM_TOOL_PATH } from './tool-path.js';

export type NssDatabase = 'passwd' | 'group';

/** How long an entry found through NSS is reused. */
export const NSS_FOUND_TTL_MS = 30_000;
/** How long "no such entry" from NSS is reused. */
export const NSS_MISSING_TTL_MS = 5_000;
/** The deadline of one getent run. */
export const NSS_TIMEOUT_MS = 10_000;
/** At most this many keys per getent run (and at most NSS_BATCH_BYTES of them: command lines have a limit). */
export const NSS_BATCH_KEYS = 1000;
const NSS_BATCH_BYTES = 64 * 1024;
/** Past this many cached answers, expired ones are dropped (and then the oldest). */
const CACHE_MAX = 100_000;

/** The fields of one entry as getent prints it (passwd: name, password, uid, gid, gecos, home, shell). */
export type NssFields = readonly string[];

export interface NssOptions {
  /** The getent command, program first; default `getent` on the system tool path. */
  readonly getent?: readonly string[];
  readonly timeoutMs?: number;
  readonly foundTtlMs?: number;
  readonly missingTtlMs?: number;
  readonly batchKeys?: number;
  /** The clock for the cache, in milliseconds. */
  readonly now?: () => number;
}

/** getent could not answer (not installed, timed out, failed): nothing is known about the keys. */
export class NssError extends Error {
  override readonly name = 'NssError';
}

interface Cached {
  readonly fields: NssFields | undefined;
  readonly until: number;
}

interface Waiter {
  readonly promise: Promise<NssFields | undefined>;
  resolve(f: NssFields | undefined): void;
  reject(e: unknown): void;
  /** Callers still waiting for this key (one whose signal aborted no longer counts). */
  callers: number;
}

function waiter(): Waiter {
  let resolve!: (f: NssFields | undefined) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<NssFields | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, callers: 0 };
}

interface DbState {
  /** Keys asked for and not yet in a run, in order. */
  readonly queued: Map<string, Waiter>;
  /** Keys of the run under way. */
  readonly running: Map<string, Waiter>;
  /** A drain is scheduled or under way. */
  draining: boolean;
  /** Cancels the run under way: aborted once every caller waiting for it has given up. */
  cancel: AbortController | undefined;
}

/** A key getent could never match: it would end the argument list, or cannot be part of an entry line. */
const unaskable = (key: string) => key === '' || /[\0\n:]/.test(key);

/** Lookups of passwd and group entries through getent, batched and cached (see the module comment). */
export class NssLookup {
  /** getent processes started so far (for tests and diagnostics). */
  runs = 0;
  private readonly getent: readonly string[];
  private readonly timeoutMs: number;
  private readonly foundTtlMs: number;
  private readonly missingTtlMs: number;
  private readonly batchKeys: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached>();
  private readonly dbs: Record<NssDatabase, DbState> = {
    passwd: { queued: new Map(), running: new Map(), draining: false, cancel: undefined },
    group: { queued: new Map(), running: new Map(), draining: false, cancel: undefined },
  };

  constructor(opts: NssOptions = {}) {
    this.getent = opts.getent ?? ['getent'];
    this.timeoutMs = opts.timeoutMs ?? NSS_TIMEOUT_MS;
    this.foundTtlMs = opts.foundTtlMs ?? NSS_FOUND_TTL_MS;
    this.missingTtlMs = opts.missingTtlMs ?? NSS_MISSING_TTL_MS;
    this.batchKeys = Math.max(1, opts.batchKeys ?? NSS_BATCH_KEYS);
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * The entry for a name, or for a numeric id given as its decimal string; undefined when NSS has none. Rejects
   * with NssError when getent cannot answer, and with the signal's reason when it aborts (a run nobody waits for
   * any more is killed).
   */
  lookup(db: NssDatabase, key: string, signal?: AbortSignal): Promise<NssFields | undefined> {
    if (unaskable(key)) return Promise.resolve(undefined);
    const hit = this.cache.get(`${db}:${key}`);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.fields);
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const s = this.dbs[db];
    // A run being cancelled (everyone waiting for it gave up) is not joined: the key is asked again.
    let w = (s.cancel?.signal.aborted ? undefined : s.running.get(key)) ?? s.queued.get(key);
    if (!w) {
      w = waiter();
      s.queued.set(key, w);
      if (!s.draining) {
        s.draining = true;
        // Wait one turn of the event loop, so that the keys asked for by everything running now share the run.
        setImmediate(() => void this.drain(db));
      }
    }
    return follow(s, w, signal);
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.cache.clear();
  }

  /** Runs getent for the queued keys, batch after batch, until none is left. */
  private async drain(db: NssDatabase): Promise<void> {
    const s = this.dbs[db];
    try {
      while (s.queued.size > 0) {
        let bytes = 0;
        for (const [key, w] of s.queued) {
          if (w.callers === 0) {
            // Every caller gave up before the run: nothing to ask, nothing to remember.
            s.queued.delete(key);
            w.resolve(undefined);
            continue;
          }
          if (s.running.size >= this.batchKeys || (s.running.size > 0 && bytes + key.length + 1 > NSS_BATCH_BYTES)) break;
          bytes += key.length + 1;
          s.running.set(key, w);
          s.queued.delete(key);
        }
        const keys = [...s.running.keys()];
        if (keys.length === 0) continue;
        s.cancel = new AbortController();
        try {
          const found = await this.ask(db, keys, s.cancel.signal);
          const until = (f: NssFields | undefined) => this.now() + (f ? this.foundTtlMs : this.missingTtlMs);
          for (const key of keys) {
            const f = found.get(key);
            this.remember(`${db}:${key}`, { fields: f, until: until(f) });
            s.running.get(key)?.resolve(f);
          }
        } catch (e) {
          for (const w of s.running.values()) w.reject(e);
        }
        s.running.clear();
        s.cancel = undefined;
      }
    } finally {
      s.draining = false;
    }
  }

  private remember(key: string, c: Cached): void {
    if (this.cache.size >= CACHE_MAX) {
      const now = this.now();
      for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
      for (const k of this.cache.keys()) {
        if (this.cache.size < CACHE_MAX) break;
        this.cache.delete(k);
      }
    }
    this.cache.delete(key);
    this.cache.set(key, c);
  }

  /** One getent run for `keys` (then one per key for any it could not match by name): what it found, by key. */
  private async ask(db: NssDatabase, keys: readonly string[], cancel: AbortSignal): Promise<Map<string, NssFields>> {
    const lines = await this.getentLines(db, keys, cancel);
    const out = new Map<string, NssFields>();
    const entries = lines.map((l) => l.split(':'));
    // One line per key found, in the order of the keys: when every key printed a line, they pair up in order
    // (this also covers a service that answers with another spelling, such as SSSD without case sensitivity).
    if (entries.length === keys.length) {
      keys.forEach((k, i) => out.set(k, entries[i]!));
      return out;
    }
    const idField = 2;
    const unmatched = new Set(entries);
    for (const k of keys) {
      const numeric = /^[0-9]+$/.test(k);
      const e = entries.find((f) => unmatched.has(f) && (numeric ? f[idField] === k : f[0] === k));
      if (e) {
        out.set(k, e);
        unmatched.delete(e);
      }
    }
    // Lines left over belong to keys spelled otherwise than their entry: ask for those one by one.
    if (unmatched.size > 0) {
      for (const k of keys) {
        if (out.has(k)) continue;
        const [line] = await this.getentLines(db, [k], cancel);
        if (line !== undefined) out.set(k, line.split(':'));
      }
    }
    return out;
  }

  /** Runs `getent DB KEY...` and returns its output lines; exit 2 ("some key not found") is an answer too. */
  private async getentLines(db: NssDatabase, keys: readonly string[], cancel: AbortSignal): Promise<string[]> {
    const [program, ...pre] = this.getent;
    const argv = [program ?? 'getent', ...pre, db, '--', ...keys];
    const asked = keys.length === 1 ? `'${keys[0]}'` : `'${keys[0]}' and ${keys.length - 1} more`;
    const shown = `getent ${db} ${keys.length === 1 ? keys[0] : `(${keys.length} keys)`}`;
    this.runs++;
    let r: ProcessResult;
    try {
      r = await run({
        command: { argv },
        env: { PATH: SYSTEM_TOOL_PATH, LC_ALL: 'C' },
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), cancel]),
        captureStdout: true,
        killGraceMs: 200,
      });
    } catch (e) {
      if (e instanceof SpawnError && e.code === 'ENOENT') {
        throw new NssError(
          `cannot look up ${asked} through NSS: getent is not installed (searched ${SYSTEM_TOOL_PATH}); install the Debian package "libc-bin"`,
        );
      }
      throw new NssError(`cannot look up ${asked} through NSS: ${shown}: ${errorText(e)}`);
    }
    if (r.timedOut) {
      throw new NssError(
        `cannot look up ${asked}: ${shown} timed out after ${this.timeoutMs / 1000} s; the name service (see /etc/nsswitch.conf: LDAP, SSSD...) did not answer: check that its servers are reachable`,
      );
    }
    if (r.aborted && cancel.aborted) throw new NssError(`${shown} was cancelled: every lookup waiting for it was`);
    if (r.aborted || (r.code !== 0 && r.code !== 2)) {
      const tail = outputTail(r);
      throw new NssError(`cannot look up ${asked} through NSS: ${shown} ${describeOutcome(r)}${tail ? `; ${tail}` : ''}`);
    }
    return (r.stdout ?? Buffer.alloc(0))
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
  }
}

/** The waiter's answer for one more caller, who may give up (abort) alone; the last to give up cancels the run. */
function follow(s: DbState, w: Waiter, signal: AbortSignal | undefined): Promise<NssFields | undefined> {
  w.callers++;
  if (!signal) return w.promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      w.callers--;
      reject(signal.reason as Error);
      if (s.running.size > 0 && [...s.running.values()].every((x) => x.callers === 0)) s.cancel?.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    w.promise.then(
      (f) => {
        signal.removeEventListener('abort', onAbort);
        resolve(f);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
