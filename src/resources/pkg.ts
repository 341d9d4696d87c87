/**
 * The pkg resource: a package installed, removed, kept at the newest version, or held at one version, through
 * PackageKit on the D-Bus system bus (src/system/dbus/packagekit.ts).
 *
 * Check: dpkg's own database answers "is it installed, which version" (one `dpkg-query` for every package of the
 * vertex); PackageKit is asked (Resolve) only when something must change or the state is `newest`, so a host
 * where everything is already right needs no PackageKit, and PackageKit's "installed" info, which on Debian can
 * be wrong (mgmt #988), is never trusted. After a change dpkg is asked again, and a package that did not reach
 * its state is an error. Without dpkg (another distribution) PackageKit's info is used instead.
 *
 * Autogroup: pkg vertices that install (installed, newest, or a version) with the same flags are run as one
 * vertex and one InstallPackages transaction; removals group the same way. If the grouped transaction fails,
 * each package is retried alone so that one bad package does not keep the others from their state; a name that
 * no repository knows is reported and the others are still applied.
 *
 * Watch: dpkg's status file (a `dpkg -r` or `apt-get` by hand sends no PackageKit signal) and PackageKit's change
 * signals (UpdatesChanged, RepoListChanged, other clients' transactions ending).
 */
import type { ParamsOf } from './params.js';
import { type CheckApplyContext, defineKind, type GroupMember, type Problem, type Resource, type ResourceContext, type WatchContext } from './resource.js';
import { sleep, untilAborted } from '../system/proc/abort.js';
import { compareVersions, dpkgArchitecture, dpkgStatus, DPKG_STATUS_FILE, hasDpkg, splitArch } from '../system/tools/dpkg.js';
import {
  Filter,
  Info,
  type PackageInfo,
  PackageKit,
  PackageKitError,
  type PackageKitWatch,
  TransactionFlag,
  watchPackageKit,
} from '../system/dbus/packagekit.js';
import { watchPath } from '../system/fs/path-watcher.js';

/** Debian-style package names, optionally `:arch`; no glob characters, blanks or `;` (PackageKit's id separator). */
export const PKG_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9+._-]*(:[A-Za-z0-9_-]+)?$';
/** A version to hold: starts with a digit (Debian policy), optional epoch. */
const VERSION_PATTERN = /^[0-9][A-Za-z0-9.+~:_-]*$/;
const STATES = ['installed', 'uninstalled', 'newest'] as const;
/** Words people reach for, and the state they meant. */
const DID_YOU_MEAN: Readonly<Record<string, string>> = {
  latest: 'newest',
  present: 'installed',
  install: 'installed',
  absent: 'uninstalled',
  removed: 'uninstalled',
  purged: 'uninstalled',
  uninstall: 'uninstalled',
};

const params = {
  state: {
    type: 'string',
    default: 'installed',
    doc: '`installed`, `uninstalled` (removed; configuration files are kept), `newest` (installed and updated whenever the repositories offer a newer version), or a version to install exactly (`5.02-1+b1`).',
  },
  allowuntrusted: {
    type: 'boolean',
    default: false,
    doc: "Install packages that no trusted key signed (without it the transaction carries PackageKit's only-trusted flag).",
  },
  allowdowngrade: { type: 'boolean', default: false, doc: 'Allow a version state to install a version older than the installed one.' },
  allownonfree: {
    type: 'boolean',
    default: true,
    doc: "Install non-free packages; false refuses them (PackageKit's `free` filter). mgmt's default is false.",
  },
  allowunsupported: {
    type: 'boolean',
    default: true,
    doc: "Install packages from outside the distribution's supported archive (third-party repositories); false refuses them (PackageKit's `supported` filter). mgmt's default is false.",
  },
} as const;

export type PkgParams = ParamsOf<typeof params>;

interface Member {
  /** The resource's name (for messages). */
  readonly vertex: string;
  /** The package name as given (`sl`, `libc6:i386`). */
  readonly pkg: string;
  readonly state: string;
}

interface Flags {
  readonly allowuntrusted: boolean;
  readonly allowdowngrade: boolean;
  readonly allownonfree: boolean;
  readonly allowunsupported: boolean;
}

/** What dpkg (or else PackageKit) says about one package right now. */
interface Local {
  readonly installed: boolean;
  readonly version: string;
  readonly arch: string;
}

type Action = 'install' | 'update' | 'downgrade' | 'remove';

