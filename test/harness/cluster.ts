/**
 * Hosts of a self-formed cluster for tests and benchmarks: each host is a real `mgmt run --cluster` process with
 * its own --hostname, state directory (under /dev/shm when it has room: each member's etcd data takes about
 * 123 MB), free client and peer ports on loopback, and a graph that exports one file and collects every exported
 * file into its own directory. The etcd processes the hosts start are found from their logs
 * ("etcd member (pid N)"), so a test can kill a host as a crash would (mgmt and its etcd, SIGKILL) and the cleanup
 * stops every process by PID.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { isRunning } from '../../src/system/proc/launcher.js';
import { type ClusterTls, readSecret, tlsFromSecret } from '../../src/world/cluster-pki.js';
import { memberHealthy, readTls } from '../../src/world/etcd-member.js';
import { type Cli, mgmt } from './cli.js';
import { etcdDataRoot, freePort } from './etcd.js';

const require = createRequire(import.meta.url);

export interface ClusterHost {
  readonly name: string;
  readonly prefix: string;
  /** Where it collects files. */
  readonly out: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly url: string;
  cli?: Cli;
  /** Every log this host's processes wrote, across restarts. */
  logs: string[];
}

export interface ClusterOptions {
  readonly ttl: number;
  readonly ideal: number;
}

export class TestCluster {
  readonly hosts = new Map<string, ClusterHost>();
  private readonly pids = new Set<number>();
  private clients: Etcd3[] = [];

  private constructor(
    readonly root: string,
    readonly stateRoot: string,
    readonly secret: string,
    readonly opts: ClusterOptions,
    /** The test's own certificate, from the same secret (as any host of the cluster makes it). */
    readonly tls: ClusterTls,
  ) {}

