/**
 * A PackageKit client on the D-Bus system bus (src/system/dbus/bus.ts).
 *
 * A transaction: `CreateTransaction` on the daemon returns an object path; we subscribe to that path's signals
 * FIRST, then call the method (Resolve, InstallPackages...), and collect `Package`/`Packages` and `ErrorCode`
 * signals until `Finished(exit, runtime)`. Every transaction has a deadline; when it passes (or the caller aborts)
 * the transaction is cancelled with `Cancel` and the call fails with an error saying so. If the daemon leaves
 * the bus mid-transaction the call fails at once.
 *
 * Errors are `PackageKitError` with a `reason` the caller can act on: the daemon is not reachable (naming the bus
 * address), a package is unknown, nothing could be fetched, the package database is locked (retryable), the
 * deadline passed, or anything else PackageKit reported.
 *
 * Change signals: `watchPackageKit` reports `UpdatesChanged`, `RepoListChanged`, and the end of transactions
 * that other clients ran (`TransactionListChanged`, minus our own transactions, which would otherwise make every
 * check trigger the next one). Changes made with dpkg or apt directly send no PackageKit signal at all; watch
 * dpkg's status file for those (src/system/tools/dpkg.ts).
 *
 * Enum values are PackageKit's (pk-enum.h): filters and transaction flags are bit fields of `1 << enum`.
 */
import { busAddress, type BusConnection, connectBus, DBusCallError, DBusTimeoutError, DBUS_DAEMON, type Signal } from './bus.js';
import { errorText } from '../../observe/errors.js';

export const PK_NAME = 'org.freedesktop.PackageKit';
const PK_PATH = '/org/freedesktop/PackageKit';
const PK_IFACE = 'org.freedesktop.PackageKit';
const TX_IFACE = 'org.freedesktop.PackageKit.Transaction';

const bit = (n: number) => 1n << BigInt(n);

/** Resolve/GetPackages filters (PkFilterEnum bits). */
export const Filter = {
  NONE: bit(1),
  INSTALLED: bit(2),
  NOT_INSTALLED: bit(3),
  FREE: bit(8),
  SUPPORTED: bit(12),
  NEWEST: bit(16),
  ARCH: bit(18),
  NOT_SOURCE: bit(21),
} as const;

/** Transaction flags (PkTransactionFlagEnum bits). */
export const TransactionFlag = {
  NONE: 0n,
  ONLY_TRUSTED: bit(1),
  SIMULATE: bit(2),
  ONLY_DOWNLOAD: bit(3),
  ALLOW_REINSTALL: bit(4),
  JUST_REINSTALL: bit(5),
  ALLOW_DOWNGRADE: bit(6),
} as const;

/** PkInfoEnum values that matter here (the `info` of a Package signal). */
export const Info = { INSTALLED: 1, AVAILABLE: 2 } as const;

/** PkExitEnum, by value. */
const EXIT = [
  'unknown',
  'success',
  'failed',
  'cancelled',
  'key-required',
  'eula-required',
  'killed',
  'media-change-required',
  'need-untrusted',
  'cancelled-priority',
  'skip-transaction',
  'repair-required',
];

