/**
 * The etcd world (`--seeds`): hosts share exported resources through an etcd cluster, peer to peer (keys.ts for
 * the layout). The etcd3 client (1.1.2) is loaded only when this world is used.
 *
 * Sessions. A session grants one lease (TTL `ttl` s, kept alive by the client), writes this host's exports under
 * it, reads every export (one range read) and watches the prefix from the revision after that read. A session
 * ends when etcd says the lease is gone, when the watch stream breaks, or when a call misses its deadline
 * (every call has one). Then the world retries with backoff (100 ms doubling to 5 s) until a new session is up:
 * local resources never wait for etcd. The first failure of an outage is logged as a warning, further attempts
 * at debug level, with a reminder every 30 s; the reconnection is logged with the outage's length.
 *
 * Exports. Each host's keys hang on its lease, so a host that dies stops exporting one TTL later; a host that
 * exits cleanly revokes its lease, so its exports vanish at once. A write first reads this host's keys and then
 * changes only what differs (value, or the lease after a reconnection) in one transaction, deleting keys no
 * longer exported. A host watches its own keys too: when anyone else writes, changes or deletes one (another
 * host forging this host's exports, an operator's etcdctl), it logs a warning and writes its own exports back at
 * once (without etcd authentication any client can write any key: docs/security.md, "Several hosts").
 *
 * Collections. Watchers get the current set once it is known and after every change. Nothing is taken away
 * because etcd is unreachable: during an outage the last known set stays as it is; after a reconnection,
 * exports missing from the new read are kept for one more lease TTL (their hosts re-publish within it after an
 * etcd restart that lost data) and dropped only if they are still missing then.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3, IKeyValue, IOptions, IRequestOp, Lease, Watcher } from 'etcd3';
import type { ResourceSpec } from '../graph/spec.js';
import type { Logger } from '../observe/logger.js';
import { sleep } from '../system/proc/abort.js';
import { checkHostname } from '../system/tools/hostname.js';
import { type HostKey, HostPins, loadOrCreateHostKey, newHostKey } from './host-keys.js';
import { decodeSigned, encodeValue, exportKey, hostPrefix, parseKey, ROOT } from './keys.js';
import { type Exported, ofKinds, toExported, type World } from './world.js';
import { errorText } from '../observe/errors.js';

export interface EtcdWorldOptions {
  readonly hostname: string;
  /** Client URLs of the cluster, `http://host:port` or `https://...`. */
  readonly seeds: readonly string[];
  /** Lease TTL in seconds (default 10). */
  readonly ttl?: number;
  /** PEM files: the CA to trust, and this client's certificate and key. */
  readonly tls?: { readonly cacert?: string; readonly cert?: string; readonly key?: string };
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * Where this host keeps its signing key and the keys pinned for other hosts (host-keys.ts); unset: a key in
   * memory only and pins in memory only (tests).
   */
  readonly stateDir?: string;
  readonly log: Logger;
}

const require = createRequire(import.meta.url);

/**
 * Loads the etcd3 client (CommonJS; require is faster here than import(), which first scans the module for its
 * exports). It costs a few hundred milliseconds of CPU: gRPC, protobufjs, and parsing etcd's .proto files.
 */
export function loadClient(): typeof import('etcd3') {
  return require('etcd3') as typeof import('etcd3');
}

/** Deadline of every etcd call. */
const CALL_MS = 3000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;
const REMIND_MS = 30_000;

interface Watch {
  readonly kinds: readonly string[];
  readonly onChange: (resources: readonly Exported[]) => void;
}

/** One connection attempt and what it holds; `fail` ends it. */
interface Session {
  lease?: Lease;
  leaseId?: string;
  watcher?: Watcher | undefined;
  readonly ended: Promise<void>;
  fail(e: Error): void;
  done: boolean;
}