interface Step {
  readonly member: Member;
  readonly action: Action;
  readonly id: string;
  readonly to: string;
  readonly from?: string | undefined;
}

const flagsOf = (p: PkgParams): Flags => ({
  allowuntrusted: p.allowuntrusted ?? false,
  allowdowngrade: p.allowdowngrade ?? false,
  allownonfree: p.allownonfree ?? true,
  allowunsupported: p.allowunsupported ?? true,
});

const memberOf = (name: string, p: PkgParams): Member => ({ vertex: name, pkg: name, state: p.state ?? 'installed' });

/** The problems with one state value, or [] (exported for the Puppet translation's checks and the tests). */
export function stateProblems(state: string): Problem[] {
  if ((STATES as readonly string[]).includes(state)) return [];
  const meant = DID_YOU_MEAN[state.toLowerCase()];
  if (meant) return [{ param: 'state', message: `'${state}' is not a pkg state: did you mean ${meant}?` }];
  if (!VERSION_PATTERN.test(state)) {
    return [{ param: 'state', message: `state must be installed, uninstalled, newest or a version (starting with a digit), got '${state}'` }];
  }
  return [];
}

/** Autogroup key: one transaction per kind of change and set of flags. */
export function pkgGroupKey(_name: string, p: PkgParams): string {
  const f = flagsOf(p);
  const change = (p.state ?? 'installed') === 'uninstalled' ? 'remove' : 'install';
  return [
    change,
    ...Object.entries(f)
      .filter(([, v]) => v)
      .map(([k]) => k),
  ].join(' ');
}

export const pkgKind = defineKind({
  kind: 'pkg',
  doc: "A package, named by the resource's name (`name:arch` picks an architecture), through PackageKit on the D-Bus system bus (the daemon is started on demand by D-Bus activation). States: installed, uninstalled, newest, or an exact version. dpkg's database decides whether the state is right, so a check needs PackageKit only when something must change or the state is newest. pkg vertices that install (installed, newest, a version) with the same flags, and have no path between them in the graph, run as one vertex and one PackageKit transaction; removals group the same way. If a grouped transaction fails, each package is retried alone; an unknown name fails its group's vertex after the other packages were applied. Watches dpkg's status file (so a `dpkg -r` by hand is repaired) and PackageKit's change signals.",
  params,
  refreshable: false,
  validate: (name, p) => {
    const out: Problem[] = [];
    if (!new RegExp(PKG_NAME_PATTERN).test(name)) {
      out.push({ message: `'${name}' is not a package name (letters, digits, + . _ -, optionally :arch)` });
    }
    out.push(...stateProblems(p.state ?? 'installed'));
    return out;
  },
  autogroup: {
    key: (name, p) => pkgGroupKey(name, p),
    create: (members, ctx) => createPkgSet(members, ctx),
  },
  create: (name, p, ctx) => createPkgSet([{ name, params: p }], ctx),
});

/** The resource for one or several pkg vertices (the first member's flags stand for all: the group key has them). */
export function createPkgSet(group: readonly GroupMember<typeof params>[], ctx: ResourceContext): Resource {
  if (group.length === 0) throw new Error('pkg: an empty group');
  return new PkgSet(
    group.map((g) => memberOf(g.name, g.params)),
    flagsOf(group[0]!.params),
    ctx,
  );
}

const RETRIES_WHEN_LOCKED = 2;
const LOCKED_DELAYS_MS = [2000, 5000];
/** How often a watch without PackageKit signals tries to subscribe again. */
const RESUBSCRIBE_MS = 30_000;

class PkgSet implements Resource {
  private readonly names: string[];

  constructor(
    private readonly members: readonly Member[],
    private readonly flags: Flags,
    private readonly ctx: ResourceContext,
  ) {
    this.names = [...new Set(members.map((m) => m.pkg))];
  }

  private get grouped(): boolean {
    return this.members.length > 1;
  }

