/**
 * A small D-Bus client over dbus-next's message layer: one shared connection per bus, every call with a
 * deadline (dbus-next has none, and a call on a dead connection would wait forever), signal subscriptions by
 * match rule, and errors that name the bus address tried. No introspection round trips: callers give the
 * signature, which is what systemd's and PackageKit's documented APIs fix anyway.
 */
import type * as DBus from 'dbus-next';
import { errorText, isErrno } from '../../observe/errors.js';

/**
 * dbus-next, loaded on the first connection: it and its XML parser cost ~25 ms of start-up, which every run
 * would pay even with no svc or pkg in its graph.
 */
let dbus: typeof DBus;
async function loadDBus(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset until the first connection; typed without undefined so the callers after loadDBus() need no check
  dbus ??= await import('dbus-next');
}

export type BusScope = 'system' | 'session';

/** A call to a method: where it goes and what it carries. */
export interface MethodCall {
  readonly destination: string;
  readonly path: string;
  readonly interface: string;
  readonly member: string;
  readonly signature?: string;
  readonly body?: readonly unknown[];
  /** Deadline in milliseconds (default 10 s). */
  readonly timeoutMs?: number | undefined;
}

/** Which signals to receive (unset fields match anything). */
export interface SignalMatch {
  readonly sender?: string;
  readonly path?: string;
  readonly pathNamespace?: string;
  readonly interface?: string;
  readonly member?: string;
}

export interface Signal {
  readonly sender: string;
  readonly path: string;
  readonly interface: string;
  readonly member: string;
  readonly body: readonly unknown[];
}

/** A D-Bus error reply; `dbusName` is the error's name, like `org.freedesktop.systemd1.NoSuchUnit`. */
export class DBusCallError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

export class DBusTimeoutError extends Error {}

const DEFAULT_TIMEOUT_MS = 10_000;

export function busAddress(scope: BusScope): string {
  if (scope === 'system') return process.env.DBUS_SYSTEM_BUS_ADDRESS || 'unix:path=/var/run/dbus/system_bus_socket';
  return process.env.DBUS_SESSION_BUS_ADDRESS || '(DBUS_SESSION_BUS_ADDRESS is not set)';
}

/** One connection to a bus. Get it with `connectBus`; it is shared until every user has released it. */
export class BusConnection {
  private users = 1;
  private dead: Error | undefined;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly handlers = new Set<(s: Signal) => void>();
  private markClosed!: (err: Error) => void;
  /** Resolves with the error that closed this connection (a bus failure, or the last user's release). */
  readonly closed = new Promise<Error>((resolve) => (this.markClosed = resolve));

  constructor(
    readonly scope: BusScope,
    readonly address: string,
    private readonly bus: DBus.MessageBus,
    private readonly onClose: () => void,
  ) {
    bus.on('error', (err: unknown) => this.fail(new Error(`D-Bus ${scope} bus at ${address}: ${errText(err)}`)));
    bus.on('message', (msg: DBus.Message) => {
      if (msg.type !== dbus.MessageType.SIGNAL) return;
      const s: Signal = { sender: msg.sender, path: msg.path, interface: msg.interface, member: msg.member, body: msg.body };
      for (const h of this.handlers) h(s);
    });
  }

  /** The error that closed this connection, if it is closed. */
  get error(): Error | undefined {
    return this.dead;
  }

  retain(): this {
    this.users++;
    return this;
  }

  /** Drops one user; the last one disconnects. */
  release(): void {
    if (--this.users > 0) return;
    this.fail(new Error(`D-Bus ${this.scope} bus connection closed`));
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.markClosed(err);
    this.onClose();
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    try {
      this.bus.disconnect();
    } catch {
      // already gone
    }
  }

  /** Calls a method and returns the reply's body. Rejects with DBusCallError, DBusTimeoutError or a bus error. */
  async call(c: MethodCall): Promise<unknown[]> {
    if (this.dead) throw this.dead;
    const ms = c.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const what = `${c.interface}.${c.member} on ${c.destination} ${c.path}`;
    let reject!: (err: Error) => void;
    const failed = new Promise<never>((_, rej) => (reject = rej));
    this.pending.add(reject);
    const timer = setTimeout(() => reject(new DBusTimeoutError(`${what}: no reply within ${ms} ms`)), ms);
    try {
      const msg = new dbus.Message({
        destination: c.destination,
        path: c.path,
        interface: c.interface,
        member: c.member,
        signature: c.signature ?? '',
        body: (c.body ?? []) as unknown[],
      });
      const reply = await Promise.race([this.bus.call(msg), failed]);
      return (reply?.body ?? []) as unknown[];
    } catch (err) {
      if (err instanceof dbus.DBusError) throw new DBusCallError(err.type, `${what}: ${err.text || err.type}`);
      throw err;
    } finally {
      clearTimeout(timer);
      this.pending.delete(reject);
    }
  }

