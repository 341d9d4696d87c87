/**
 * A real systemd user manager for tests, on a machine where PID 1 is not systemd (environment notes §7).
 *
 * `systemd --user` runs once `/run/systemd/system` exists (the "booted with systemd" marker). We create that
 * marker only inside a private mount namespace that holds the manager alone, so neither the host's /run nor the
 * test process is changed:
 *
 *   unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/system \
 *     && exec /lib/systemd/systemd --user'
 *
 * with XDG_RUNTIME_DIR and HOME in fresh mkdtemp directories and DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus.
 *
 * The session bus: the manager's own `dbus.socket` (Debian's dbus-user-session) listens on $XDG_RUNTIME_DIR/bus and
 * starts dbus-daemon as the manager's child on the first connection. A dbus-daemon we would start ourselves on that
 * path is of no use: the manager's dbus.socket unlinks the path and binds it again, and with dbus.socket masked the
 * manager never attaches its API to any bus (it does so only once dbus.socket and dbus.service run). Measured here:
 * both variants, the first left an unreachable daemon behind, the second never answered. So the bus is the
 * manager's, it stops with the manager, and everything the manager started is its child.
 *
 * Its own cgroup: every manager runs in a fresh cgroup `mgmt-test-<random>` at the root of each cgroup hierarchy (the
 * shell moves itself there before it execs the manager). Without it, managers started from the same cgroup (two test
 * files at once, or another worktree's tests) create the same `/app.slice/<unit>` and `/session.slice/dbus.service`
 * cgroups, and one manager stopping a unit kills the other's processes in it: measured here, stopping one manager
 * killed the other's dbus-daemon and its units (the other tests then saw EPIPE on connect). stop() removes the cgroups.
 *
 * Ready: the manager answers Properties.Get(Manager.SystemState) with running or degraded, within a deadline.
 * stop(): SIGTERM to the manager by PID (it stops its units and the bus, ~0.03-0.3 s), SIGKILL after a deadline, then
 * SIGKILL to any process of its tree still alive (by the PIDs recorded before the SIGTERM), then the temp dirs go.
 * A process 'exit' hook does the same synchronously, so a crashed test leaves nothing behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dbus from 'dbus-next';

const SYSTEMD = '/lib/systemd/systemd';
const DBUS_SOCKET_UNIT = '/usr/lib/systemd/user/dbus.socket';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** The harness cannot run here; the reason says why (tests skip with it). */
export class UserSystemdUnavailable extends Error {}

export interface UserSystemd {
  /** XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS and HOME of the manager: give them to anything that talks to it. */
  readonly env: Readonly<Record<string, string>>;
  readonly home: string;
  /** `$HOME/.config/systemd/user`: unit files go here. */
  readonly unitDir: string;
  readonly busAddress: string;
  /** The manager's PID. */
  readonly pid: number;
  /** The manager's own cgroups (one per hierarchy), removed by stop(). */
  readonly cgroups: readonly string[];
  /** Runs `systemctl --user ARGS` against this manager, as on a machine booted with systemd (bounded: 10 s). */
  systemctl(...args: string[]): { code: number; stdout: string; stderr: string };
  /** Reads a property of the Manager or of a unit interface over D-Bus. */
  unitProperty(unit: string, prop: string, iface?: string): Promise<unknown>;
  /** Calls a Manager method (StartUnit, StopUnit, LoadUnit...) over D-Bus and returns the reply body. */
  managerCall(member: string, signature: string, body: unknown[]): Promise<unknown[]>;
  /** The manager's log so far (its stderr). */
  log(): string;
  /** Stops the manager and everything it started, removes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

/** Why the harness cannot run on this machine, or undefined when it can (checked once per process). */
let probed: string | undefined | null = null;
export function unavailableReason(): string | undefined {
  if (probed !== null) return probed;
  probed = probe();
  return probed;
}

function probe(): string | undefined {
  if (process.platform !== 'linux') return 'systemd user manager tests need Linux';
  if (!existsSync(SYSTEMD)) return `${SYSTEMD} is missing (install the systemd package)`;
  if (!existsSync(DBUS_SOCKET_UNIT)) return `${DBUS_SOCKET_UNIT} is missing (install dbus-user-session: the user manager's session bus)`;
  if (!existsSync('/run/systemd')) return '/run/systemd does not exist, so there is no mount point for the private tmpfs';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error) return `cannot run unshare: ${r.error.message}`;
  if (r.status !== 0)
    return `a private mount namespace with a tmpfs on /run/systemd is not permitted here (unshare -m, mount): ${(r.stderr || '').trim() || `exit ${r.status}`}`;
  if (cgroupMounts().length === 0) return 'no cgroup hierarchy is mounted (systemd --user needs one)';
  try {
    removeCgroups(makeCgroups(`mgmt-test-probe-${process.pid}`));
  } catch (e) {
    return `cannot create a cgroup for the manager (${(e as Error).message})`;
  }
  return undefined;
}

