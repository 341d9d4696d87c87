/**
 * A local etcd server (`mgmt run --etcd-server`): Debian's `etcd` binary (package etcd-server, 3.4), one member,
 * bound to loopback, data in the given directory, started with short raft timings (heartbeat 10 ms, election
 * 100 ms: healthy in about 0.1 s instead of 0.6 s). It runs in its own process group and is stopped by PID
 * (SIGTERM, SIGKILL after 5 s), waiting until it is gone.
 *
 * A fresh data directory takes about 123 MB (two preallocated 64 MB WAL files).
 */
import { request } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { type LineProcess, outputTail, type ProcessResult, startLines, SpawnError } from '../system/proc/launcher.js';
import { etcdIdentityArgv } from './etcd-argv.js';

export interface EtcdServerOptions {
  /** The data directory (created if missing). */
  readonly dataDir: string;
  /** The member name (mgmt uses the hostname). */
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /** The etcd executable (default: `etcd` on /usr/bin:/bin:/usr/local/bin). */
  readonly bin?: string;
  /** How long to wait until it answers /health (default 10 s). */
  readonly readyMs?: number;
  /** Each line etcd prints (warnings and errors only, with --log-level warn). */
  readonly onLine?: (line: string) => void;
}

export interface EtcdServer {
  readonly pid: number;
  /** The client URL, `http://127.0.0.1:<clientPort>`. */
  readonly url: string;
  /** Resolves when the process has exited (by itself or stopped). */
  readonly exited: Promise<ProcessResult>;
  /** Stops it (SIGTERM, then SIGKILL) and waits until it is gone. */
  stop(): Promise<void>;
  /** Sends SIGTERM to its process group without waiting (for a process that is about to exit). */
  kill(): void;
}

/**
 * The command line of a single-member etcd on loopback: `clientUrl` and `peerUrl` as given (http, or https when the
 * caller adds TLS flags), warnings and errors only, and a fast heartbeat and election (one member, no network).
 */
export function etcdArgv(o: {
  readonly bin?: string;
  readonly name: string;
  readonly dataDir: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
}): string[] {
  const client = [o.clientUrl];
  const peer = [o.peerUrl];
  return [
    ...etcdIdentityArgv({ ...o, listenClient: client, advertiseClient: client, listenPeer: peer, advertisePeer: peer }),
    '--initial-cluster',
    `${o.name}=${o.peerUrl}`,
    '--heartbeat-interval',
    '10',
    '--election-timeout',
    '100',
  ];
}

export async function startEtcdServer(opts: EtcdServerOptions): Promise<EtcdServer> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const client = `http://127.0.0.1:${opts.clientPort}`;
  const peer = `http://127.0.0.1:${opts.peerPort}`;
  const argv = etcdArgv({ ...(opts.bin !== undefined ? { bin: opts.bin } : {}), name: opts.name, dataDir: opts.dataDir, clientUrl: client, peerUrl: peer });
  let proc: LineProcess;
  try {
    proc = await startLines(
      // ownerStops: at shutdown the world link stops it gracefully; only the exit of mgmt kills it outright.
      { command: { argv }, env: { PATH: '/usr/bin:/bin:/usr/local/bin' }, killGraceMs: 5000, tailLines: 10, ownerStops: true },
      (_stream, line) => opts.onLine?.(line),
      () => {},
    );
  } catch (e) {
    if (e instanceof SpawnError && e.code === 'ENOENT') {
      throw new Error(`cannot start etcd: ${e.message}; install Debian's etcd-server package (apt-get install etcd-server)`);
    }
    throw e;
  }
  let exitedEarly: ProcessResult | undefined;
  void proc.exited.then((r) => (exitedEarly = r));
  const deadline = Date.now() + (opts.readyMs ?? 10_000);
  while (!(await healthy(opts.clientPort))) {
    if (exitedEarly) {
      const tail = outputTail(exitedEarly);
      throw new Error(`etcd exited before it was ready (code ${exitedEarly.code ?? exitedEarly.signal})${tail ? `: ${tail}` : ''}`);
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`etcd did not answer ${client}/health within ${((opts.readyMs ?? 10_000) / 1000).toFixed(0)} s; stopped it`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    pid: proc.pid,
    url: client,
    exited: proc.exited,
    stop: async () => {
      await proc.stop();
    },
    kill: () => proc.signal('SIGTERM'),
  };
}

/** Whether etcd answers GET /health with `"health":"true"` (each probe at most 500 ms). */
export function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