/** PkErrorEnum, by value, spelled as PackageKit spells them (pk_error_enum_to_string). */
const ERRORS = [
  'unknown',
  'out-of-memory',
  'no-network',
  'not-supported',
  'internal-error',
  'gpg-failure',
  'package-id-invalid',
  'package-not-installed',
  'package-not-found',
  'package-already-installed',
  'package-download-failed',
  'group-not-found',
  'group-list-invalid',
  'dep-resolution-failed',
  'filter-invalid',
  'create-thread-failed',
  'transaction-error',
  'transaction-cancelled',
  'no-cache',
  'repo-not-found',
  'cannot-remove-system-package',
  'process-kill',
  'failed-initialization',
  'failed-finalise',
  'failed-config-parsing',
  'cannot-cancel',
  'cannot-get-lock',
  'no-packages-to-update',
  'cannot-write-repo-config',
  'local-install-failed',
  'bad-gpg-signature',
  'missing-gpg-signature',
  'cannot-install-source-package',
  'repo-configuration-error',
  'no-license-agreement',
  'file-conflicts',
  'package-conflicts',
  'repo-not-available',
  'invalid-package-file',
  'package-install-blocked',
  'package-corrupt',
  'all-packages-already-installed',
  'file-not-found',
  'no-more-mirrors-to-try',
  'no-distro-upgrade-data',
  'incompatible-architecture',
  'no-space-on-device',
  'media-change-required',
  'not-authorized',
  'update-not-found',
  'cannot-install-repo-unsigned',
  'cannot-update-repo-unsigned',
  'cannot-get-filelist',
  'cannot-get-requires',
  'cannot-disable-repository',
  'restricted-download',
  'package-failed-to-configure',
  'package-failed-to-build',
  'package-failed-to-install',
  'package-failed-to-remove',
  'update-failed-due-to-running-process',
  'package-database-changed',
  'provide-type-not-supported',
  'install-root-invalid',
  'cannot-fetch-sources',
  'cancelled-priority',
  'unfinished-transaction',
  'lock-required',
  'repo-already-set',
];

export type PackageKitErrorReason = 'unreachable' | 'not-found' | 'fetch' | 'locked' | 'timeout' | 'cancelled' | 'failed';

const REASON_OF: Readonly<Record<string, PackageKitErrorReason>> = {
  'package-not-found': 'not-found',
  'package-id-invalid': 'not-found',
  'no-network': 'fetch',
  'package-download-failed': 'fetch',
  'cannot-fetch-sources': 'fetch',
  'repo-not-available': 'fetch',
  'no-more-mirrors-to-try': 'fetch',
  'no-cache': 'fetch',
  'cannot-get-lock': 'locked',
  'lock-required': 'locked',
  'cancelled-priority': 'locked',
  'package-database-changed': 'locked',
  'transaction-cancelled': 'cancelled',
};

const HINT: Readonly<Record<PackageKitErrorReason, string>> = {
  unreachable: '',
  'not-found': 'check the name, or refresh the package lists (apt-get update)',
  fetch: 'check the network and the configured repositories',
  locked: 'another program (apt, dpkg, unattended-upgrades) holds the package database; this is retried',
  timeout: '',
  cancelled: '',
  failed: '',
};

