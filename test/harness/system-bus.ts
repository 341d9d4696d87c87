/**
 * A D-Bus system bus (and PackageKit on it) for tests, on a machine where nothing starts one at boot
 * (environment notes §6).
 *
 * `useSystemBus()`:
 * - a bus that is already running and that no harness started is used and left alone;
 * - otherwise stale `/run/dbus/pid` and socket files (dbus-daemon leaves both behind after SIGTERM, and then
 *   refuses to start) are deleted and `dbus-daemon --system --fork --print-pid` starts one.
 * Several test processes may use the bus at once (node's runner runs files in parallel): who uses a bus a harness
 * started is recorded in a state file under /run, guarded by a lock directory, and the last one to `release()`
 * stops it. Stopping is by PID only: first the services the bus activated (packagekitd, polkitd: their PIDs as
 * the bus reports them, plus any such process started after the bus, found in /proc, since they are re-parented
 * to pid 1 and not children of the bus), then the bus itself, then the stale files.
 *
 * `usePackageKit()` adds: PackageKit is installed, answers, and can resolve the probe packages; when the package
 * lists are empty (a fresh machine) it runs one RefreshCache. When any of this fails the result carries the
 * reason, and tests skip with it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connectBus } from '../../src/system/dbus/bus.js';
import { PackageKit, Filter } from '../../src/system/dbus/packagekit.js';
import { allProcs, isRunning } from '../../src/system/proc/proc-table.js';

const DBUS_DAEMON = '/usr/bin/dbus-daemon';
const PID_FILE = '/run/dbus/pid';
const SOCKET = '/run/dbus/system_bus_socket';
const STATE = '/run/mgmt-ts-test-system-bus.json';
const LOCK = '/run/mgmt-ts-test-system-bus.lock';
/** Services the bus starts by activation, by executable. */
const ACTIVATED = ['/usr/libexec/packagekitd', '/usr/lib/polkit-1/polkitd'];
const ACTIVATED_NAMES = ['org.freedesktop.PackageKit', 'org.freedesktop.PolicyKit1'];

interface State {
  busPid: number;
  /** The bus's start time in clock ticks after boot (/proc/<pid>/stat field 22). */
  busStart: number;
  users: number[];
}

export interface Bus {
  /** Set when tests that need the bus cannot run, with the reason. */
  readonly skip?: string;
  /** A harness started this bus (rather than finding one running). */
  readonly ours: boolean;
  /** Drops this process's use; the last user of a bus a harness started stops it and what it activated. */
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startTime(pid: number): number | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(t.slice(t.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function exe(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(readFileSync(`${LOCK}/pid`, 'utf8').trim() || '0');
      } catch {
        // just created, its pid not written yet; or left by a process that died in between (old enough: stale)
        const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 5000) rmSync(LOCK, { recursive: true, force: true });
      }
      if (holder && !isRunning(holder)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`system-bus harness: ${LOCK} is held by pid ${holder || '?'} for 30 s`);
      await sleep(10);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function readState(): State | undefined {
  try {
    const s = JSON.parse(readFileSync(STATE, 'utf8')) as State;
    s.users = s.users.filter((p) => isRunning(p));
    return s;
  } catch {
    return undefined;
  }
}

/** Whether the socket accepts a connection. */
function socketAlive(): Promise<boolean> {
  if (!existsSync(SOCKET)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const c = connect(SOCKET);
    const done = (ok: boolean) => {
      c.destroy();
      resolve(ok);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    setTimeout(() => done(false), 2000).unref();
  });
}

/** The running system bus's PID (0: one runs, PID unknown), or undefined when none runs. */
async function runningBus(): Promise<number | undefined> {
  const pid = existsSync(PID_FILE) ? Number(readFileSync(PID_FILE, 'utf8').trim()) : NaN;
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid) && comm(pid) === 'dbus-daemon') return pid;
  return (await socketAlive()) ? 0 : undefined;
}

function removeStaleFiles(): void {
  for (const f of [PID_FILE, SOCKET]) {
    try {
      unlinkSync(f);
    } catch {
      // not there
    }
  }
}

