/**
 * One host of a self-formed cluster (`mgmt run --cluster`, or `--etcd-server`, its one-host case), loaded only with
 * those flags. Every round (ROUND_MS) it
 *
 * - probes every known member (member directory, cluster-directory.ts) and keeps a connection (a session: a lease,
 *   this host's key under /_mgmt/cluster/hosts/, a campaign in the coordinator's election) to one that answers,
 *   this host's own member first;
 * - hands the world (the exports' client) the client URLs that answer, whenever one it uses stopped answering;
 * - reads the member list from the cluster (kept on disk) and this host's assign key: when the coordinator added
 *   this host, it starts its member (etcd-member.ts) with `--initial-cluster-state existing`;
 * - notices when its member was removed (demoted, or replaced while this host was away): stops it and deletes its
 *   data, and goes on as a client;
 * - when elected, runs one coordinator round (cluster-coordinator.ts).
 *
 * At start, a host whose state directory holds member data starts that member again (the cluster comes back from
 * its data directories after a full stop); the first host, with no seeds and nothing known, bootstraps a
 * one-member cluster (an `--etcd-server` host also when its data is gone and it knows no member but itself).
 * Local resources never wait for any of this. At start, rounds come every STARTUP_ROUND_MS until the world has
 * endpoints, and on a host whose own member serves it, its own connection (which loads the etcd client on the
 * main thread) waits until the world's first collection is in.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3, IOptions, Lease } from 'etcd3';
import { createRequire } from 'node:module';
import type { Logger } from '../observe/logger.js';
import { errorText } from '../observe/errors.js';
import { sleep } from '../system/proc/abort.js';
import { assignKey, hostKey, type HostRecord, IDEAL_KEY, parseAssignment } from './cluster-keys.js';
import type { ClusterTls } from './cluster-pki.js';
import { MemberDirectory } from './cluster-directory.js';
import { CoordinatorElection } from './cluster-election.js';
import { Coordinator } from './cluster-coordinator.js';
import { deleteMemberData, type EtcdMember, hasMemberData, type MemberStart, type MemberUrls, readTls, startMember } from './etcd-member.js';
import { loadClient } from './etcd-world.js';

const require = createRequire(import.meta.url);

const ROUND_MS = 500;
/**
 * Until the world has endpoints, for at most STARTUP_MS after the start, rounds come this often: a member this
 * host just started answers within a few hundred ms, and the world should not wait a whole round to hear it.
 */
const STARTUP_ROUND_MS = 50;
const STARTUP_MS = 5000;
/** How long this host's own connection waits for the world's first collection after the first endpoints. */
const SESSION_HOLD_MS = 1000;
const CALL_MS = 3000;
/** A member that exited by itself is started again after this long (unless it was removed). */
const RESTART_MS = 1000;
/** How long no member may answer before the outage is reported. */
const OUTAGE_WARN_MS = 3000;

export interface ClusterAgentOptions {
  readonly hostname: string;
  /** `<state>/cluster`: member data (`etcd/`), certificates (`tls/`), the member directory. */
  readonly dir: string;
  readonly seeds: readonly string[];
  readonly ideal: number;
  /** `--ideal-cluster-size` was given (a stored different value is then reported). */
  readonly idealGiven: boolean;
  readonly noServer: boolean;
  /**
   * `--etcd-server`: the one-host case. With no member data, this host bootstraps unless the cluster it knows has
   * members other than itself.
   */
  readonly oneHost?: boolean;
  readonly urls: MemberUrls;
  readonly tls: ClusterTls;
  /** Lease TTL in seconds. */
  readonly ttl: number;
  /** Whether this host's graph is converged now (published in its host key, read each round). */
  readonly converged: () => boolean;
  readonly log: Logger;
  readonly etcdLog: Logger;
}

interface Session {
  readonly url: string;
  readonly client: Etcd3;
  lease?: Lease;
  failed?: Error;
}

export class ClusterAgent {
  private readonly log: Logger;
  private readonly dir: MemberDirectory;
  private readonly dataDir: string;
  private readonly election: CoordinatorElection;
  private readonly coordinator: Coordinator;
  private session: Session | undefined;
  private member: EtcdMember | undefined;
  private memberStarted = 0;
  /** The member exited by itself at this time (restart pending). */
  private memberExited: number | undefined;
  private stoppingMember = false;
  private closed = false;
  private readonly stop = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private endpoints: string[] = [];
  private onEndpoints: ((urls: readonly string[]) => void) | undefined;
  private outage: number | undefined;
  private outageWarned = false;
  private recordSent = '';
  private idealReported = false;
  private rotate = 0;
  /**
   * Until then this host opens no connection of its own: loading the etcd client costs the main thread a few
   * hundred ms, which would hold back the world's first collection (set when the world gets its first
   * endpoints from this host's own member; `worldReady` ends it early).
   */
  private holdSessionUntil = 0;

