/** The flags every command that runs a graph shares (`mgmt run`, and later `mgmt puppet`). */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { checkHostname, defaultHostname } from '../system/tools/hostname.js';
import type { ClusterFlags, WorldFlags } from '../world/world.js';
import { UsageError } from './usage.js';

export const runFlagOptions = {
  hostname: { type: 'string' },
  'converged-timeout': { type: 'string' },
  noop: { type: 'boolean' },
  sema: { type: 'string' },
  graphviz: { type: 'string' },
  'no-autoedges': { type: 'boolean' },
  'no-autogroup': { type: 'boolean' },
  'tmp-prefix': { type: 'boolean' },
  prefix: { type: 'string' },
  seeds: { type: 'string' },
  'etcd-server': { type: 'boolean' },
  'etcd-server-port': { type: 'string' },
  'etcd-cacert': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
  'etcd-lease-ttl': { type: 'string' },
  cluster: { type: 'boolean' },
  'ideal-cluster-size': { type: 'string' },
  'no-server': { type: 'boolean' },
  'cluster-secret-file': { type: 'string' },
  'client-urls': { type: 'string' },
  'server-urls': { type: 'string' },
  'advertise-client-urls': { type: 'string' },
  'advertise-server-urls': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const runFlagsHelp = `  --hostname NAME           this host's name (default: the machine's hostname)
  --converged-timeout N     exit once nothing but retries of failing resources has happened for N
                            seconds (0: as soon as converged); exit code 1 if a resource is failing.
                            Without it, keep running, repairing drift and retrying failures.
  --noop                    check only: report what would change, change nothing
  --sema N                  at most N resources check/apply at the same time
  --graphviz FILE           write the running graph as DOT to FILE (after each graph swap)
  --no-autoedges            do not add automatic edges (file after its directory, exec after its cwd)
  --no-autogroup            run every resource as its own vertex (no grouping of packages into one transaction)
  --prefix DIR              state directory (default: /var/lib/mgmt as root, else ~/.local/state/mgmt)
  --tmp-prefix              use a new temporary state directory (removed at exit, but for the backups of what was replaced)
  --seeds URL[,URL...]      share exported (@@) resources through this etcd cluster (default: no network;
                            exports are collected by this host only). User and password for etcd come from
                            MGMT_ETCD_USER and MGMT_ETCD_PASSWORD
  --etcd-server             run etcd on this host and use it: the one-host case of --cluster (ideal size 1
                            unless --ideal-cluster-size; loopback unless --client-urls; data in
                            PREFIX/cluster/etcd; TLS with the secret of --cluster-secret-file, else one made in
                            PREFIX/cluster/secret). Other hosts join with --cluster --seeds; stopped on exit
  --etcd-server-port N      its client port (default 2379; the peer port is N+1): short for
                            --client-urls https://127.0.0.1:N --server-urls https://127.0.0.1:N+1
  --etcd-cacert FILE        PEM CA certificate to trust for https:// seeds
  --etcd-cert FILE          PEM client certificate (with --etcd-key)
  --etcd-key FILE           PEM client key
  --etcd-lease-ttl N        seconds after which a host that died stops exporting (default 10)
  --cluster                 form a cluster with the other hosts: the first host (no --seeds) starts etcd,
                            others join through --seeds; an elected coordinator keeps the number of etcd
                            members at the ideal size, each run by a host (data in PREFIX/cluster/etcd)
  --ideal-cluster-size N    how many members the cluster keeps (default 5, with --etcd-server 1; the first
                            host's value holds)
  --no-server               with --cluster: never make this host a member (a client only)
  --cluster-secret-file F   the cluster's shared secret (16 bytes or more): every connection is TLS with
                            certificates from it, and a host without it cannot join. Or peer TLS:
                            --etcd-cacert, --etcd-cert, --etcd-key (the host's certificate, server and client)
  --client-urls URL[,URL]   where this host's member serves clients (default https://127.0.0.1:2379)
  --server-urls URL[,URL]   where it talks to the other members (default https://127.0.0.1:2380)
  --advertise-client-urls URL[,URL]  the client URLs others use (default: --client-urls)
  --advertise-server-urls URL[,URL]  the member URLs others use (default: --server-urls)
  -v, --verbose             debug logging (events, pokes, timings)`;

export interface RunFlags {
  readonly hostname: string;
  readonly convergedTimeout: number | undefined;
  readonly noop: boolean;
  readonly sema: number | undefined;
  readonly graphviz: string | undefined;
  readonly autoEdges: boolean;
  readonly autoGroup: boolean;
  readonly prefix: string;
  readonly verbose: boolean;
  readonly world: WorldFlags;
}

type Values = { [K in keyof typeof runFlagOptions]?: (typeof runFlagOptions)[K]['type'] extends 'boolean' ? boolean : string };

export async function resolveRunFlags(v: Values): Promise<RunFlags> {
  const hostname = v.hostname ?? defaultHostname();
  const bad = checkHostname(hostname);
  if (bad) throw new UsageError(`--hostname ${JSON.stringify(hostname)}: ${bad}`);
  if (v['tmp-prefix'] && v.prefix) throw new UsageError('--tmp-prefix and --prefix exclude each other: choose one');
  const world = worldFlags(v); // before a temporary prefix is made, so that a usage error leaves nothing behind
  const prefix = v['tmp-prefix'] ? await temporaryPrefix() : (v.prefix ?? defaultPrefix());
  return {
    hostname,
    convergedTimeout: v['converged-timeout'] === undefined ? undefined : number('--converged-timeout', v['converged-timeout'], 0),
    noop: v.noop ?? false,
    sema: v.sema === undefined ? undefined : number('--sema', v.sema, 1),
    graphviz: v.graphviz,
    autoEdges: !v['no-autoedges'],
    autoGroup: !v['no-autogroup'],
    prefix,
    verbose: v.verbose ?? false,
    world,
  };
}

function worldFlags(v: Values): WorldFlags {
  const seeds = (v.seeds ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of seeds) {
    let u: URL | undefined;
    try {
      u = new URL(s);
    } catch {
      u = undefined;
    }
    if (!u || !['http:', 'https:'].includes(u.protocol) || !u.hostname || !u.port) {
      throw new UsageError(`--seeds ${JSON.stringify(s)}: expected an etcd client URL such as http://10.0.0.1:2379`);
    }
  }
  const oneHost = v['etcd-server'] === true;
  if (v.cluster && oneHost) {
    throw new UsageError('--etcd-server is the one-host case of --cluster (a single etcd on this host): choose one');
  }
  if (oneHost && seeds.length > 0) {
    throw new UsageError(
      '--etcd-server starts its own etcd (the first host of a cluster) and uses it; other hosts join it with --cluster --seeds. Drop --seeds here',
    );
  }
  if (oneHost && v['no-server']) throw new UsageError('--no-server never starts etcd, --etcd-server does: choose one');
  if (!v.cluster && !oneHost) {
    const stray = (
      ['ideal-cluster-size', 'no-server', 'cluster-secret-file', 'client-urls', 'server-urls', 'advertise-client-urls', 'advertise-server-urls'] as const
    ).find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --cluster${stray === 'no-server' ? '' : ' or --etcd-server'}`);
  }
  if (!oneHost && v['etcd-server-port'] !== undefined) throw new UsageError('--etcd-server-port needs --etcd-server');
  const tls = { cacert: v['etcd-cacert'], cert: v['etcd-cert'], key: v['etcd-key'] };
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new UsageError('--etcd-cert and --etcd-key go together: give both');
  const hasTls = Object.values(tls).some((x) => x !== undefined);
  if (hasTls && seeds.length === 0 && !v.cluster && !oneHost) throw new UsageError('--etcd-cacert/--etcd-cert/--etcd-key need --seeds');
  const cluster = v.cluster || oneHost ? clusterFlags(v, oneHost) : undefined;
  if (cluster?.noServer && seeds.length === 0) throw new UsageError('--no-server never starts etcd: give --seeds with a member of the cluster to join');
  const plain = cluster ? seeds.find((s) => !s.startsWith('https:')) : undefined;
  if (plain) throw new UsageError(`--seeds ${plain}: a cluster's members serve TLS only: use https://`);
  const peerTls = Boolean(tls.cacert && tls.cert && tls.key);
  if (v.cluster && !cluster?.secretFile && !peerTls) {
    throw new UsageError(
      "--cluster needs the cluster's credentials: --cluster-secret-file FILE (the same secret on every host; make one with: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE), or peer TLS with --etcd-cacert, --etcd-cert and --etcd-key",
    );
  }
  if (oneHost && hasTls && !peerTls) {
    throw new UsageError(
      '--etcd-server with peer TLS needs all of --etcd-cacert, --etcd-cert and --etcd-key (or none: a secret of its own, or --cluster-secret-file)',
    );
  }
  if (cluster?.secretFile && hasTls)
    throw new UsageError('--cluster-secret-file and --etcd-cacert/--etcd-cert/--etcd-key exclude each other: choose one kind of credentials');
  const username = process.env.MGMT_ETCD_USER;
  const password = process.env.MGMT_ETCD_PASSWORD;
  if ((username === undefined) !== (password === undefined)) {
    throw new UsageError('set both MGMT_ETCD_USER and MGMT_ETCD_PASSWORD for etcd authentication, or neither');
  }
  const ttl = v['etcd-lease-ttl'] === undefined ? 10 : number('--etcd-lease-ttl', v['etcd-lease-ttl'], 1);
  if (!Number.isInteger(ttl)) throw new UsageError(`--etcd-lease-ttl ${ttl}: expected whole seconds`);
  return {
    seeds,
    ...(hasTls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, x]) => x !== undefined)) } : {}),
    ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}),
    ttl,
    ...(cluster ? { cluster } : {}),
  };
}