export class PackageKitError extends Error {
  override readonly name = 'PackageKitError';
  constructor(
    message: string,
    readonly reason: PackageKitErrorReason,
    /** PackageKit's error code (`cannot-get-lock`...), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }

  /** Worth trying again shortly: the package database was busy. */
  get retryable(): boolean {
    return this.reason === 'locked';
  }
}

export interface PackageInfo {
  /** PkInfoEnum: 1 installed, 2 available, 11 updating, 12 installing, 13 removing... */
  readonly info: number;
  /** `name;version;arch;data`, e.g. `sl;5.02-1+b1;amd64;debian-oldstable-main`. */
  readonly id: string;
  readonly summary: string;
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  readonly data: string;
}

export function parsePackageId(id: string): { name: string; version: string; arch: string; data: string } {
  const [name = '', version = '', arch = '', data = ''] = id.split(';');
  return { name, version, arch, data };
}

export interface TransactionOptions {
  /** Deadline for the whole transaction; default 120 s for queries, 600 s for changes. */
  readonly timeoutMs?: number;
  /** Aborting cancels the transaction. */
  readonly signal?: AbortSignal;
}

export interface PackageKitWatch {
  /** Set once the bus connection has died: no more signals will come; watch again. */
  readonly lost: Error | undefined;
  stop(): Promise<void>;
}

export interface TransactionResult {
  readonly exit: string;
  readonly runtimeMs: number;
  readonly packages: PackageInfo[];
  readonly errors: { code: string; details: string }[];
}

const QUERY_TIMEOUT_MS = 120_000;
const CHANGE_TIMEOUT_MS = 600_000;
/** How long a cancelled transaction gets to say Finished before we stop waiting. */
const CANCEL_GRACE_MS = 3000;
/** Our transactions' paths stay known this long after Finished (TransactionListChanged can come later). */
const OWN_TID_TTL_MS = 60_000;

/** Transaction paths this process created: their ends are not changes made by someone else. */
const ownTids = new Set<string>();

function forgetLater(tid: string): void {
  setTimeout(() => ownTids.delete(tid), OWN_TID_TTL_MS).unref();
}

function unreachable(detail: string): PackageKitError {
  return new PackageKitError(`PackageKit is not reachable on the D-Bus system bus at ${busAddress('system')}: ${detail}`, 'unreachable');
}

/** Maps a failed daemon call (not a transaction's ErrorCode) to a PackageKitError. */
function callError(e: unknown, what: string): PackageKitError {
  if (e instanceof PackageKitError) return e;
  if (e instanceof DBusCallError) {
    if (e.dbusName === 'org.freedesktop.DBus.Error.ServiceUnknown' || e.dbusName === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
      return unreachable(`${PK_NAME} is not provided (is the packagekit package installed?)`);
    }
    if (e.dbusName.startsWith('org.freedesktop.DBus.Error.Spawn.')) return unreachable(`the bus could not start packagekitd: ${e.message}`);
    if (e.dbusName === 'org.freedesktop.DBus.Error.AccessDenied' || e.dbusName.endsWith('.Refused') || e.dbusName.endsWith('.NotAuthorized')) {
      return new PackageKitError(`${what}: not authorized (${e.message}); run mgmt as root`, 'failed');
    }
    return new PackageKitError(`${what}: ${e.message}`, 'failed');
  }
  if (e instanceof DBusTimeoutError) return unreachable(`${what}: ${e.message}`);
  return unreachable(`${what}: ${errorText(e)}`);
}

function toPackage(info: unknown, id: unknown, summary: unknown): PackageInfo | undefined {
  if (typeof id !== 'string') return undefined;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
  return { info: Number(info), id, summary: String(summary ?? ''), ...parsePackageId(id) };
}

/** One connection to PackageKit (sharing the process's system bus connection). Call `release()` when done. */
export class PackageKit {
  private constructor(private readonly bus: BusConnection) {}

  /** Connects to the system bus; fails with reason `unreachable`, naming the address, within `timeoutMs`. */
  static async connect(timeoutMs = 5000): Promise<PackageKit> {
    try {
      return new PackageKit(await connectBus('system', timeoutMs));
    } catch (e) {
      throw unreachable(errorText(e));
    }
  }

  release(): void {
    this.bus.release();
  }

  /** Resolve: the packages known under these names (installed and available entries, as the filter allows). */
  async resolve(names: readonly string[], filter: bigint, opts: TransactionOptions = {}): Promise<PackageInfo[]> {
    if (names.length === 0) return [];
    const r = await this.run('Resolve', 'tas', [filter, [...names]], { timeoutMs: QUERY_TIMEOUT_MS, ...opts });
    return r.packages;
  }

  install(ids: readonly string[], flags: bigint, opts: TransactionOptions = {}): Promise<TransactionResult> {
    return this.run('InstallPackages', 'tas', [flags, [...ids]], { timeoutMs: CHANGE_TIMEOUT_MS, ...opts });
  }

  /** allowDeps: also remove what depends on these (like apt-get remove); autoremove: also what they pulled in. */
  remove(ids: readonly string[], flags: bigint, allowDeps: boolean, autoremove: boolean, opts: TransactionOptions = {}): Promise<TransactionResult> {
    return this.run('RemovePackages', 'tasbb', [flags, [...ids], allowDeps, autoremove], { timeoutMs: CHANGE_TIMEOUT_MS, ...opts });
  }

  update(ids: readonly string[], flags: bigint, opts: TransactionOptions = {}): Promise<TransactionResult> {
    return this.run('UpdatePackages', 'tas', [flags, [...ids]], { timeoutMs: CHANGE_TIMEOUT_MS, ...opts });
  }