  private constructor(private readonly o: ClusterAgentOptions) {
    this.log = o.log;
    this.dataDir = join(o.dir, 'etcd');
    this.dir = new MemberDirectory(o.dir, o.seeds, readTls(o.tls));
    this.election = new CoordinatorElection(o.hostname, o.ttl, o.log);
    this.coordinator = new Coordinator(o.log, o.ttl);
  }

  /** Starts this host's member when its data is there (or bootstraps), then runs the rounds in the background. */
  static async start(o: ClusterAgentOptions): Promise<ClusterAgent> {
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    const a = new ClusterAgent(o);
    if (!o.noServer && (await hasMemberData(a.dataDir))) {
      await a.startMember({ how: 'restart' }, 'its data directory holds a member: starting it again');
    } else if (!o.noServer && o.seeds.length === 0 && a.dir.allUrls().length === 0) {
      await a.startMember({ how: 'new' }, 'no seeds and no known cluster: bootstrapping a one-member cluster');
    } else if (o.oneHost && a.dir.allUrls().every((u) => o.urls.advertiseClient.includes(u))) {
      // Its data was deleted, and no other member was ever known: nothing else can serve the cluster.
      await a.startMember({ how: 'new' }, 'no member data, and no other member known: bootstrapping a one-member cluster again');
    }
    a.loopDone = a.loop();
    return a;
  }

  /** The world has its first collection (or connected): this host's own connection may load the client now. */
  worldReady(): void {
    this.holdSessionUntil = 0;
  }

  /** `f` gets the client URLs that answer, first when known and again when one in use stops answering. */
  watchEndpoints(f: (urls: readonly string[]) => void): void {
    this.onEndpoints = f;
    if (this.endpoints.length > 0) f(this.endpoints);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    await this.loopDone.catch(() => {});
    const s = this.session;
    this.session = undefined;
    if (s) {
      // A clean stop: the next host is elected at once and this host's key goes now.
      await bounded(this.election.resign(), 1500).catch(() => {});
      if (s.lease) await bounded(s.lease.revoke({ deadline: Date.now() + 1000 }), 1500).catch(() => {});
      s.client.close();
    }
    const m = this.member;
    if (m) {
      this.stoppingMember = true;
      await m.stop();
      this.log.info(`cluster: etcd member (pid ${m.pid}) stopped; its data stays in ${this.dataDir}`);
    }
  }

  /** A second signal: the member gets SIGTERM, nothing is waited for. */
  abort(): void {
    this.closed = true;
    this.stop.abort();
    this.stoppingMember = true;
    this.member?.kill();
  }

  /** Read through a method: TypeScript keeps the narrowing of a field from before an await. */
  private isClosed(): boolean {
    return this.closed;
  }

  private ownUrl(): string | undefined {
    return this.member ? this.o.urls.advertiseClient[0] : undefined;
  }

  private async startMember(how: MemberStart, why: string): Promise<void> {
    this.log.info(`cluster: ${why}`);
    const m = await startMember({
      name: this.o.hostname,
      dataDir: this.dataDir,
      urls: this.o.urls,
      tls: this.o.tls,
      start: how,
      // Alone for good: --etcd-server with ideal size 1 (the first host's value holds), and no other member known.
      alone: this.o.oneHost === true && this.o.ideal === 1 && this.dir.views().every((m) => m.name === this.o.hostname),
      onLine: (line) => etcdLine(this.o.etcdLog, line),
    });
    this.member = m;
    this.memberStarted = Date.now();
    this.memberExited = undefined;
    this.stoppingMember = false;
    this.log.info(`cluster: etcd member (pid ${m.pid}) serving ${this.o.urls.advertiseClient.join(',')}, data in ${this.dataDir}`);
    void m.exited.then((r) => {
      if (this.member !== m) return;
      this.member = undefined;
      if (this.stoppingMember || this.closed) return;
      this.memberExited = Date.now();
      const tail = [...r.stderrTail, ...r.stdoutTail].slice(-2).join(' | ');
      this.log.warn(`cluster: etcd member (pid ${m.pid}) exited (code ${r.code ?? r.signal})${tail ? `: ${tail}` : ''}`);
    });
  }

  private async stopMemberAndDelete(why: string): Promise<void> {
    const m = this.member;
    this.stoppingMember = true;
    if (m) await m.stop();
    this.member = undefined;
    this.memberExited = undefined;
    await deleteMemberData(this.dataDir);
    this.log.info(`cluster: ${why}: etcd stopped and its data deleted; this host goes on as a client`);
  }

