/**
 * The member launcher of a self-formed cluster: starts Debian's `etcd` (package etcd-server, 3.4) as one member,
 * TLS on both sides (cluster-pki.ts), data under the state directory, in its own process group, stopped by PID.
 *
 * Three ways to start:
 * - `new`: the first host bootstraps a one-member cluster;
 * - `existing`: the coordinator added this host (MemberAdd, as a learner) and handed it the member list;
 * - `restart`: the data directory holds a member already (after a restart of the host): etcd reads the cluster
 *   from it and ignores the initial flags.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { type LineProcess, type ProcessResult, SpawnError, startLines } from '../system/proc/launcher.js';
import type { ClusterTls } from './cluster-pki.js';
import { etcdIdentityArgv } from './etcd-argv.js';

/** Where a member listens and what it tells the others (mgmt's `--client-urls`, `--server-urls`, ...). */
export interface MemberUrls {
  readonly listenClient: readonly string[];
  readonly listenPeer: readonly string[];
  readonly advertiseClient: readonly string[];
  readonly advertisePeer: readonly string[];
}

export type MemberStart = { readonly how: 'new' } | { readonly how: 'existing'; readonly initialCluster: string } | { readonly how: 'restart' };

export interface MemberOptions {
  readonly name: string;
  readonly dataDir: string;
  readonly urls: MemberUrls;
  readonly tls: ClusterTls;
  readonly start: MemberStart;
  /**
   * A member that stays alone (`--etcd-server` with ideal size 1: no other member can ever be added): heartbeat
   * 10 ms and election 100 ms, so that it leads within about 0.1 s of its start instead of up to 1 s. A member of a
   * cluster that may grow keeps etcd's defaults (100 ms, 1 s), which suit a LAN.
   */
  readonly alone?: boolean;
  /** Each line etcd prints (warnings and errors only). */
  readonly onLine?: (line: string) => void;
}

export interface EtcdMember {
  readonly pid: number;
  readonly exited: Promise<ProcessResult>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
  stop(): Promise<void>;
  /** SIGTERM to its group without waiting. */
  kill(): void;
}

/** Whether `dataDir` holds a member (etcd's `member/` directory). */
export async function hasMemberData(dataDir: string): Promise<boolean> {
  try {
    return (await stat(join(dataDir, 'member'))).isDirectory();
  } catch {
    return false;
  }
}

/** Deletes a member's data (after it was removed from the cluster). */
export async function deleteMemberData(dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
}

export function memberArgv(o: MemberOptions): string[] {
  const u = o.urls;
  const t = o.tls;
  const argv = [
    ...etcdIdentityArgv({ name: o.name, dataDir: o.dataDir, ...u }),
    // Clients and peers alike show a certificate of the cluster's CA.
    '--cert-file',
    t.cert,
    '--key-file',
    t.key,
    '--trusted-ca-file',
    t.cacert,
    '--client-cert-auth',
    '--peer-cert-file',
    t.cert,
    '--peer-key-file',
    t.key,
    '--peer-trusted-ca-file',
    t.cacert,
    '--peer-client-cert-auth',
    // Raft on a LAN: heartbeat 100 ms, election 1 s (etcd's defaults), kept explicit; alone: 10 ms, 100 ms.
    '--heartbeat-interval',
    o.alone ? '10' : '100',
    '--election-timeout',
    o.alone ? '100' : '1000',
    // etcd itself refuses a membership change that would leave the cluster without quorum.
    '--strict-reconfig-check',
  ];
  if (o.start.how === 'new') argv.push('--initial-cluster', `${o.name}=${u.advertisePeer[0]}`, '--initial-cluster-state', 'new');
  else if (o.start.how === 'existing') argv.push('--initial-cluster', o.start.initialCluster, '--initial-cluster-state', 'existing');
  return argv;
}

export async function startMember(o: MemberOptions): Promise<EtcdMember> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  let proc: LineProcess;
  try {
    proc = await startLines(
      // ownerStops: the cluster agent stops it gracefully at shutdown; only the exit of mgmt kills it outright.
      { command: { argv: memberArgv(o) }, env: { PATH: '/usr/bin:/bin:/usr/local/bin' }, killGraceMs: 5000, tailLines: 10, ownerStops: true },
      (_stream, line) => o.onLine?.(line),
      () => {},
    );
  } catch (e) {
    if (e instanceof SpawnError && e.code === 'ENOENT') {
      throw new Error(`cannot start etcd: ${e.message}; install Debian's etcd-server package (apt-get install etcd-server)`);
    }
    throw e;
  }
  return {
    pid: proc.pid,
    exited: proc.exited,
    stop: async () => {
      await proc.stop();
    },
    kill: () => proc.signal('SIGTERM'),
  };
}

/** TLS options for a probe or a client: the cluster's CA, this host's certificate. */
export interface TlsFiles {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function readTls(t: ClusterTls): TlsFiles {
  return { ca: readFileSync(t.cacert), cert: readFileSync(t.cert), key: readFileSync(t.key) };
}

/**
 * Whether the member at `clientUrl` answers GET /health with `"health":"true"` (it has a leader and its cluster
 * a quorum), each probe at most `ms`.
 */
export async function memberHealthy(clientUrl: string, tls: TlsFiles, ms = 800): Promise<boolean> {
  return (await probeMember(clientUrl, tls, ms)) === undefined;
}

/** Probes a member's /health: undefined when healthy, else why not (for messages). */
export function probeMember(clientUrl: string, tls: TlsFiles, ms = 800): Promise<string | undefined> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL('/health', clientUrl);
    } catch {
      resolve('not a URL');
      return;
    }
    const req = request(
      { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: '/health', timeout: ms, ca: tls.ca, cert: tls.cert, key: tls.key },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve(
            res.statusCode === 200 && /"health":\s*"true"/.test(body) ? undefined : `unhealthy (HTTP ${res.statusCode ?? '?'}: ${body.trim().slice(0, 200)})`,
          ),
        );
        res.on('error', (e) => resolve(e.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ms} ms`)));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}
