/**
 * A client of systemd's manager (`org.freedesktop.systemd1`) over D-Bus: the system manager on the system bus, or
 * a user's manager (`systemd --user`) on the session bus. What the `svc` resource needs and nothing more: load a
 * unit and read its state, run start/stop/restart jobs and wait for their results, enable/disable unit files,
 * daemon-reload, and the signals that say a unit may have changed.
 *
 * Facts this rests on (environment notes §7, systemd's D-Bus API):
 * - `LoadUnit`, never `GetUnit`: systemd garbage-collects inactive units, and `GetUnit` then fails with "not
 *   loaded". `LoadUnit` of a unit with no file answers a unit whose LoadState is `not-found`.
 * - The manager emits signals (JobRemoved, a unit's PropertiesChanged) only while some client is subscribed
 *   (`Subscribe`); the subscription lasts as long as the connection, so it is made once per connection.
 * - A job's result arrives as `JobRemoved(u id, o job, s unit, s result)`, which may be sent before the caller
 *   has read the method reply: the signal is subscribed to before the call, and results are kept until asked for.
 * - Every call has a deadline (the D-Bus client's), and so has every wait for a job.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type BusConnection, busAddress, connectBus, DBusCallError, PROPERTIES_INTERFACE, type Signal } from './bus.js';
import { managerName } from './unit-names.js';

const DEST = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT = 'org.freedesktop.systemd1.Unit';

/** Deadline of one method call. */
export const CALL_TIMEOUT_MS = 10_000;
/** Deadline of a job (longer than systemd's own default start timeout of 90 s, so systemd's verdict comes first). */
export const JOB_TIMEOUT_MS = 120_000;
/** While a job runs longer than this, the caller is told every so often ("still waiting"). */
export const JOB_SLOW_MS = 10_000;

/** The states of a unit that `svc` looks at. */
export interface UnitState {
  readonly unit: string;
  /** The unit's D-Bus object path. */
  readonly path: string;
  /** loaded, not-found, bad-setting, error, masked. */
  readonly loadState: string;
  /** active, reloading, inactive, failed, activating, deactivating. */
  readonly activeState: string;
  readonly subState: string;
  /** enabled, enabled-runtime, linked, linked-runtime, alias, masked, masked-runtime, static, disabled, indirect, generated, transient, bad, or "". */
  readonly unitFileState: string;
  readonly fragmentPath: string;
  readonly needDaemonReload: boolean;
  /** The unit file's load error, when LoadState is error/bad-setting. */
  readonly loadError: string;
}

export type JobMode = 'replace' | 'fail';
export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped';
export type JobMethod = 'StartUnit' | 'StopUnit' | 'RestartUnit' | 'ReloadOrTryRestartUnit';

const JOB_VERB: Record<JobMethod, string> = {
  StartUnit: 'start',
  StopUnit: 'stop',
  RestartUnit: 'restart',
  ReloadOrTryRestartUnit: 'reload-or-try-restart',
};

export interface JobOptions {
  readonly mode?: JobMode;
  /** Deadline for the job to finish (default JOB_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Stops waiting (the job goes on in systemd). */
  readonly signal?: AbortSignal;
  /** Called every JOB_SLOW_MS while the job runs. */
  readonly onSlow?: (waitedMs: number) => void;
}

/** systemd or its bus cannot be reached, or the system manager does not exist on this machine. */
export class SystemdUnavailableError extends Error {}
/** A job did not end with `done`, or did not end in time. */
export class SystemdJobError extends Error {
  constructor(
    message: string,
    /** The job's result; `deadline`: no result in time; `refused`: systemd refused to queue the job. */
    readonly result: JobResult | 'deadline' | 'refused',
  ) {
    super(message);
  }
}

/** `systemctl [--user]` and `journalctl [--user]`, for the hints in messages. */
function ctl(session: boolean, tool: 'systemctl' | 'journalctl'): string {
  return session ? `${tool} --user` : tool;
}

function unwrap(v: unknown): unknown {
  return v !== null && typeof v === 'object' && 'signature' in v && 'value' in v ? (v as { value: unknown }).value : v;
}

function str(v: unknown): string {
  const u = unwrap(v);
  return typeof u === 'string' ? u : '';
}