function clusterFlags(v: Values, oneHost: boolean): ClusterFlags {
  // --etcd-server: a cluster of one unless told otherwise; --cluster: five.
  const ideal = v['ideal-cluster-size'] === undefined ? (oneHost ? 1 : 5) : number('--ideal-cluster-size', v['ideal-cluster-size'], 1);
  if (!Number.isInteger(ideal) || ideal > 99) throw new UsageError(`--ideal-cluster-size ${ideal}: expected a whole number from 1 to 99 (3 or 5 is usual)`);
  let port = 2379;
  if (v['etcd-server-port'] !== undefined) {
    port = number('--etcd-server-port', v['etcd-server-port'], 1);
    if (!Number.isInteger(port) || port > 65534) throw new UsageError(`--etcd-server-port ${port}: expected a port from 1 to 65534`);
    const both = (['client-urls', 'server-urls'] as const).find((f) => v[f] !== undefined);
    if (both) throw new UsageError(`--etcd-server-port and --${both} both say where etcd listens: choose one`);
  }
  const clientUrls = urls('--client-urls', v['client-urls'] ?? `https://127.0.0.1:${port}`);
  const serverUrls = urls('--server-urls', v['server-urls'] ?? `https://127.0.0.1:${port + 1}`);
  const advertise = (flag: string, text: string | undefined, listen: readonly string[], listenFlag: string) => {
    if (text !== undefined) return urls(flag, text);
    const wild = listen.find((u) => ['0.0.0.0', '[::]'].includes(new URL(u).hostname));
    if (wild) throw new UsageError(`${listenFlag} ${wild} listens on every address: give ${flag} with the address other hosts reach this one at`);
    return listen;
  };
  return {
    ideal,
    idealGiven: v['ideal-cluster-size'] !== undefined,
    noServer: v['no-server'] ?? false,
    ...(oneHost ? { oneHost } : {}),
    ...(v['cluster-secret-file'] !== undefined ? { secretFile: v['cluster-secret-file'] } : {}),
    clientUrls,
    serverUrls,
    advertiseClientUrls: advertise('--advertise-client-urls', v['advertise-client-urls'], clientUrls, '--client-urls'),
    advertiseServerUrls: advertise('--advertise-server-urls', v['advertise-server-urls'], serverUrls, '--server-urls'),
  };
}