  private async loop(): Promise<void> {
    const started = Date.now();
    while (!this.closed) {
      const t0 = Date.now();
      try {
        await this.round();
      } catch (e) {
        if (!this.isClosed()) this.log.debug(`cluster: round failed: ${errorText(e)}`);
      }
      const every = this.endpoints.length === 0 && t0 - started < STARTUP_MS ? STARTUP_ROUND_MS : ROUND_MS;
      await sleep(Math.max(0, every - (Date.now() - t0)), this.stop.signal);
    }
  }

  private async round(): Promise<void> {
    this.dir.setOwn(this.ownUrl());
    await this.dir.probe();
    if (this.closed) return;
    const healthy = this.dir.healthyUrls(this.ownUrl());
    this.reportOutage(healthy);
    // The world's endpoints: renewed when one it uses stopped answering (or it has none yet).
    if (healthy.length > 0 && (this.endpoints.length === 0 || this.endpoints.some((u) => !healthy.includes(u)))) {
      // Only a host whose own member serves it: a host that joins through others learns the member list through its
      // connection, and should know every member before the one it joined through goes away.
      if (this.endpoints.length === 0 && this.onEndpoints && this.member) this.holdSessionUntil = Date.now() + SESSION_HOLD_MS;
      this.endpoints = healthy;
      this.onEndpoints?.(healthy);
    }
    // This host's own connection.
    let s = this.session;
    if (s && (s.failed || (healthy.length > 0 && !healthy.includes(s.url)))) {
      this.endSession(s, s.failed ? `connection lost: ${s.failed.message}` : `${s.url} stopped answering`);
      s = undefined;
    }
    if (!s) {
      // This host's member is starting: wait for it to answer (a fast round) rather than block on a connection.
      if (healthy.length === 0 && this.member && Date.now() - this.memberStarted < STARTUP_MS) return;
      if (Date.now() < this.holdSessionUntil) return;
      const all = this.dir.allUrls();
      const url = healthy[0] ?? all[this.rotate++ % Math.max(1, all.length)];
      if (!url) return;
      s = await this.openSession(url);
      if (!s) return;
    }
    const client = s.client;
    const opts = () => ({ deadline: Date.now() + CALL_MS });
    const list = await client.cluster.memberList({}, opts());
    this.dir.update(list.members);
    await this.writeRecord(s);
    if (!this.o.noServer) await this.ownMember(client, list.members);
    if (this.election.isCoordinator() && !this.isClosed()) {
      await this.dir.probe();
      await this.coordinator.round(client, this.dir, this.o.ideal);
    }
  }

  /** Starts, restarts or retires this host's member, by the coordinator's word and the member list. */
  private async ownMember(client: Etcd3, members: readonly { name: string; peerURLs: string[] }[]): Promise<void> {
    const me = members.find((m) => m.name === this.o.hostname || m.peerURLs.some((u) => this.o.urls.advertisePeer.includes(u)));
    // The list came from another member: this host's own one would not know it was removed.
    const listedElsewhere = this.session?.url !== this.ownUrl();
    if (this.member) {
      if (!me && listedElsewhere && Date.now() - this.memberStarted > 10_000) {
        await this.stopMemberAndDelete('this host is no longer a member of the cluster (removed by the coordinator)');
      }
      return;
    }
    const text = await client
      .get(assignKey(this.o.hostname))
      .options({ deadline: Date.now() + CALL_MS })
      .string();
    const a = text === null ? undefined : parseAssignment(text);
    if (this.memberExited !== undefined) {
      if (Date.now() - this.memberExited < RESTART_MS) return;
      if (me?.name === this.o.hostname && !a) {
        await this.startMember({ how: 'restart' }, 'starting the member again');
        return;
      }
      if (!a && listedElsewhere) {
        await this.stopMemberAndDelete('this host is no longer a member of the cluster (removed while it was away)');
        return;
      }
    }
    if (!a || !me || me.name) return;
    // Data left from an earlier membership is of no use to a new member.
    if (await hasMemberData(this.dataDir)) {
      await deleteMemberData(this.dataDir);
      this.log.info(`cluster: deleted the data of this host's earlier membership (${this.dataDir})`);
    }
    await this.startMember(
      { how: 'existing', initialCluster: a.initialCluster },
      `added to the cluster by the coordinator (member ${a.memberId}): starting etcd`,
    );
  }