/** What PID 1 is called, for the "systemd is not the init system" message. */
function pid1Name(): string {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Job results keyed by job path; kept briefly for waiters that register after the signal arrived. */
class JobResults {
  private readonly done = new Map<string, { unit: string; result: JobResult }>();
  private readonly waiters = new Map<string, (r: JobResult) => void>();

  onSignal(s: Signal): void {
    const [, job, unit, result] = s.body as [number, string, string, string];
    const w = this.waiters.get(job);
    if (w) {
      this.waiters.delete(job);
      w(result as JobResult);
      return;
    }
    this.done.set(job, { unit, result: result as JobResult });
    if (this.done.size > 256) this.done.delete(this.done.keys().next().value!);
  }

  /** Resolves with the job's result; `undefined` when `expired` fires first. */
  wait(job: string, expired: Promise<void>): Promise<JobResult | undefined> {
    const got = this.done.get(job);
    if (got) {
      this.done.delete(job);
      return Promise.resolve(got.result);
    }
    return new Promise((resolve) => {
      this.waiters.set(job, resolve);
      void expired.then(() => {
        if (this.waiters.get(job) === resolve) {
          this.waiters.delete(job);
          resolve(undefined);
        }
      });
    });
  }
}

/** Manager subscriptions made on a connection (one `Subscribe` per connection is enough and lasts as long as it). */
const subscribed = new WeakMap<BusConnection, Promise<void>>();

/**
 * One client of one manager. Get it with `Systemd.connect`; `release()` when done (the bus connection is shared
 * with other clients of the same bus).
 */
export class Systemd {
  private jobs: { results: JobResults; unsubscribe: Promise<() => Promise<void>> } | undefined;
  private released = false;

  private constructor(
    readonly session: boolean,
    readonly conn: BusConnection,
  ) {}

  /**
   * Connects to the system manager (`session: false`) or the user's manager (`session: true`), and checks that
   * it answers. Fails fast with a SystemdUnavailableError that says why: PID 1 is not systemd, the bus is not
   * there (naming the address tried), or nothing owns `org.freedesktop.systemd1` on it.
   */
  static async connect(session: boolean, timeoutMs = CALL_TIMEOUT_MS): Promise<Systemd> {
    const scope = session ? 'session' : 'system';
    if (!session && !existsSync('/run/systemd/system')) {
      throw new SystemdUnavailableError(
        `systemd is not the init system on this machine (PID 1 is '${pid1Name()}' and /run/systemd/system does not exist), so there is no systemd system manager to talk to; use \`session: true\` for a user's manager (systemd --user), or run mgmt where systemd is PID 1`,
      );
    }
    let conn: BusConnection;
    try {
      conn = await connectBus(scope, timeoutMs);
    } catch (err) {
      const hint = session
        ? "; the user's manager is reached over the session bus: is `systemd --user` running for this user, with DBUS_SESSION_BUS_ADDRESS (usually unix:path=$XDG_RUNTIME_DIR/bus) set?"
        : '; is dbus running?';
      throw new SystemdUnavailableError(`cannot reach ${managerName(session)}: ${(err as Error).message}${hint}`);
    }
    const sd = new Systemd(session, conn);
    try {
      await sd.getManagerProperty('Version', timeoutMs);
    } catch (err) {
      sd.release();
      const why =
        err instanceof DBusCallError && /ServiceUnknown|NameHasNoOwner|Spawn/.test(err.dbusName)
          ? 'nothing owns org.freedesktop.systemd1 there'
          : (err as Error).message;
      throw new SystemdUnavailableError(`no systemd manager answers on the D-Bus ${scope} bus at ${busAddress(scope)}: ${why}`);
    }
    return sd;
  }

  /** Drops this client's hold on the bus connection (and its job subscription). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const j = this.jobs;
    this.jobs = undefined;
    if (j) void j.unsubscribe.then((u) => u()).catch(() => {});
    this.conn.release();
  }

  private call(member: string, signature = '', body: readonly unknown[] = [], timeoutMs = CALL_TIMEOUT_MS): Promise<unknown[]> {
    return this.conn.call({ destination: DEST, path: MANAGER_PATH, interface: MANAGER, member, signature, body, timeoutMs });
  }

  async getManagerProperty(prop: string, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    return this.conn.getProperty(DEST, MANAGER_PATH, MANAGER, prop, timeoutMs);
  }

  /** Asks the manager to send signals (idempotent per connection; a repeat "already subscribed" is fine). */
  subscribe(): Promise<void> {
    let p = subscribed.get(this.conn);
    if (!p) {
      p = this.call('Subscribe').then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof DBusCallError && err.dbusName.includes('AlreadySubscribed')) return;
          subscribed.delete(this.conn);
          throw err;
        },
      );
      subscribed.set(this.conn, p);
    }
    return p;
  }

  /** Loads the unit (a unit with no file loads as `not-found`) and returns its object path. */
  async loadUnit(unit: string): Promise<string> {
    const [path] = await this.call('LoadUnit', 's', [unit]);
    return String(path);
  }

  /**
   * Loads the unit and reads its states in one GetAll. With `fileStateFromDisk`, UnitFileState comes from the
   * manager's GetUnitFileState, which reads the links on disk (one more round trip), where the unit's own property
   * is cached and lags behind links made without a daemon-reload.
   */
  async unitState(unit: string, fileStateFromDisk = true): Promise<UnitState> {
    const path = await this.loadUnit(unit);
    const [all] = await this.conn.call({
      destination: DEST,
      path,
      interface: PROPERTIES_INTERFACE,
      member: 'GetAll',
      signature: 's',
      body: [UNIT],
      timeoutMs: CALL_TIMEOUT_MS,
    });
    const p = (all ?? {}) as Record<string, unknown>;
    const loadState = str(p.LoadState);
    let unitFileState = str(p.UnitFileState);
    if (loadState === 'loaded' && fileStateFromDisk) {
      unitFileState = await this.call('GetUnitFileState', 's', [unit]).then(
        ([s]) => String(s),
        () => unitFileState,
      );
    }
    const le = unwrap(p.LoadError);
    const loadError = Array.isArray(le) && typeof le[1] === 'string' ? le[1] : '';
    return {
      unit,
      path,
      loadState,
      activeState: str(p.ActiveState),
      subState: str(p.SubState),
      unitFileState,
      fragmentPath: str(p.FragmentPath),
      needDaemonReload: unwrap(p.NeedDaemonReload) === true,
      loadError,
    };
  }

  /** Reads one property of a unit's other interfaces (`org.freedesktop.systemd1.Service`...); undefined on error. */
  async unitProperty(path: string, iface: string, prop: string): Promise<unknown> {
    return this.conn.getProperty(DEST, path, iface, prop, CALL_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * Runs a job and waits for its result. Resolves on `done` (and on `skipped`, which systemd answers when the job
   * does not apply, like a try-restart of a stopped unit); otherwise rejects with a SystemdJobError naming the
   * unit, the result and the unit's state after it.
   */
  async job(method: JobMethod, unit: string, opts: JobOptions = {}): Promise<JobResult> {
    const verb = JOB_VERB[method];
    const results = await this.jobResults();
    let job: unknown;
    try {
      [job] = await this.call(method, 'ss', [unit, opts.mode ?? 'replace']);
    } catch (err) {
      if (!(err instanceof DBusCallError)) throw err;
      const now = await this.unitState(unit, false).catch(() => undefined);
      const root = !this.session && /AccessDenied|InteractiveAuthorizationRequired/.test(err.dbusName) ? ' (managing system units needs root)' : '';
      throw new SystemdJobError(
        `cannot ${verb} ${unit}${now ? ` (it is ${now.activeState}/${now.subState})` : ''}: systemd says ${err.message.replace(/^.*?: /, '')}${root}`,
        'refused',
      );
    }
    const timeoutMs = opts.timeoutMs ?? JOB_TIMEOUT_MS;
    const t0 = Date.now();
    let expire!: () => void;
    const expired = new Promise<void>((r) => (expire = r));
    const deadline = setTimeout(expire, timeoutMs);
    const slow = opts.onSlow ? setInterval(() => opts.onSlow!(Date.now() - t0), JOB_SLOW_MS) : undefined;
    const onAbort = () => expire();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let result: JobResult | undefined;
    try {
      result = await results.wait(String(job), expired);
    } finally {
      clearTimeout(deadline);
      if (slow) clearInterval(slow);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (result === 'done' || result === 'skipped') return result;
    const now = await this.unitState(unit).catch(() => undefined);
    const state = now ? `${now.activeState}/${now.subState}` : 'unknown';
    if (result === undefined) {
      if (opts.signal?.aborted) throw new SystemdJobError(`stopped waiting for the ${verb} job of ${unit} (the unit is ${state}): cancelled`, 'deadline');
      throw new SystemdJobError(
        `the ${verb} job of ${unit} did not finish within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} (the unit is ${state}); systemd may still be working on it: see \`${ctl(this.session, 'systemctl')} status ${unit}\``,
        'deadline',
      );
    }
    let detail = '';
    if (now && unit.endsWith('.service')) {
      const r = await this.unitProperty(now.path, 'org.freedesktop.systemd1.Service', 'Result');
      if (typeof r === 'string' && r !== '' && r !== 'success') detail = `, service result '${r}'`;
    }
    throw new SystemdJobError(
      `${verb} of ${unit} failed (job result '${result}'${detail}); the unit is now ${state}: see \`${ctl(this.session, 'systemctl')} status ${unit}\` and \`${ctl(this.session, 'journalctl')} -u ${unit}\``,
      result,
    );
  }

  /** The JobRemoved subscription shared by this client's jobs (made before the first job is issued). */
  private async jobResults(): Promise<JobResults> {
    if (!this.jobs) {
      const results = new JobResults();
      const unsubscribe = this.conn.subscribe({ sender: DEST, path: MANAGER_PATH, interface: MANAGER, member: 'JobRemoved' }, (s) => results.onSignal(s));
      this.jobs = { results, unsubscribe };
      unsubscribe.catch(() => {
        if (this.jobs?.unsubscribe === unsubscribe) this.jobs = undefined;
      });
    }
    const j = this.jobs;
    await Promise.all([j.unsubscribe, this.subscribe()]);
    return j.results;
  }

  /** Enables unit files (creates the [Install] links); follow with `reload()`. Returns the changes made. */
  async enableUnitFiles(units: readonly string[], runtime = false): Promise<[string, string, string][]> {
    const [, changes] = await this.call('EnableUnitFiles', 'asbb', [units, runtime, false]);
    return (changes ?? []) as [string, string, string][];
  }

  /** Disables unit files (removes the links); follow with `reload()`. Returns the changes made. */
  async disableUnitFiles(units: readonly string[], runtime = false): Promise<[string, string, string][]> {
    const [changes] = await this.call('DisableUnitFiles', 'asb', [units, runtime]);
    return (changes ?? []) as [string, string, string][];
  }

  /** daemon-reload: re-reads every unit file. The reply comes once the reload is done. */
  async reload(timeoutMs = 60_000): Promise<void> {
    await this.call('Reload', '', [], timeoutMs);
  }

  /**
   * Calls `onChange` when the unit or its unit file may have changed: PropertiesChanged of the unit's Unit
   * interface, and the manager's UnitFilesChanged and Reloading (finished) signals. Subscribes the manager.
   * Returns the function that stops it.
   */
  async watchUnit(unit: string, onChange: (why: string) => void): Promise<() => Promise<void>> {
    const path = await this.loadUnit(unit);
    const offs: (() => Promise<void>)[] = [];
    const stop = async () => {
      await Promise.all(offs.splice(0).map((f) => f().catch(() => {})));
    };
    try {
      offs.push(
        await this.conn.subscribe({ sender: DEST, path, interface: PROPERTIES_INTERFACE, member: 'PropertiesChanged' }, (s) => {
          if (s.body[0] === UNIT) onChange('unit properties changed');
        }),
      );
      offs.push(
        await this.conn.subscribe({ sender: DEST, path: MANAGER_PATH, interface: MANAGER, member: 'UnitFilesChanged' }, () => onChange('unit files changed')),
      );
      offs.push(
        await this.conn.subscribe({ sender: DEST, path: MANAGER_PATH, interface: MANAGER, member: 'Reloading' }, (s) => {
          if (s.body[0] === false) onChange('daemon reloaded');
        }),
      );
      await this.subscribe();
    } catch (err) {
      await stop();
      throw err;
    }
    return stop;
  }
}
