/**
 * A real etcd (Debian's etcd-server) on loopback for tests: free ports, a data directory under /dev/shm when it
 * has room (a fresh data directory takes about 123 MB) or else os.tmpdir(), stopped by PID (waiting until it is
 * gone), data removed at cleanup. `restart()` stops it and starts it again on the same ports and data.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdServer, startEtcdServer } from '../../src/system/etcd-server.js';
import { isRunning } from '../../src/system/process.js';

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
  let server: EtcdServer | undefined;
  const t: TestEtcd = {
    url: `http://127.0.0.1:${clientPort}`,
    clientPort,
    dataDir,
    pid: () => server?.pid,
    start: async () => {
      if (server) return;
      server = await startEtcdServer({ dataDir: join(dataDir, 'data'), name, clientPort, peerPort });
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