  static async create(opts: ClusterOptions): Promise<TestCluster> {
    const root = await mkdtemp(join(tmpdir(), 'mgmt-cluster-test-'));
    const stateRoot = await mkdtemp(join(etcdDataRoot(), 'mgmt-cluster-state-'));
    const secret = join(root, 'secret');
    writeFileSync(secret, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const tls = await tlsFromSecret(readSecret(secret), join(root, 'tls'), 'test', []);
    return new TestCluster(root, stateRoot, secret, opts, tls);
  }

  /** Adds a host (ports picked now) without starting it. */
  async add(name: string): Promise<ClusterHost> {
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const out = join(this.root, 'out', name);
    mkdirSync(out, { recursive: true });
    const h: ClusterHost = { name, prefix: join(this.stateRoot, name), out, clientPort, peerPort, url: `https://127.0.0.1:${clientPort}`, logs: [] };
    this.graph(h, [`from-${name}`]);
    this.hosts.set(name, h);
    return h;
  }

  /** Writes the host's graph: exports these files (names under /shared/), collects every file into its directory. */
  graph(h: ClusterHost, exports: readonly string[], tag = ''): void {
    const lines = exports.map((e) => `  - {name: "@@${e}", path: /shared/${e}, state: exists, content: "${e} by ${h.name}${tag}\\n"}`);
    writeFileSync(
      join(this.root, `${h.name}.yaml`),
      `graph: host${h.name}\nresources:\n  file:\n${lines.join('\n')}\n  - {name: "${h.out}/", state: exists}\ncollect:\n- {kind: file, pattern: ${h.out}/}\n`,
    );
  }

  /**
   * Starts (or starts again, same state directory and ports) a host; `seeds`: the hosts to join through; `secret`:
   * the secret file it is given (default: the cluster's).
   */
  start(h: ClusterHost, seeds: readonly ClusterHost[], more: readonly string[] = [], secret = this.secret): Cli {
    return this.run(h, [
      '--cluster',
      '--ideal-cluster-size',
      String(this.opts.ideal),
      '--cluster-secret-file',
      secret,
      ...(seeds.length ? ['--seeds', seeds.map((s) => s.url).join(',')] : []),
      ...more,
    ]);
  }

  /**
   * Starts (or starts again) a host with `--etcd-server` (the one-host case): no secret given, so it makes its own
   * in `<prefix>/cluster/secret` (see ownSecretOf).
   */
  startEtcdServer(h: ClusterHost, more: readonly string[] = []): Cli {
    return this.run(h, ['--etcd-server', ...more]);
  }

  /** The secret an `--etcd-server` host made, copied (mode 0600) as an operator would copy it to another host. */
  copyOwnSecret(h: ClusterHost): string {
    const copy = join(this.root, `secret-of-${h.name}`);
    copyFileSync(join(h.prefix, 'cluster', 'secret'), copy);
    chmodSync(copy, 0o600);
    return copy;
  }

  /** The test's own certificate for another secret (an `--etcd-server` host's). */
  tlsFor(secretFile: string): Promise<ClusterTls> {
    return tlsFromSecret(readSecret(secretFile), join(this.root, `tls-${basename(secretFile)}`), 'test', []);
  }

  private run(h: ClusterHost, flags: readonly string[]): Cli {
    const args = [
      'run',
      '--yaml',
      join(this.root, `${h.name}.yaml`),
      '--prefix',
      h.prefix,
      '--hostname',
      h.name,
      '--client-urls',
      h.url,
      '--server-urls',
      `https://127.0.0.1:${h.peerPort}`,
      '--etcd-lease-ttl',
      String(this.opts.ttl),
      ...flags,
    ];
    const cli = mgmt(args);
    h.cli = cli;
    const log = h.logs.length;
    h.logs.push('');
    cli.child.stderr?.on('data', () => {
      h.logs[log] = cli.stderr();
      for (const m of cli.stderr().matchAll(/etcd member \(pid (\d+)\) serving/g)) this.pids.add(Number(m[1]));
    });
    return cli;
  }

  /** The pid of the etcd member this host's current process started last, if any. */
  etcdPid(h: ClusterHost): number | undefined {
    const all = [...(h.cli?.stderr() ?? '').matchAll(/etcd member \(pid (\d+)\) serving/g)];
    const pid = all.at(-1)?.[1];
    return pid === undefined ? undefined : Number(pid);
  }

  /** A crash: SIGKILL to mgmt and to the etcd it started; waits until both are gone. */
  async crash(h: ClusterHost): Promise<void> {
    const pid = this.etcdPid(h);
    h.cli?.child.kill('SIGKILL');
    if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGKILL');
    if (h.cli) await h.cli.exited;
    while (pid !== undefined && isRunning(pid)) await new Promise((r) => setTimeout(r, 10));
  }

  /** Files collected by a host. */
  files(h: ClusterHost): string[] {
    return existsSync(h.out) ? readdirSync(h.out).sort() : [];
  }

  /** An etcd client with the test's certificate (default: from the cluster's secret), through these members. */
  client(through: readonly ClusterHost[], tls: ClusterTls = this.tls): Etcd3 {
    const { Etcd3: C } = require('etcd3') as typeof import('etcd3');
    const { noop } = require('cockatiel') as typeof import('cockatiel');
    const c = new C({
      hosts: through.map((h) => h.url),
      // No circuit breaker: a member that is down is what these tests are about.
      faultHandling: { host: () => noop, global: noop },
      credentials: { rootCertificate: readFileSync(tls.cacert), certChain: readFileSync(tls.cert), privateKey: readFileSync(tls.key) },
    });
    this.clients.push(c);
    return c;
  }

  /** The started voting members' names, sorted (throws when the cluster does not answer). */
  async members(c: Etcd3): Promise<string[]> {
    const r = await anyHost(() => c.cluster.memberList({}, { deadline: Date.now() + 2000 }));
    return r.members
      .filter((m) => !m.isLearner && m.name)
      .map((m) => m.name)
      .sort();
  }

  /** The started voting members that answer /health, by name, sorted. */
  async healthyMembers(c: Etcd3, certs: ClusterTls = this.tls): Promise<string[]> {
    const r = await anyHost(() => c.cluster.memberList({}, { deadline: Date.now() + 2000 }));
    const tls = readTls(certs);
    const ok = await Promise.all(
      r.members.filter((m) => !m.isLearner && m.name).map(async (m) => ((await memberHealthy(m.clientURLs[0] ?? '', tls)) ? m.name : undefined)),
    );
    return ok.filter((n): n is string => n !== undefined).sort();
  }

  /** The etcd member ids, sorted. */
  async memberIds(c: Etcd3): Promise<string[]> {
    const r = await anyHost(() => c.cluster.memberList({}, { deadline: Date.now() + 2000 }));
    return r.members.map((m) => m.ID).sort();
  }

  /** The elected coordinator's host name. */
  async coordinator(c: Etcd3): Promise<string | undefined> {
    return anyHost(() => c.namespace('/_mgmt/cluster/').election('coordinator').leader());
  }

  /** Stops everything by PID (mgmt processes, then every etcd member they started) and removes the directories. */
  async cleanup(): Promise<void> {
    // MGMT_CLUSTER_TEST_LOGS=DIR keeps every host's log there (for a failing test).
    const keep = process.env.MGMT_CLUSTER_TEST_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const h of this.hosts.values()) writeFileSync(join(keep, `${basename(this.root)}-${h.name}.log`), h.logs.join('\n----- restarted\n'));
    }
    for (const c of this.clients.splice(0)) c.close();
    for (const h of this.hosts.values()) h.cli?.child.kill('SIGKILL');
    await Promise.all([...this.hosts.values()].map((h) => h.cli?.exited ?? Promise.resolve(0)));
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of this.pids) while (isRunning(pid)) await new Promise((r) => setTimeout(r, 10));
    // Once only: a pid, once gone, may be another process's later.
    this.pids.clear();
    this.hosts.clear();
    await rm(this.root, { recursive: true, force: true });
    await rm(this.stateRoot, { recursive: true, force: true });
  }
}

/** Each call goes to one of the client's hosts at random: a few tries reach one that answers. */
async function anyHost<T>(f: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 12; i++) {
    try {
      return await f();
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Polls an async condition every 100 ms until it holds (an error counts as "not yet"). */
export async function eventually(pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  let last = '';
  for (;;) {
    try {
      if (await pred()) return performance.now() - t0;
    } catch (e) {
      last = (e as Error).message;
    }
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
