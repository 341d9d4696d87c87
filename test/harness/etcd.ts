/**
 * A real etcd (Debian's etcd-server) on loopback for tests: free ports, a data directory under /dev/shm when it
 * has room (a fresh data directory takes about 123 MB) or else os.tmpdir(), stopped by PID (waiting until it is
 * gone), data removed at cleanup. `restart()` stops it and starts it again on the same ports and data.
 *
 * These etcds are plain http with short raft timings (heartbeat 10 ms, election 100 ms: healthy in about 0.1 s
 * instead of 0.6 s): the etcd that a `--seeds` host connects to, run by someone else. The etcd mgmt runs itself
 * (`--cluster`, `--etcd-server`) starts through src/world/etcd-member.ts.
 */
import { spawnSync } from 'node:child_process';
import { EC_KEY, makeTestCa, signTestCert } from './test-ca.js';
import { accessSync, constants, readFileSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdIdentityArgv } from '../../src/world/etcd-argv.js';
import { isRunning, type LineProcess, outputTail, type ProcessResult, startLines, SpawnError } from '../../src/system/proc/launcher.js';

export interface TestEtcd {
  readonly url: string;
  readonly clientPort: number;
  readonly dataDir: string;
  pid(): number | undefined;
  /** Stops it (by PID, waiting for exit); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  cleanup(): Promise<void>;
}

const ETCD_BYTES = 300 * 1024 * 1024;

/** Where etcd data goes: /dev/shm when it has room for it, else the temp directory. */
export function etcdDataRoot(): string {
  try {
    const s = statfsSync('/dev/shm');
    if (s.bavail * s.bsize > ETCD_BYTES) return '/dev/shm';
  } catch {
    /* no /dev/shm */
  }
  return tmpdir();
}

/** Whether the etcd binary is installed (else tests skip, saying so). */
export function etcdMissing(): string | undefined {
  for (const d of ['/usr/bin', '/bin', '/usr/local/bin']) {
    if (isExecutable(join(d, 'etcd'))) return undefined;
  }
  return 'etcd is not installed (Debian package etcd-server; scripts/system-deps.mjs installs it)';
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny window remains until etcd binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<TestEtcd>();

export async function startTestEtcd(name = 'test'): Promise<TestEtcd> {
  const dataDir = await mkdtemp(join(etcdDataRoot(), 'mgmt-etcd-test-'));
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  let server: PlainEtcd | undefined;
  const t: TestEtcd = {
    url: `http://127.0.0.1:${clientPort}`,
    clientPort,
    dataDir,
    pid: () => server?.pid,
    start: async () => {
      if (server) return;
      server = await startPlainEtcd({ dataDir: join(dataDir, 'data'), name, clientPort, peerPort });
    },
    stop: async () => {
      const s = server;
      server = undefined;
      if (!s) return;
      await s.stop();
      if (isRunning(s.pid)) throw new Error(`etcd pid ${s.pid} still running after stop`);
    },
    cleanup: async () => {
      live.delete(t);
      await t.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return started(t);
}

/** Tracks `t` for cleanupAllEtcd and starts it; a failed start cleans up. */
async function started<T extends TestEtcd>(t: T): Promise<T> {
  live.add(t);
  try {
    await t.start();
  } catch (e) {
    await t.cleanup();
    throw e;
  }
  return t;
}

/** Stops every etcd a test left running and removes its data. */
export async function cleanupAllEtcd(): Promise<void> {
  await Promise.all([...live].map((t) => t.cleanup()));
}

/** PEM files of a throwaway CA, an etcd server certificate for 127.0.0.1, and a client certificate. */
export interface TestPki {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Makes a CA, a server and a client certificate with openssl (P-256, valid one day) in `dir`. */
export function makePki(dir: string): TestPki {
  makeTestCa(dir, 'mgmt-test-ca', EC_KEY);
  signTestCert(dir, 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n', EC_KEY);
  signTestCert(dir, 'client', 'mgmt-client', 'extendedKeyUsage=clientAuth\n', EC_KEY);
  const p = (f: string) => join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server-key.pem'), clientCert: p('client.pem'), clientKey: p('client-key.pem') };
}

/** Whether openssl is there (for the TLS test). */
export function opensslMissing(): string | undefined {
  return spawnSync('openssl', ['version'], { timeout: 10_000 }).status === 0 ? undefined : 'openssl is not installed';
}

/**
 * An etcd that serves clients over TLS only and requires a client certificate signed by the test CA. Stopped
 * by PID at cleanup like the others.
 */
export async function startTlsEtcd(pki: TestPki): Promise<TestEtcd & { readonly pki: TestPki }> {
  const dataDir = await mkdtemp(join(etcdDataRoot(), 'mgmt-etcd-tls-test-'));
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const url = `https://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const argv = [
    ...etcdArgv({ name: 'tls', dataDir: join(dataDir, 'data'), clientUrl: url, peerUrl: peer }),
    '--cert-file',
    pki.serverCert,
    '--key-file',
    pki.serverKey,
    '--trusted-ca-file',
    pki.ca,
    '--client-cert-auth',
  ];
  let proc: LineProcess | undefined;
  const healthy = () =>
    new Promise<boolean>((resolve) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: clientPort,
          path: '/health',
          timeout: 500,
          ca: readFileSync(pki.ca),
          cert: readFileSync(pki.clientCert),
          key: readFileSync(pki.clientKey),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  const t = {
    url,
    clientPort,
    dataDir,
    pki,
    pid: () => proc?.pid,
    start: async () => {
      if (proc) return;
      proc = await startLines(
        { command: { argv }, env: { PATH: '/usr/bin:/bin:/usr/local/bin' }, killGraceMs: 5000 },
        () => {},
        () => {},
      );
      const deadline = Date.now() + 10_000;
      while (!(await healthy())) {
        if (Date.now() > deadline) throw new Error('the TLS etcd did not become healthy within 10 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: async () => {
      const p = proc;
      proc = undefined;
      if (p) await p.stop();
    },
    cleanup: async () => {
      live.delete(t);
      await t.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return started(t);
}

// ---------------------------------------------------------------------------------------------------------
// The plain etcd process: one member, loopback, started in its own process group and stopped by PID.

export interface PlainEtcdOptions {
  /** The data directory (created if missing). */
  readonly dataDir: string;
  /** The member name (mgmt uses the hostname). */
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /** How long to wait until it answers /health (default 10 s). */
  readonly readyMs?: number;
  /** Each line etcd prints (warnings and errors only, with --log-level warn). */
  readonly onLine?: (line: string) => void;
}

export interface PlainEtcd {
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

export async function startPlainEtcd(opts: PlainEtcdOptions): Promise<PlainEtcd> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const client = `http://127.0.0.1:${opts.clientPort}`;
  const peer = `http://127.0.0.1:${opts.peerPort}`;
  const argv = etcdArgv({ name: opts.name, dataDir: opts.dataDir, clientUrl: client, peerUrl: peer });
  let proc: LineProcess;
  try {
    proc = await startLines(
      // ownerStops: the test stops it; only the exit of the test process kills it outright.
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