/** Mount points of every cgroup hierarchy (v1 controllers, name=systemd, the v2 unified one). */
function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]!)
    .filter((mp) => existsSync(join(mp, 'cgroup.procs')));
}

/** Creates `name` under the root of every cgroup hierarchy; returns the directories. */
function makeCgroups(name: string): string[] {
  const dirs: string[] = [];
  try {
    for (const mp of cgroupMounts()) {
      const d = join(mp, name);
      mkdirSync(d);
      dirs.push(d);
      // A v1 cpuset takes no process until it has CPUs and memory nodes: the root's.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(d, f)) && readFileSync(join(d, f), 'utf8').trim() === '') writeFileSync(join(d, f), readFileSync(join(mp, f), 'utf8'));
      }
    }
  } catch (e) {
    removeCgroups(dirs);
    throw e;
  }
  return dirs;
}

/** Removes cgroup directories bottom-up; a process still inside (only ours can be) is killed by PID first. */
function removeCgroups(dirs: readonly string[]): void {
  const rm = (d: string, attempt = 0): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return; // gone
    }
    for (const e of entries) rm(join(d, e));
    try {
      rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) return;
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) kill(Number(pid), 'SIGKILL');
      sleepSync(10);
      rm(d, attempt + 1);
    }
  };
  for (const d of dirs) rm(d);
}