  async getUpdates(filter: bigint, opts: TransactionOptions = {}): Promise<PackageInfo[]> {
    return (await this.run('GetUpdates', 't', [filter], { timeoutMs: QUERY_TIMEOUT_MS, ...opts })).packages;
  }

  /** Downloads fresh package lists (apt-get update). */
  refreshCache(force: boolean, opts: TransactionOptions = {}): Promise<TransactionResult> {
    return this.run('RefreshCache', 'b', [force], { timeoutMs: CHANGE_TIMEOUT_MS, ...opts });
  }

  /**
   * Runs one transaction to its end. Resolves when it finished with success; otherwise rejects with a
   * PackageKitError (the ErrorCode PackageKit sent decides the reason).
   */
  async run(member: string, signature: string, body: unknown[], opts: TransactionOptions = {}): Promise<TransactionResult> {
    const what = `PackageKit ${member}`;
    const timeoutMs = opts.timeoutMs ?? QUERY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const signal = opts.signal;
    if (signal?.aborted) throw new PackageKitError(`${what}: cancelled before it started`, 'cancelled');

    const within = () => (timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`);
    let tid: string;
    try {
      const [path] = await this.bus.call({
        destination: PK_NAME,
        path: PK_PATH,
        interface: PK_IFACE,
        member: 'CreateTransaction',
        timeoutMs: Math.min(left(), 30_000),
      });
      if (typeof path !== 'string') throw new PackageKitError(`${what}: CreateTransaction returned no transaction path`, 'failed');
      tid = path;
    } catch (e) {
      if (e instanceof DBusTimeoutError && Date.now() >= deadline) {
        throw new PackageKitError(`${what}: no result within ${within()} (PackageKit had not yet created the transaction)`, 'timeout');
      }
      throw callError(e, `${what}: CreateTransaction`);
    }
    ownTids.add(tid);

    const packages: PackageInfo[] = [];
    const errors: { code: string; details: string }[] = [];
    // `ended`: the first of Finished, the daemon going away, the deadline or an abort; `finished`: PackageKit itself
    // is done with the transaction (what a cancel waits for).
    let settle!: (v: { exit: string; runtimeMs: number } | Error) => void;
    const ended = new Promise<{ exit: string; runtimeMs: number } | Error>((r) => (settle = r));
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const onSignal = (s: Signal) => {
      switch (s.member) {
        case 'Package': {
          const p = toPackage(s.body[0], s.body[1], s.body[2]);
          if (p) packages.push(p);
          break;
        }
        case 'Packages':
          for (const entry of (Array.isArray(s.body[0]) ? s.body[0] : []) as unknown[][]) {
            const p = Array.isArray(entry) ? toPackage(entry[0], entry[1], entry[2]) : undefined;
            if (p) packages.push(p);
          }
          break;
        case 'ErrorCode':
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
          errors.push({ code: ERRORS[Number(s.body[0])] ?? `error-${String(s.body[0])}`, details: String(s.body[1] ?? '') });
          break;
        case 'Finished':
          settle({ exit: EXIT[Number(s.body[0])] ?? `exit-${String(s.body[0])}`, runtimeMs: Number(s.body[1] ?? 0) });
          done();
          break;
        case 'Destroy':
          settle(new PackageKitError(`${what}: the transaction was destroyed before it finished`, 'failed'));
          done();
          break;
      }
    };
    const onOwner = (s: Signal) => {
      if (s.body[0] !== PK_NAME || s.body[2] !== '') return;
      settle(new PackageKitError(`${what}: packagekitd left the bus mid-transaction (crashed or was stopped)`, 'failed'));
      done();
    };

    const unsubs: (() => Promise<void>)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => settle(new PackageKitError(`${what}: cancelled`, 'cancelled'));
    try {
      try {
        unsubs.push(await this.bus.subscribe({ sender: PK_NAME, path: tid, interface: TX_IFACE }, onSignal, Math.min(left(), 10_000)));
        unsubs.push(
          await this.bus.subscribe(
            { sender: DBUS_DAEMON.destination, interface: DBUS_DAEMON.interface, member: 'NameOwnerChanged' },
            onOwner,
            Math.min(left(), 10_000),
          ),
        );
      } catch (e) {
        if (e instanceof DBusTimeoutError && Date.now() >= deadline) throw new PackageKitError(`${what}: no result within ${within()}`, 'timeout');
        throw callError(e, `${what}: subscribing to the transaction's signals`);
      }
      timer = setTimeout(() => settle(new PackageKitError(`${what}: no result within ${within()}; the transaction was cancelled`, 'timeout')), left());
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      try {
        await this.bus.call({ destination: PK_NAME, path: tid, interface: TX_IFACE, member, signature, body, timeoutMs: Math.min(left(), 30_000) });
      } catch (e) {
        if (e instanceof DBusTimeoutError && Date.now() >= deadline) {
          await this.cancel(tid, finished);
          throw new PackageKitError(`${what}: no result within ${within()}; the transaction was cancelled`, 'timeout');
        }
        throw callError(e, what);
      }
      const end = await ended;
      if (end instanceof Error) {
        if (end instanceof PackageKitError && (end.reason === 'timeout' || end.reason === 'cancelled')) await this.cancel(tid, finished);
        throw end;
      }
      if (end.exit !== 'success') throw transactionError(what, end.exit, errors);
      return { exit: end.exit, runtimeMs: end.runtimeMs, packages, errors };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      await Promise.all(unsubs.map((u) => u()));
      forgetLater(tid);
    }
  }