export class EtcdWorld implements World {
  readonly kind = 'etcd';
  readonly hostname: string;
  private readonly ttl: number;
  private readonly log: Logger;
  /** This host's exports: key → stored value. */
  private desired = new Map<string, string>();
  /** Every valid export under the root: key → resource. */
  private readonly all = new Map<string, Exported>();
  /** Keys missing from the read after a reconnection, kept until the time given. */
  private readonly stale = new Map<string, number>();
  private staleTimer: NodeJS.Timeout | undefined;
  private known = false;
  private readonly watches = new Set<Watch>();
  private session: Session | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly stop = new AbortController();
  private readonly loopDone: Promise<void>;
  /** Keys whose bad value was already reported (with the value's revision). */
  private readonly reported = new Set<string>();
  /**
   * What this host's recent writes put under its own keys (key → the last few values, newest last), to tell its
   * own watch events (which may arrive after a newer write was sent) from others'.
   */
  private readonly written = new Map<string, string[]>();

  /** Set when `keyReady` is (before open() resolves). */
  private key: HostKey | undefined;
  private readonly keyReady: Promise<HostKey>;
  private readonly pins: HostPins;

  private seeds: readonly string[];
  /** Clients replaced by setSeeds, closed once their session has ended. */
  private retired: Etcd3[] = [];

  private constructor(
    private client: Etcd3,
    private readonly opts: EtcdWorldOptions,
    key: Promise<HostKey>,
  ) {
    this.seeds = opts.seeds;
    this.hostname = opts.hostname;
    this.ttl = opts.ttl ?? 10;
    this.log = opts.log;
    const dir = opts.stateDir;
    this.pins = new HostPins(
      dir ?? '',
      (host, file) => this.log.info(`etcd: pinned the signing key of host ${host} on first sight (${file})`),
      dir === undefined,
    );
    this.keyReady = key.then((k) => {
      this.key = k;
      this.pins.pin(this.hostname, k.publicKey);
      return k;
    });
    this.keyReady.catch(() => undefined); // open() reports it
    this.loopDone = this.loop();
  }

  /**
   * Creates the client (loading etcd3) and starts connecting in the background; never waits for etcd. It waits
   * for this host's signing key, which is read or made while the client connects.
   */
  static async open(opts: EtcdWorldOptions): Promise<EtcdWorld> {
    const key = opts.stateDir === undefined ? Promise.resolve(newHostKey()) : loadOrCreateHostKey(opts.stateDir);
    const w = new EtcdWorld(makeClient(opts, opts.seeds), opts, key);
    try {
      await w.keyReady;
    } catch (e) {
      await w.close();
      throw e;
    }
    return w;
  }

  /**
   * Uses these client URLs from now on (a self-formed cluster hands over the members that answer): a new client,
   * and a new session through it; the old client is closed once its session ended.
   */
  setSeeds(seeds: readonly string[]): void {
    if (this.closed || [...seeds].sort().join() === [...this.seeds].sort().join()) return;
    this.log.debug(`etcd: client URLs now ${seeds.join(',')}`);
    this.retired.push(this.client);
    this.client = makeClient(this.opts, seeds);
    this.seeds = seeds;
    this.session?.fail(new SwitchError(`moving to ${seeds.join(',')} (the cluster's members that answer)`));
  }

  publish(resources: readonly ResourceSpec[]): void {
    if (this.closed) return;
    const key = this.key;
    if (!key) throw new Error('EtcdWorld.publish before open() resolved');
    const next = new Map<string, string>();
    for (const r of resources) {
      const e = toExported(this.hostname, r);
      next.set(exportKey(this.hostname, r.kind, r.name), encodeValue(e, key));
    }
    this.desired = next;
    const s = this.session;
    if (s?.leaseId && !s.done) this.queueSync(s);
  }

  watch(kinds: readonly string[], onChange: (resources: readonly Exported[]) => void): () => void {
    const w: Watch = { kinds: [...kinds], onChange };
    this.watches.add(w);
    if (this.known) {
      queueMicrotask(() => {
        if (this.watches.has(w)) onChange(ofKinds(this.all.values(), w.kinds));
      });
    }
    return () => this.watches.delete(w);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    clearTimeout(this.staleTimer);
    this.stop.abort();
    const s = this.session;
    // A clean exit withdraws this host's exports at once (a crash leaves them to the lease's TTL).
    if (s && !s.done && s.lease && s.leaseId) await bounded(s.lease.revoke({ deadline: Date.now() + 1000 }), 1500).catch(() => {});
    s?.fail(new Error('closing'));
    await bounded(this.loopDone, 3000).catch(() => {});
    this.client.close();
    for (const c of this.retired.splice(0)) c.close();
  }