/** A list of https URLs with a host and a port (cluster traffic is TLS only). */
function urls(flag: string, text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new UsageError(`${flag}: expected at least one URL such as https://10.0.0.1:2379`);
  for (const s of list) {
    let u: URL | undefined;
    try {
      u = new URL(s);
    } catch {
      u = undefined;
    }
    if (!u?.hostname || !u.port || (u.pathname !== '/' && u.pathname !== '')) {
      throw new UsageError(`${flag} ${JSON.stringify(s)}: expected a URL such as https://10.0.0.1:2379`);
    }
    if (u.protocol !== 'https:') throw new UsageError(`${flag} ${JSON.stringify(s)}: cluster traffic is TLS only: use https://`);
  }
  return list;
}

function number(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`${flag} ${text}: expected a number >= ${min}`);
  return n;
}

/** The state directory when no --prefix is given: /var/lib/mgmt as root, else ~/.local/state/mgmt (XDG). */
export function defaultPrefix(): string {
  return process.getuid?.() === 0 ? '/var/lib/mgmt' : join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'mgmt');
}

/**
 * A new temporary state directory. At exit its empty directories go, and so does it when nothing is left in it:
 * whatever a run kept there (the backup bucket's copies of what it replaced, resources' state) stays.
 */
async function temporaryPrefix(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mgmt-'));
  process.once('exit', () => removeTemporaryPrefix(dir));
  return dir;
}

/**
 * At exit, a --tmp-prefix directory goes, but for its backups: what a run keeps there for itself (the host's key,
 * Puppet's private home, resources' state) serves no later run, which gets a new directory; the backups of what it
 * replaced are the user's data, so a bucket with backups stays, and stderr says where.
 */
function removeTemporaryPrefix(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // gone already
  }
  for (const e of entries) if (e.name !== 'bucket') rmSync(join(dir, e.name), { recursive: true, force: true });
  removeEmptyDirs(dir);
  if (existsSync(dir)) {
    process.stderr.write(
      `mgmt: the backups of what this run replaced are kept in ${join(dir, 'bucket')} (mgmt bucket list --prefix ${dir}); remove ${dir} once they are not needed\n`,
    );
  }
}

/** Removes `dir` and the directories below it that are empty, deepest first; never a file, never through a symlink. */
function removeEmptyDirs(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyDirs(join(dir, e.name));
    rmdirSync(dir);
  } catch {
    // not empty, or gone: left as it is
  }
}