export async function useSystemBus(): Promise<Bus> {
  if (process.getuid?.() !== 0) return { skip: 'starting the D-Bus system bus needs root', ours: false, release: async () => {} };
  if (!existsSync(DBUS_DAEMON)) return { skip: `${DBUS_DAEMON} is missing (Debian package dbus-daemon)`, ours: false, release: async () => {} };
  return withLock(async () => {
    const state = readState();
    const pid = await runningBus();
    if (pid !== undefined) {
      if (pid === state?.busPid) {
        state.users.push(process.pid);
        writeFileSync(STATE, JSON.stringify(state));
        return { ours: true, release: () => release(true) };
      }
      // Somebody else's bus: use it, leave it running.
      if (state) rmSync(STATE, { force: true });
      return { ours: false, release: async () => {} };
    }
    removeStaleFiles();
    let out: string;
    try {
      out = execFileSync(DBUS_DAEMON, ['--system', '--fork', '--print-pid'], { encoding: 'utf8', timeout: 10_000 });
    } catch (e) {
      return { skip: `dbus-daemon --system did not start: ${(e as Error).message}`, ours: false, release: async () => {} };
    }
    const busPid = Number(out.trim().split('\n')[0]);
    const deadline = Date.now() + 5000;
    while (!(await socketAlive())) {
      if (Date.now() > deadline)
        return { skip: `dbus-daemon --system (pid ${busPid}) did not open ${SOCKET} within 5 s`, ours: false, release: async () => {} };
      await sleep(5);
    }
    writeFileSync(STATE, JSON.stringify({ busPid, busStart: startTime(busPid) ?? 0, users: [process.pid] } satisfies State));
    return { ours: true, release: () => release(true) };
  });
}

async function release(ours: boolean): Promise<void> {
  if (!ours) return;
  await withLock(async () => {
    const state = readState();
    if (!state) return;
    state.users = state.users.filter((p) => p !== process.pid);
    if (state.users.length > 0) {
      writeFileSync(STATE, JSON.stringify(state));
      return;
    }
    await stopBus(state);
    rmSync(STATE, { force: true });
  });
}

/** PIDs of the activated services: as the bus reports them, plus any started after the bus (they live under pid 1). */
async function activatedPids(state: State): Promise<Set<number>> {
  const pids = new Set<number>();
  const conn = await connectBus('system', 2000).catch(() => undefined);
  if (conn) {
    for (const name of ACTIVATED_NAMES) {
      const [pid] = await conn
        .call({
          destination: 'org.freedesktop.DBus',
          path: '/org/freedesktop/DBus',
          interface: 'org.freedesktop.DBus',
          member: 'GetConnectionUnixProcessID',
          signature: 's',
          body: [name],
          timeoutMs: 2000,
        })
        .catch(() => [undefined]);
      if (typeof pid === 'number' && pid > 0) pids.add(pid);
    }
    conn.release();
  }
  for (const pid of allProcs().keys()) {
    const started = startTime(pid);
    if (started !== undefined && started >= state.busStart && ACTIVATED.includes(exe(pid)) && isRunning(pid)) pids.add(pid);
  }
  return pids;
}

async function stopPids(pids: Iterable<number>): Promise<void> {
  const list = [...pids].filter((p) => isRunning(p));
  for (const p of list) process.kill(p, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (list.some((p) => isRunning(p)) && Date.now() < deadline) await sleep(10);
  for (const p of list) if (isRunning(p)) process.kill(p, 'SIGKILL');
  while (list.some((p) => isRunning(p)) && Date.now() < deadline + 2000) await sleep(10);
}

async function stopBus(state: State): Promise<void> {
  if (!isRunning(state.busPid) || comm(state.busPid) !== 'dbus-daemon') return;
  await stopPids(await activatedPids(state));
  await stopPids([state.busPid]);
  removeStaleFiles();
}

export interface PackageKitEnv extends Bus {
  readonly pk?: PackageKit;
}

/**
 * The system bus plus a PackageKit that resolves every probe package (default `sl`). Runs RefreshCache once when
 * it resolves none of them (empty package lists). `skip` says why PackageKit tests cannot run.
 */
export async function usePackageKit(probe: readonly string[] = ['sl']): Promise<PackageKitEnv> {
  const bus = await useSystemBus();
  if (bus.skip) return bus;
  const skip = async (why: string): Promise<PackageKitEnv> => {
    await bus.release();
    return { skip: why, ours: bus.ours, release: async () => {} };
  };
  if (!existsSync(ACTIVATED[0]!)) return skip(`${ACTIVATED[0]} is missing (Debian package packagekit; scripts/system-deps.mjs installs it)`);
  let pk: PackageKit;
  try {
    pk = await PackageKit.connect();
  } catch (e) {
    return skip((e as Error).message);
  }
  try {
    const missing = async () => {
      const found = new Set((await pk.resolve(probe, Filter.NONE, { timeoutMs: 60_000 })).map((p) => p.name));
      return probe.filter((n) => !found.has(n));
    };
    let gone = await missing();
    if (gone.length > 0) {
      await pk.refreshCache(false, { timeoutMs: 300_000 });
      gone = await missing();
    }
    if (gone.length > 0) {
      pk.release();
      // eslint-disable-next-line @typescript-eslint/return-await -- a failure of skip() itself must not reach the catch below (it would release twice)
      return skip(`PackageKit cannot resolve ${gone.join(', ')} even after a RefreshCache (no package lists, or no network?)`);
    }
  } catch (e) {
    pk.release();
    return skip(`PackageKit does not work here: ${(e as Error).message}`);
  }
  return {
    ours: bus.ours,
    pk,
    release: async () => {
      pk.release();
      await bus.release();
    },
  };
}