/** PIDs of `root` and its descendants, each with its start time (so a recycled PID is never killed). */
function processTree(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  const start = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(e);
      const ppid = Number(f[1]);
      start.set(pid, f[19]!);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<number, string>();
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    const s = start.get(p);
    if (s === undefined) continue;
    out.set(p, s);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Whether `pid` is alive (not a zombie) and still the process that started at `start`. */
function alive(pid: number, start?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f[0] === 'Z' || f[0] === 'X') return false;
    return start === undefined || f[19] === start;
  } catch {
    return false;
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A bounded synchronous wait (for the exit hook, where no timer runs). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

/** One D-Bus call on a short-lived connection to `address` (the harness does not share the code under test's client). */
async function busCall(address: string, msg: ConstructorParameters<typeof dbus.Message>[0], timeoutMs = 2000): Promise<unknown[]> {
  const bus = dbus.sessionBus({ busAddress: address });
  let failed: (e: unknown) => void = () => {};
  const error = new Promise<never>((_, rej) => (failed = rej));
  bus.on('error', (e: unknown) => failed(e));
  try {
    const reply = await withTimeout(Promise.race([bus.call(new dbus.Message(msg)), error]), timeoutMs, `${msg.interface}.${msg.member}`);
    return (reply?.body ?? []) as unknown[];
  } finally {
    try {
      bus.disconnect();
    } catch {
      // not connected
    }
  }
}

const unwrap = (v: unknown): unknown => (v instanceof dbus.Variant ? (v.value as unknown) : v);

/** Starts a user manager; rejects with UserSystemdUnavailable when this machine cannot run one. */
export async function startUserSystemd(): Promise<UserSystemd> {
  const reason = unavailableReason();
  if (reason) throw new UserSystemdUnavailable(reason);

  const runtimeDir = await mkdtemp(join(tmpdir(), 'mgmt-xdg-'));
  const home = await mkdtemp(join(tmpdir(), 'mgmt-home-'));
  const unitDir = join(home, '.config', 'systemd', 'user');
  mkdirSync(unitDir, { recursive: true });
  const busAddress = `unix:path=${runtimeDir}/bus`;
  const env = { XDG_RUNTIME_DIR: runtimeDir, DBUS_SESSION_BUS_ADDRESS: busAddress, HOME: home };

  const cgroups = makeCgroups(`mgmt-test-${randomBytes(6).toString('hex')}`);
  const child: ChildProcess = spawn(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `for d in $MGMT_TEST_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 1; done; mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/system && exec ${SYSTEMD} --user`,
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root', MGMT_TEST_CGROUPS: cgroups.join(' '), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(runtimeDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    removeCgroups(cgroups);
    throw new Error('cannot start unshare for the systemd user manager');
  }
  let log = '';
  const keep = (b: Buffer) => {
    log += b.toString();
    if (log.length > 64 * 1024) log = log.slice(-32 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let stopped = false;

  /** Synchronous teardown, for the process 'exit' hook (and the end of stop()). */
  const teardownSync = (tree: Map<number, string>) => {
    if (alive(pid)) {
      kill(pid, 'SIGTERM');
      const t0 = Date.now();
      while (alive(pid) && Date.now() - t0 < STOP_TIMEOUT_MS) sleepSync(10);
      if (alive(pid)) kill(pid, 'SIGKILL');
    }
    for (const [p, start] of tree) if (alive(p, start)) kill(p, 'SIGKILL');
    removeCgroups(cgroups);
    rmSync(runtimeDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  const onExit = () => {
    if (!stopped) teardownSync(processTree(pid));
  };
  process.on('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    const tree = processTree(pid);
    if (!exited) {
      kill(pid, 'SIGTERM');
      let t: NodeJS.Timeout | undefined;
      const late = await Promise.race([exit.then(() => false), new Promise<boolean>((r) => (t = setTimeout(() => r(true), STOP_TIMEOUT_MS)))]);
      clearTimeout(t);
      if (late) {
        kill(pid, 'SIGKILL');
        await exit;
      }
    }
    // The units and the bus are the manager's children; SIGTERM stops them, but make sure of it.
    const t0 = Date.now();
    while ([...tree].some(([p, s]) => p !== pid && alive(p, s)) && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 10));
    teardownSync(tree);
  };

  const managerCall = (member: string, signature: string, body: unknown[]) =>
    busCall(busAddress, {
      destination: 'org.freedesktop.systemd1',
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager',
      member,
      signature,
      body,
    });
  const getProp = async (path: string, iface: string, prop: string) =>
    unwrap(
      (
        await busCall(busAddress, {
          destination: 'org.freedesktop.systemd1',
          path,
          interface: 'org.freedesktop.DBus.Properties',
          member: 'Get',
          signature: 'ss',
          body: [iface, prop],
        })
      )[0],
    );

  // Ready: the socket exists, then the manager answers on it.
  const t0 = Date.now();
  let last = 'no answer yet';
  for (;;) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
    if (exited) {
      await stop();
      throw new Error(`the systemd user manager exited during startup; its log:\n${log.slice(-2000)}`);
    }
    if (Date.now() - t0 > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`the systemd user manager did not answer on ${busAddress} within ${READY_TIMEOUT_MS} ms (${last}); its log:\n${log.slice(-2000)}`);
    }
    if (existsSync(join(runtimeDir, 'bus'))) {
      try {
        const state = await getProp('/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'SystemState');
        if (state === 'running' || state === 'degraded') break;
        last = `SystemState ${String(state)}`;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  return {
    env,
    home,
    unitDir,
    busAddress,
    pid,
    cgroups,
    systemctl: (...args) => {
      // Inside the manager's mount namespace, where /run/systemd/system exists: outside it systemctl thinks systemd
      // is offline and edits enable links itself, without telling the manager (as it would on a real machine).
      const r = spawnSync('nsenter', ['--target', String(pid), '--mount', 'systemctl', '--user', ...args], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- spawnSync leaves stdout/stderr null when the spawn itself fails, whatever the types say
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
    },
    unitProperty: async (unit, prop, iface = 'org.freedesktop.systemd1.Unit') => {
      const [path] = await managerCall('LoadUnit', 's', [unit]);
      return getProp(String(path), iface, prop);
    },
    managerCall,
    log: () => log,
    stop,
  };
}

/** Writes a unit file into the manager's unit directory. */
export function writeUnit(sd: UserSystemd, unit: string, text: string): string {
  const path = join(sd.unitDir, unit);
  writeFileSync(path, text);
  return path;
}

/** Whether the host's /run/systemd carries a mount or a `system` marker (it never should, after a harness run). */
export function hostRunSystemdTouched(): string | undefined {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith('/run/systemd'));
  if (mounts.length) return `mounts on the host's /run/systemd: ${mounts.join('; ')}`;
  if (existsSync('/run/systemd/system')) return '/run/systemd/system exists on the host';
  return undefined;
}