  async watch(w: WatchContext): Promise<void> {
    const stopPath = watchPath(DPKG_STATUS_FILE, () => w.event());
    let pk: PackageKitWatch | undefined;
    let attaching: Promise<void> | undefined;
    let warned = false;
    const attach = async () => {
      try {
        const got = await watchPackageKit((why) => {
          this.ctx.log.debug(`PackageKit: ${why}`);
          w.event();
        });
        if (w.signal.aborted) {
          await got.stop();
          return;
        }
        pk = got;
        if (warned) {
          this.ctx.log.info('PackageKit change signals are back');
          w.event();
        }
        warned = false;
      } catch (e) {
        if (!warned) {
          this.ctx.log.warn(`no PackageKit change signals (${errText(e)}); watching ${DPKG_STATUS_FILE} only, trying again every ${RESUBSCRIBE_MS / 1000} s`);
        }
        warned = true;
      }
    };
    const timer = setInterval(() => {
      if (attaching || (pk && !pk.lost)) return;
      const old = pk;
      pk = undefined;
      attaching = (async () => {
        await old?.stop();
        await attach();
      })().finally(() => (attaching = undefined));
    }, RESUBSCRIBE_MS);
    try {
      attaching = attach().finally(() => (attaching = undefined));
      await attaching;
      w.event();
      await untilAborted(w.signal);
    } finally {
      clearInterval(timer);
      stopPath();
      await attaching;
      await pk?.stop();
    }
  }

  async checkApply(c: CheckApplyContext): Promise<boolean> {
    c.reading?.();
    const local = hasDpkg() ? await this.dpkgLocal(c.signal) : undefined;
    const open = this.members.filter((m) => m.state === 'newest' || !local || !satisfied(m, local.get(m.pkg)!));
    if (open.length === 0) return true;

    const failures = new Failures();
    let pk: PackageKit;
    try {
      pk = await PackageKit.connect();
    } catch (e) {
      throw new Error(`${this.describe(open)}: ${errText(e)}`);
    }
    try {
      const steps = await this.plan(pk, open, local, failures, c.signal);
      if (steps.length === 0) {
        if (failures.any) throw this.failure(failures);
        return true;
      }
      if (!c.apply) {
        for (const s of steps) this.ctx.log.info(`would ${describeStep(s)}`);
        if (failures.any) throw this.failure(failures);
        return false;
      }
      const installs = steps.filter((s) => s.action !== 'remove');
      const removes = steps.filter((s) => s.action === 'remove');
      const done: Step[] = [];
      if (installs.length) done.push(...(await this.transact(pk, 'install', installs, failures, c.signal)));
      if (removes.length) done.push(...(await this.transact(pk, 'remove', removes, failures, c.signal)));
      await this.verify(done, failures, c.signal);
      if (failures.any) throw this.failure(failures);
      return false;
    } finally {
      pk.release();
    }
  }

  /** One error for what went wrong; in a group it says how many members failed. */
  private failure(failures: Failures): Error {
    if (!this.grouped) return new Error(failures.text());
    return new Error(`${failures.count} of ${this.names.length} packages failed: ${failures.text()}`);
  }

  private describe(ms: readonly Member[]): string {
    return ms.map((m) => m.pkg).join(', ');
  }

  private async dpkgLocal(signal: AbortSignal): Promise<Map<string, Local>> {
    return dpkgStatus(this.names, signal);
  }

  /** Resolves the packages not yet in their state and decides, per package, what to do. */
  private async plan(pk: PackageKit, open: readonly Member[], dpkg: Map<string, Local> | undefined, failures: Failures, signal: AbortSignal): Promise<Step[]> {
    const removing = open.every((m) => m.state === 'uninstalled');
    const names = [...new Set(open.map((m) => m.pkg))];
    const restrict = (this.flags.allownonfree ? 0n : Filter.FREE) | (this.flags.allowunsupported ? 0n : Filter.SUPPORTED);
    const filter = removing ? Filter.INSTALLED : restrict || Filter.NONE;
    const found = await this.retrying('Resolve', () => pk.resolve(names, filter, { signal }), signal);
    const native = await dpkgArchitecture();
    const entriesOf = (name: string) => pick(found, name, native);

    const steps: Step[] = [];
    const unknown: Member[] = [];
    for (const m of open) {
      const entries = entriesOf(m.pkg);
      const local = dpkg?.get(m.pkg) ?? localFrom(entries);
      if (m.state !== 'newest' && satisfied(m, local)) continue; // only without dpkg: PackageKit's word
      if (m.state === 'uninstalled') {
        const inst = entries.find((e) => e.info === Info.INSTALLED);
        // PackageKit may not list what dpkg has (mgmt #988): name the installed package by its dpkg facts.
        const id = inst?.id ?? `${splitArch(m.pkg).base};${local.version};${local.arch};installed`;
        steps.push({ member: m, action: 'remove', id, to: local.version });
        continue;
      }
      const available = entries.filter((e) => e.info !== Info.INSTALLED);
      if (entries.length === 0) {
        unknown.push(m);
        continue;
      }
      if (available.length === 0 && !local.installed) {
        const v = entries[0]!.version;
        failures.add(
          [m.pkg],
          `PackageKit lists only an installed ${v}, but dpkg says the package is not installed (PackageKit and dpkg disagree; see mgmt #988)`,
        );
        continue;
      }
      if (m.state === 'installed' || m.state === 'newest') {
        const best = await newest(available, signal);
        if (!best) continue; // installed, and nothing newer is offered
        if (!local.installed) steps.push({ member: m, action: 'install', id: best.id, to: best.version });
        else if ((await compareVersions(best.version, local.version, signal)) > 0) {
          steps.push({ member: m, action: 'update', id: best.id, to: best.version, from: local.version });
        }
        continue;
      }
      const exact = entries.find((e) => e.version === m.state);
      if (!exact) {
        const offered = [...new Set(entries.map((e) => e.version))].join(', ');
        failures.add([m.pkg], `version ${m.state} is not available (the repositories offer ${offered || 'nothing'})`);
        continue;
      }
      const action: Action = !local.installed ? 'install' : (await compareVersions(m.state, local.version, signal)) < 0 ? 'downgrade' : 'update';
      if (action === 'downgrade' && !this.flags.allowdowngrade) {
        failures.add([m.pkg], `version ${m.state} is older than the installed ${local.version}; set allowdowngrade: true to downgrade`);
        continue;
      }
      steps.push({ member: m, action, id: exact.id, to: exact.version, from: local.installed ? local.version : undefined });
    }
    if (unknown.length) for (const [name, why] of await this.explainUnknown(pk, unknown, restrict, signal)) failures.add([name], why);
    return steps;
  }