  // -------------------------------------------------------------------------------------------------------
  // Sessions

  private async loop(): Promise<void> {
    let attempt = 0;
    let downSince: number | undefined;
    let reminded = 0;
    let everUp = false;
    while (!this.closed) {
      const s = newSession();
      this.session = s;
      try {
        const t0 = performance.now();
        await this.startSession(s, everUp);
        this.log.debug(`etcd session up in ${(performance.now() - t0).toFixed(0)} ms (lease, exports written, ${this.all.size} export(s) read, watch created)`);
        if (s.done) throw new Error('the session ended while starting');
        if (downSince !== undefined) {
          this.log.info(`etcd reachable again after ${((Date.now() - downSince) / 1000).toFixed(1)} s: exports re-published, collected resources re-read`);
        } else this.log.info(`connected to etcd ${this.seeds.join(',')} as host ${this.hostname} (lease TTL ${this.ttl} s)`);
        everUp = true;
        attempt = 0;
        downSince = undefined;
        await s.ended;
        throw new Error('the session ended');
      } catch (e) {
        await this.endSession(s);
        for (const c of this.retired.splice(0)) c.close();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
        if (this.closed) break;
        // setSeeds ended a working session on purpose: connect through the new URLs at once, no outage.
        if (e instanceof SwitchError && downSince === undefined) {
          this.log.info(`etcd: ${e.message}`);
          continue;
        }
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt++);
        const msg = `${describe(e)}; local resources keep running, collected ones stay as they are`;
        const now = Date.now();
        if (downSince === undefined) {
          downSince = now;
          reminded = now;
          this.log.warn(`etcd ${this.seeds.join(',')}: ${msg}; retrying (backoff up to ${BACKOFF_MAX_MS / 1000} s)`);
        } else if (now - reminded >= REMIND_MS) {
          reminded = now;
          this.log.warn(`etcd still unreachable after ${((now - downSince) / 1000).toFixed(0)} s (${attempt} attempts): ${msg}`);
        } else this.log.debug(`etcd: ${msg}; retrying in ${wait} ms`);
        await sleep(wait, this.stop.signal);
      }
    }
  }

  private async startSession(s: Session, reconnect: boolean): Promise<void> {
    const lease = this.client.lease(this.ttl, { deadline: Date.now() + CALL_MS });
    s.lease = lease;
    lease.on('lost', (err: Error) => s.fail(new Error(`lease lost: ${err.message}`)));
    s.leaseId = await bounded(lease.grant(), CALL_MS + 500);
    await this.keyReady;
    if (s.done) throw new Error('session ended while starting');
    // Through the queue, like every write: two syncs in flight could land in the wrong order.
    const first = this.syncing.then(() => this.sync(s));
    this.syncing = first.catch(() => {});
    await first;
    const r = await this.client.kv.range({ key: Buffer.from(ROOT), range_end: prefixEnd(ROOT) }, { deadline: Date.now() + CALL_MS });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
    if (s.done) throw new Error('session ended while starting');
    this.replaceAll(r.kvs, reconnect);
    const start = (BigInt(r.header.revision) + 1n).toString();
    const w = this.client.watch().prefix(ROOT).startRevision(start).watcher();
    s.watcher = w;
    w.on('disconnected', (err: Error) => s.fail(new Error(`watch stream lost: ${err.message}`)));
    w.on('error', (err: Error) => s.fail(new Error(`watch failed: ${err.message}`)));
    w.on('data', (res: { events: { type: string; kv: IKeyValue }[] }) => {
      if (!s.done) this.applyEvents(res.events);
    });
    await bounded(Promise.race([once(w, 'connected'), s.ended]), CALL_MS);
  }

  private async endSession(s: Session): Promise<void> {
    s.done = true;
    const w = s.watcher;
    s.watcher = undefined;
    if (w) {
      w.removeAllListeners('data');
      await bounded(w.cancel(), 1000).catch(() => {});
    }
    // Stop the keep-alives; if etcd still knows the lease, it expires with nothing on it (or was revoked by close).
    s.lease?.release();
    await this.syncing.catch(() => {});
  }

  private queueSync(s: Session): void {
    this.syncing = this.syncing.then(() => (s.done ? undefined : this.sync(s))).catch((e: unknown) => s.fail(e instanceof Error ? e : new Error(String(e))));
  }

  /** Writes what differs between this host's keys in etcd and its exports, in one transaction. */
  private async sync(s: Session): Promise<void> {
    const prefix = hostPrefix(this.hostname);
    const r = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }, { deadline: Date.now() + CALL_MS });
    const have = new Map(r.kvs.map((kv) => [kv.key.toString(), kv] as const));
    const ops: IRequestOp[] = [];
    for (const [k, v] of this.desired) {
      const cur = have.get(k);
      if (cur?.value.toString() !== v || cur.lease !== s.leaseId) {
        ops.push({ request_put: { key: Buffer.from(k), value: Buffer.from(v), ...(s.leaseId === undefined ? {} : { lease: s.leaseId }) } });
      }
    }
    for (const k of have.keys()) if (!this.desired.has(k)) ops.push({ request_delete_range: { key: Buffer.from(k) } });
    if (ops.length === 0) return;
    for (const [k, v] of this.desired) this.written.set(k, [...(this.written.get(k) ?? []).slice(-3), v]);
    for (const k of [...this.written.keys()]) if (!this.desired.has(k)) this.written.delete(k);
    await this.client.kv.txn({ compare: [], success: ops, failure: [] }, { deadline: Date.now() + CALL_MS });
    this.log.debug(`etcd: wrote ${ops.length} change(s) to this host's ${this.desired.size} export(s)`);
  }

  // -------------------------------------------------------------------------------------------------------
  // The collected view

  private replaceAll(kvs: readonly IKeyValue[], reconnect: boolean): void {
    const seen = new Set<string>();
    for (const kv of kvs) {
      const key = kv.key.toString();
      seen.add(key);
      this.stale.delete(key);
      this.setKey(key, kv);
    }
    const until = Date.now() + this.ttl * 1000;
    for (const key of [...this.all.keys()]) {
      if (seen.has(key)) continue;
      if (reconnect) {
        if (!this.stale.has(key)) this.stale.set(key, until);
      } else this.all.delete(key);
    }
    if (this.stale.size > 0) this.scheduleStale();
    this.known = true;
    this.notify();
  }

  private applyEvents(events: readonly { type: string; kv: IKeyValue }[]): void {
    const own = hostPrefix(this.hostname);
    const forged: string[] = [];
    for (const ev of events) {
      const key = ev.kv.key.toString();
      this.stale.delete(key);
      if (key.startsWith(own) && !this.isOwnWrite(ev.type, key, ev.kv)) forged.push(key);
      if (ev.type === 'Delete') this.all.delete(key);
      else this.setKey(key, ev.kv);
    }
    this.notify();
    const s = this.session;
    if (forged.length > 0 && s && !s.done && !this.closed) {
      this.log.warn(
        `etcd: ${forged.length} of this host's keys changed or deleted by someone else, or their lease expired (${forged.slice(0, 3).join(', ')}${forged.length > 3 ? ', ...' : ''}); writing this host's exports back`,
      );
      this.queueSync(s);
    }
  }

  /** Whether a watch event on one of this host's keys is what this host itself wrote (value and lease). */
  private isOwnWrite(type: string, key: string, kv: IKeyValue): boolean {
    if (type === 'Delete') return !this.desired.has(key);
    const value = kv.value.toString();
    const mine = value === this.desired.get(key) || (this.written.get(key)?.includes(value) ?? false);
    return mine && kv.lease === this.session?.leaseId;
  }

  private setKey(key: string, kv: IKeyValue): void {
    const k = parseKey(key);
    const bad = !k ? 'not an export key' : checkHostname(k.host);
    const d = k && !bad ? decodeSigned(k, kv.value.toString()) : (bad ?? 'not an export key');
    // Bound to its host: signed, and by the key pinned for that host (host-keys.ts).
    const e =
      typeof d === 'string'
        ? d
        : d.signer === undefined
          ? 'it is not signed (every host of ours signs its exports; this value was written by something else)'
          : (this.pins.check(d.exported.host, d.signer) ?? d.exported);
    if (typeof e === 'string') {
      // A refused value does not take away the last good one under its key (a forged overwrite of another host's
      // export changes nothing here, and that host writes its own value back).
      const id = `${key}@${kv.mod_revision}`;
      if (!this.reported.has(id)) {
        this.reported.add(id);
        this.log.warn(`etcd: ignoring ${key}: ${e}`);
      }
      return;
    }
    this.all.set(key, e);
  }

  private scheduleStale(): void {
    clearTimeout(this.staleTimer);
    const next = Math.min(...this.stale.values());
    this.staleTimer = setTimeout(
      () => {
        const now = Date.now();
        let dropped = 0;
        for (const [key, until] of this.stale) {
          if (until > now) continue;
          this.stale.delete(key);
          if (this.all.delete(key)) dropped++;
        }
        if (dropped > 0) {
          this.log.info(`etcd: ${dropped} export(s) missing since the reconnection were not re-published within the lease TTL; dropped`);
          this.notify();
        }
        if (this.stale.size > 0) this.scheduleStale();
      },
      Math.max(0, next - Date.now()) + 10,
    );
    this.staleTimer.unref();
  }

  private notify(): void {
    if (this.closed) return;
    for (const w of this.watches) w.onChange(ofKinds(this.all.values(), w.kinds));
  }
}