  /** Reads one property through org.freedesktop.DBus.Properties.Get and unwraps the variant. */
  async getProperty(destination: string, path: string, iface: string, prop: string, timeoutMs?: number): Promise<unknown> {
    const [v] = await this.call({
      destination,
      path,
      interface: PROPERTIES_INTERFACE,
      member: 'Get',
      signature: 'ss',
      body: [iface, prop],
      timeoutMs,
    });
    return v instanceof dbus.Variant ? v.value : v;
  }

  /**
   * Receives the signals that match (AddMatch on the bus first, so nothing sent after this resolves is missed).
   * Returns the function that unsubscribes.
   */
  async subscribe(match: SignalMatch, handler: (s: Signal) => void, timeoutMs?: number): Promise<() => Promise<void>> {
    const rule = matchRule(match);
    const filtered = (s: Signal) => {
      if (match.path && s.path !== match.path) return;
      if (match.pathNamespace && s.path !== match.pathNamespace && !s.path.startsWith(`${match.pathNamespace}/`)) return;
      if (match.interface && s.interface !== match.interface) return;
      if (match.member && s.member !== match.member) return;
      handler(s);
    };
    await this.call({ ...DBUS_DAEMON, member: 'AddMatch', signature: 's', body: [rule], timeoutMs });
    this.handlers.add(filtered);
    return async () => {
      this.handlers.delete(filtered);
      if (this.dead) return;
      await this.call({ ...DBUS_DAEMON, member: 'RemoveMatch', signature: 's', body: [rule], timeoutMs }).catch(() => {});
    };
  }
}

/** The bus daemon itself: its name, object and interface. */
export const DBUS_DAEMON = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' } as const;

/** The standard interface for reading and watching properties. */
export const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

function matchRule(m: SignalMatch): string {
  const parts = ["type='signal'"];
  if (m.sender) parts.push(`sender='${m.sender}'`);
  if (m.path) parts.push(`path='${m.path}'`);
  if (m.pathNamespace) parts.push(`path_namespace='${m.pathNamespace}'`);
  if (m.interface) parts.push(`interface='${m.interface}'`);
  if (m.member) parts.push(`member='${m.member}'`);
  return parts.join(',');
}

function errText(err: unknown): string {
  return isErrno(err, 'ENOENT') ? 'no such socket (is the bus running?)' : errorText(err);
}

const shared = new Map<string, Promise<BusConnection>>();

/**
 * Connects to the system or session bus (or reuses the open connection to the same address). Rejects within
 * `timeoutMs` with an error that names the address tried. Call `release()` when done.
 */
export async function connectBus(scope: BusScope, timeoutMs = 5_000): Promise<BusConnection> {
  const address = busAddress(scope);
  const key = `${scope}\n${address}`;
  const existing = shared.get(key);
  if (existing) {
    const conn = await existing.catch(() => undefined);
    if (conn && !conn.error) return conn.retain();
    if (shared.get(key) === existing) shared.delete(key);
    return connectBus(scope, timeoutMs);
  }
  const opening = open(scope, address, timeoutMs, () => {
    if (shared.get(key) === opening) shared.delete(key);
  });
  shared.set(key, opening);
  opening.catch(() => {
    if (shared.get(key) === opening) shared.delete(key);
  });
  return opening;
}

async function open(scope: BusScope, address: string, timeoutMs: number, onClose: () => void): Promise<BusConnection> {
  if (scope === 'session' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error('cannot reach the D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set');
  }
  await loadDBus();
  return new Promise((resolve, reject) => {
    let bus: DBus.MessageBus;
    try {
      bus = scope === 'system' ? dbus.systemBus() : dbus.sessionBus({ busAddress: address });
    } catch (err) {
      reject(new Error(`cannot reach the D-Bus ${scope} bus at ${address}: ${errText(err)}`));
      return;
    }
    const fail = (err: unknown) => {
      clearTimeout(timer);
      try {
        bus.disconnect();
      } catch {
        // never connected
      }
      reject(new Error(`cannot reach the D-Bus ${scope} bus at ${address}: ${errText(err)}`));
    };
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    bus.once('error', fail);
    bus.once('connect', () => {
      clearTimeout(timer);
      bus.removeListener('error', fail);
      resolve(new BusConnection(scope, address, bus, onClose));
    });
  });
}