  /** Why PackageKit did not find these: unknown, or refused by the free/supported filters. */
  private async explainUnknown(pk: PackageKit, unknown: readonly Member[], restrict: bigint, signal: AbortSignal): Promise<[string, string][]> {
    let filtered = new Set<string>();
    if (restrict !== 0n) {
      const all = await pk.resolve([...new Set(unknown.map((m) => m.pkg))], Filter.NONE, { signal }).catch(() => []);
      filtered = new Set(all.map((e) => e.name));
    }
    const refusing = [!this.flags.allownonfree && 'allownonfree: false', !this.flags.allowunsupported && 'allowunsupported: false']
      .filter(Boolean)
      .join(' and ');
    return unknown.map((m) => [
      m.pkg,
      filtered.has(splitArch(m.pkg).base)
        ? `the package exists, but ${refusing} refuses it (it is non-free or from outside the supported archive)`
        : 'no such package in the package lists (check the name, or refresh the lists with apt-get update)',
    ]);
  }

  /**
   * Runs the steps as one transaction; when a transaction of several packages fails for a reason that is about
   * the packages (not the daemon, the lock or the deadline), runs each package alone. Returns the steps applied.
   */
  private async transact(pk: PackageKit, change: 'install' | 'remove', steps: readonly Step[], failures: Failures, signal: AbortSignal): Promise<Step[]> {
    const run = (ids: string[]) =>
      this.retrying(
        change === 'install' ? 'InstallPackages' : 'RemovePackages',
        () => (change === 'install' ? pk.install(ids, this.installFlags(steps), { signal }) : pk.remove(ids, TransactionFlag.NONE, true, false, { signal })),
        signal,
      );
    const ids = [...new Set(steps.map((s) => s.id))];
    if (ids.length > 1) this.ctx.log.info(`one PackageKit transaction for ${ids.length} packages: ${steps.map(describeStep).join(', ')}`);
    const t0 = performance.now();
    try {
      await run(ids);
      for (const s of steps) this.ctx.log.info(`${pastTense(s)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      return [...steps];
    } catch (e) {
      if (ids.length === 1 || !(e instanceof PackageKitError) || ['timeout', 'cancelled', 'unreachable', 'locked'].includes(e.reason)) {
        failures.add([...new Set(steps.map((s) => s.member.pkg))], errText(e));
        return [];
      }
      this.ctx.log.warn(`the transaction for ${ids.length} packages failed (${e.message}); trying each package alone`);
    }
    const done: Step[] = [];
    for (const s of steps) {
      try {
        await run([s.id]);
        this.ctx.log.info(pastTense(s));
        done.push(s);
      } catch (e) {
        failures.add([s.member.pkg], errText(e));
        if (signal.aborted) break;
      }
    }
    return done;
  }

  private installFlags(steps: readonly Step[]): bigint {
    let f = this.flags.allowuntrusted ? TransactionFlag.NONE : TransactionFlag.ONLY_TRUSTED;
    if (this.flags.allowdowngrade && steps.some((s) => s.action === 'downgrade')) f |= TransactionFlag.ALLOW_DOWNGRADE;
    return f;
  }

  /** After a transaction, dpkg must agree that every package reached its state. */
  private async verify(done: readonly Step[], failures: Failures, signal: AbortSignal): Promise<void> {
    if (done.length === 0 || !hasDpkg()) return;
    const now = await dpkgStatus([...new Set(done.map((s) => s.member.pkg))], signal);
    for (const s of done) {
      const l = now.get(s.member.pkg)!;
      const ok = s.action === 'remove' ? !l.installed : l.installed && (s.member.state === 'installed' || l.version === s.to);
      if (!ok) {
        failures.add(
          [s.member.pkg],
          `PackageKit reported success, but dpkg says it is ${l.installed ? `installed at ${l.version}` : l.status} (PackageKit and dpkg disagree; see mgmt #988)`,
        );
      }
    }
  }