  private async openSession(url: string): Promise<Session | undefined> {
    const { Etcd3 } = loadClient();
    const { noop, ConstantBackoff } = require('cockatiel') as typeof import('cockatiel');
    const options: IOptions = {
      hosts: [url],
      credentials: { rootCertificate: readFileSync(this.o.tls.cacert), certChain: readFileSync(this.o.tls.cert), privateKey: readFileSync(this.o.tls.key) },
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(250).next() },
      grpcOptions: {
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
      },
    };
    const s: Session = { url, client: new Etcd3(options) };
    try {
      const lease = s.client.lease(this.o.ttl, { deadline: Date.now() + CALL_MS });
      s.lease = lease;
      lease.on('lost', (e: Error) => (s.failed ??= new Error(`lease lost: ${e.message}`)));
      await bounded(lease.grant(), CALL_MS + 500);
      // The first host's ideal size holds: only a host that bootstrapped (no seeds) stores it; one that joins
      // through seeds waits until it is there, so that joining while the first host starts cannot take it over.
      let stored: string;
      if (this.o.seeds.length > 0) {
        const got = await bounded(s.client.get(IDEAL_KEY).string(), CALL_MS + 500);
        if (got === null) throw new Error('the cluster has no size yet (its first host is still starting)');
        stored = got;
      } else {
        const r = await s.client
          .if(IDEAL_KEY, 'Create', '==', 0)
          .then(s.client.put(IDEAL_KEY).value(String(this.o.ideal)))
          .else(s.client.get(IDEAL_KEY))
          .options({ deadline: Date.now() + CALL_MS })
          .commit();
        stored = r.succeeded ? String(this.o.ideal) : (r.responses[0]?.response_range.kvs[0]?.value.toString() ?? '?');
      }
      if (this.o.idealGiven && stored !== String(this.o.ideal) && !this.idealReported) {
        this.idealReported = true;
        this.log.warn(`cluster: --ideal-cluster-size ${this.o.ideal} ignored: the cluster keeps ${stored} members (the value stored by its first host holds)`);
      }
      this.recordSent = '';
      await this.writeRecord(s);
      this.election.start(s.client, (e) => (s.failed ??= new Error(`coordinator campaign failed: ${e.message}`)));
    } catch (e) {
      this.log.debug(`cluster: cannot connect through ${url}: ${errorText(e)}`);
      s.lease?.release();
      s.client.close();
      return undefined;
    }
    this.session = s;
    this.log.info(`cluster: connected through ${url} as host ${this.o.hostname}${this.o.noServer ? ' (--no-server: never a member)' : ''}`);
    return s;
  }

  private endSession(s: Session, why: string): void {
    this.log.info(`cluster: ${why}; connecting through another member`);
    this.election.drop();
    s.lease?.release();
    s.client.close();
    if (this.session === s) this.session = undefined;
  }

  /** Writes this host's key (on its lease) when what it says changed. */
  private async writeRecord(s: Session): Promise<void> {
    const rec: HostRecord = {
      candidate: !this.o.noServer,
      peerUrls: this.o.urls.advertisePeer,
      clientUrls: this.o.urls.advertiseClient,
      converged: this.o.converged(),
    };
    const text = JSON.stringify(rec);
    if (text === this.recordSent || !s.lease) return;
    await s.lease
      .put(hostKey(this.o.hostname))
      .value(text)
      .options({ deadline: Date.now() + CALL_MS });
    this.recordSent = text;
  }

  private reportOutage(healthy: readonly string[]): void {
    const { voters, healthy: ok } = this.dir.counts();
    const now = Date.now();
    if (healthy.length === 0) {
      this.outage ??= now;
      // A leader election (a member that led was lost) takes a second or two: not an outage worth a warning.
      if (!this.outageWarned && now - this.outage >= OUTAGE_WARN_MS) {
        this.outageWarned = true;
        const why = this.dir.failures();
        const state = voters > 0 ? `${ok} of ${voters} healthy: no quorum` : 'no member known yet';
        this.log.warn(
          `cluster: no member answers (${state}) for ${((now - this.outage) / 1000).toFixed(1)} s; local resources keep running, collected ones stay as they are${why ? `; ${why}` : ''}${/certificate|alert|handshake|unknown ca/i.test(why) ? " (a TLS failure: does this host have the cluster's secret or certificates?)" : ''}`,
        );
      }
    } else if (this.outage !== undefined) {
      const text = `cluster: members answer again after ${((now - this.outage) / 1000).toFixed(1)} s (${ok} of ${voters} healthy)`;
      if (this.outageWarned) this.log.info(text);
      else this.log.debug(text);
      this.outage = undefined;
      this.outageWarned = false;
    }
  }
}

/** etcd's own log lines: errors as warnings, the rest (its warnings are mostly routine) at debug level. */
function etcdLine(log: Logger, line: string): void {
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  if (level === 'error' || level === 'fatal' || level === 'panic') log.warn(line);
  else log.debug(line);
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`no answer within ${(ms / 1000).toFixed(1)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