/** The end of a session that setSeeds asked for. */
class SwitchError extends Error {}

/** An etcd3 client for these URLs, with the options' TLS and user. */
function makeClient(opts: EtcdWorldOptions, seeds: readonly string[]): Etcd3 {
  const { Etcd3 } = loadClient();
  const { noop, ConstantBackoff } = require('cockatiel') as typeof import('cockatiel');
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${what} ${file}: ${(e as Error).message}`);
    }
  };
  const tls = opts.tls;
  const options: IOptions = {
    hosts: seeds.map((s) => s.replace(/^etcd:\/\//, 'http://')),
    ...(tls && (tls.cacert || tls.cert || tls.key)
      ? {
          credentials: {
            // Without a CA file gRPC trusts the system's roots.
            rootCertificate: (tls.cacert ? read('--etcd-cacert', tls.cacert) : null) as unknown as Buffer,
            ...(tls.key ? { privateKey: read('--etcd-key', tls.key) } : {}),
            ...(tls.cert ? { certChain: read('--etcd-cert', tls.cert) } : {}),
          },
        }
      : {}),
    ...(opts.auth ? { auth: { ...opts.auth, callOptions: () => ({ deadline: Date.now() + CALL_MS }) } } : {}),
    // Our own retry loop decides; the client's circuit breaker would hold calls back for 5 s after 3 failures.
    faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(250).next() },
    grpcOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
    },
  };
  return new Etcd3(options);
}

function newSession(): Session {
  let fail!: (e: Error) => void;
  const ended = new Promise<void>((_, reject) => (fail = reject));
  ended.catch(() => {});
  const s: Session = {
    ended,
    done: false,
    fail: (e) => {
      if (s.done) return;
      s.done = true;
      fail(e);
    },
  };
  return s;
}

/** The end of the key range holding every key that starts with `prefix`. */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Rejects when `p` takes longer than `ms`. */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`no answer within ${(ms / 1000).toFixed(1)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

function once(w: Watcher, event: 'connected'): Promise<void> {
  return new Promise((resolve) => w.once(event, () => resolve()));
}

function describe(e: unknown): string {
  const m = errorText(e).replace(/\s+/g, ' ').trim() || 'unknown error';
  if (/user name is empty|authentication failed|invalid auth token|permission denied/i.test(m)) {
    return `${m} (etcd wants a user: set MGMT_ETCD_USER and MGMT_ETCD_PASSWORD)`;
  }
  if (/certificate|handshake|SSL|TLS/i.test(m)) return `${m} (check --etcd-cacert, --etcd-cert and --etcd-key)`;
  return m;
}