  /** Retries an operation that failed because the package database was locked. */
  private async retrying<T>(what: string, op: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!(e instanceof PackageKitError) || !e.retryable || attempt >= RETRIES_WHEN_LOCKED || signal.aborted) throw e;
        const ms = LOCKED_DELAYS_MS[attempt] ?? 5000;
        this.ctx.log.warn(`${what}: the package database is busy (${e.code}); trying again in ${ms / 1000} s`);
        await sleep(ms, signal);
      }
    }
  }
}

/** What went wrong, per package (a failed transaction of several packages is one entry naming them all). */
class Failures {
  private readonly names = new Set<string>();
  private readonly lines: string[] = [];

  add(names: readonly string[], message: string): void {
    for (const n of names) this.names.add(n);
    this.lines.push(`${names.join(', ')}: ${message}`);
  }

  get any(): boolean {
    return this.lines.length > 0;
  }

  /** How many packages failed. */
  get count(): number {
    return this.names.size;
  }

  text(): string {
    return this.lines.join('; ');
  }
}

function satisfied(m: Member, l: Local): boolean {
  switch (m.state) {
    case 'installed':
    case 'newest':
      return l.installed;
    case 'uninstalled':
      return !l.installed;
    default:
      return l.installed && l.version === m.state;
  }
}

/** A package's entries from a Resolve: the name's, of the asked or native architecture (or `all`) when there are such. */
function pick(found: readonly PackageInfo[], name: string, native: string | undefined): PackageInfo[] {
  const { base, arch } = splitArch(name);
  const mine = found.filter((e) => e.name === base);
  const want = arch ?? native;
  const fitting = want ? mine.filter((e) => e.arch === want || e.arch === 'all') : mine;
  const chosen = arch || fitting.length ? fitting : mine;
  const seen = new Set<string>();
  return chosen.filter((e) => (seen.has(`${e.info}|${e.id}`) ? false : (seen.add(`${e.info}|${e.id}`), true)));
}

/** Without dpkg: what PackageKit says is installed. */
function localFrom(entries: readonly PackageInfo[]): Local {
  const inst = entries.find((e) => e.info === Info.INSTALLED);
  return { installed: inst !== undefined, version: inst?.version ?? '', arch: inst?.arch ?? '' };
}

/** The highest version among the entries (dpkg's ordering), or undefined for none. */
async function newest(entries: readonly PackageInfo[], signal: AbortSignal): Promise<PackageInfo | undefined> {
  let best: PackageInfo | undefined;
  for (const e of entries) {
    if (!best || (e.version !== best.version && (await compareVersions(e.version, best.version, signal)) > 0)) best = e;
  }
  return best;
}

function describeStep(s: Step): string {
  const p = s.member.pkg;
  switch (s.action) {
    case 'install':
      return `install ${p} ${s.to}`;
    case 'update':
      return `update ${p} ${s.from ?? '?'} -> ${s.to}`;
    case 'downgrade':
      return `downgrade ${p} ${s.from ?? '?'} -> ${s.to}`;
    case 'remove':
      return `remove ${p} ${s.to}`;
  }
}

function pastTense(s: Step): string {
  const d = describeStep(s);
  const [verb, ...rest] = d.split(' ');
  const past: Record<string, string> = { install: 'installed', update: 'updated', downgrade: 'downgraded', remove: 'removed' };
  return [past[verb!] ?? verb, ...rest].join(' ');
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