  /** See `watchPackageKit`; the watch takes over this connection and releases it when stopped. */
  async watchChanges(onChange: (why: string) => void): Promise<PackageKitWatch> {
    let last = new Set<string>();
    let unsub: () => Promise<void>;
    try {
      unsub = await this.bus.subscribe({ sender: PK_NAME, path: PK_PATH, interface: PK_IFACE }, (s) => {
        if (s.member === 'UpdatesChanged' || s.member === 'RepoListChanged') onChange(s.member);
        else if (s.member === 'TransactionListChanged') {
          const now = new Set(Array.isArray(s.body[0]) ? (s.body[0] as unknown[]).map(String) : []);
          for (const tid of last) if (!now.has(tid) && !ownTids.has(tid)) onChange(`transaction ${tid} of another client ended`);
          last = now;
        }
      });
    } catch (e) {
      throw callError(e, 'PackageKit change signals');
    }
    const bus = this.bus;
    let stopped = false;
    return {
      get lost() {
        return bus.error;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await unsub();
        this.release();
      },
    };
  }

  /** Asks PackageKit to cancel a transaction and waits (at most CANCEL_GRACE_MS) until it says it finished. */
  private async cancel(tid: string, finished: Promise<void>): Promise<void> {
    await this.bus.call({ destination: PK_NAME, path: tid, interface: TX_IFACE, member: 'Cancel', timeoutMs: CANCEL_GRACE_MS }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, CANCEL_GRACE_MS)))]);
    clearTimeout(timer);
  }
}

function transactionError(what: string, exit: string, errors: readonly { code: string; details: string }[]): PackageKitError {
  const first = errors[0];
  if (!first) return new PackageKitError(`${what} ended with exit status '${exit}' and no error code`, exit === 'cancelled' ? 'cancelled' : 'failed');
  const reason = REASON_OF[first.code] ?? 'failed';
  const detail = errors.map((e) => `${e.code}: ${e.details.trim().replace(/\s*\n\s*/g, ' | ')}`).join('; ');
  const hint = HINT[reason];
  return new PackageKitError(`${what} failed: ${detail}${hint ? ` (${hint})` : ''}`, reason, first.code);
}

/**
 * Calls `onChange` when PackageKit says the package database or the repositories may have changed, and when a
 * transaction of another client ends. Returns the watch; `stop()` ends it. Rejects (reason `unreachable`) when
 * the bus cannot be reached.
 */
export async function watchPackageKit(onChange: (why: string) => void): Promise<PackageKitWatch> {
  const pk = await PackageKit.connect();
  try {
    return await pk.watchChanges(onChange);
  } catch (e) {
    pk.release();
    throw e;
  }
}
