/**
 * The pkg resource for one vertex or an autogroup of them: its watch, and its check, which gathers the facts (dpkg's
 * database, PackageKit's Resolve, dpkg's version order), asks the planner (plan.ts) what to do, and runs the plan
 * as PackageKit transactions, then has dpkg confirm the result.
 */
import type { Change, CheckApplyContext, Resource, ResourceContext, WatchContext } from '../resource.js';
import { sleep, untilAborted } from '../../system/proc/abort.js';
import { dpkgArchitecture, dpkgStatus, DPKG_STATUS_FILE, dpkgVersionOrder, hasDpkg, splitArch } from '../../system/tools/dpkg.js';
import { Filter, PackageKit, PackageKitError, type PackageKitWatch, TransactionFlag, watchPackageKit } from '../../system/dbus/packagekit.js';
import { watchPath } from '../../system/fs/path-watcher.js';
import {
  describeStep,
  entriesFor,
  type Flags,
  type Installed,
  type Member,
  type PackageFacts,
  pastTense,
  planChanges,
  type Step,
  unknownMessage,
  unsettled,
  versionsInPlay,
} from './plan.js';
import { errorText } from '../../observe/errors.js';

/** A step as a change record (Puppet's `ensure`: absent or a version before, the version or absent after). */
function stepChange(s: Step, message: string): Change {
  return {
    property: 'state',
    previous: s.action === 'install' ? 'absent' : s.action === 'remove' ? s.to : (s.from ?? 'unknown'),
    desired: s.action === 'remove' ? 'absent' : s.to,
    message,
    member: s.member.vertex,
  };
}

const RETRIES_WHEN_LOCKED = 2;
const LOCKED_DELAYS_MS = [2000, 5000];
/** How often a watch without PackageKit signals tries to subscribe again. */
const RESUBSCRIBE_MS = 30_000;

/** The resource for one pkg vertex, or for several run together (autogroup). */
export class PkgSet implements Resource {
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
          this.ctx.log.warn(`no PackageKit change signals (${errorText(e)}); watching ${DPKG_STATUS_FILE} only, trying again every ${RESUBSCRIBE_MS / 1000} s`);
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
    const dpkg = hasDpkg() ? await dpkgStatus(this.names, c.signal) : undefined;
    const open = unsettled(this.members, dpkg);
    if (open.length === 0) return true;

    const failures = new Failures();
    let pk: PackageKit;
    try {
      pk = await PackageKit.connect();
    } catch (e) {
      throw new Error(`${this.describe(open)}: ${errorText(e)}`);
    }
    try {
      const steps = await this.plan(pk, open, dpkg, failures, c.signal);
      if (steps.length === 0) {
        if (failures.any) throw this.failure(failures);
        return true;
      }
      if (!c.apply) {
        for (const s of steps) {
          this.ctx.log.info(`would ${describeStep(s)}`);
          c.change?.(stepChange(s, `would ${describeStep(s)}`));
        }
        if (failures.any) throw this.failure(failures);
        return false;
      }
      const installs = steps.filter((s) => s.action !== 'remove');
      const removes = steps.filter((s) => s.action === 'remove');
      const done: Step[] = [];
      if (installs.length) done.push(...(await this.transact(pk, 'install', installs, failures, c.signal)));
      if (removes.length) done.push(...(await this.transact(pk, 'remove', removes, failures, c.signal)));
      await this.verify(done, failures, c.signal);
      for (const s of done) c.change?.(stepChange(s, pastTense(s)));
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

  /** Gathers the facts, plans (planChanges), and records the problems; returns the steps to run. */
  private async plan(
    pk: PackageKit,
    open: readonly Member[],
    dpkg: Map<string, Installed> | undefined,
    failures: Failures,
    signal: AbortSignal,
  ): Promise<readonly Step[]> {
    const plan = planChanges(open, await this.facts(pk, open, dpkg, signal), this.flags);
    for (const p of plan.problems) failures.add([p.pkg], p.message);
    if (plan.unknown.length) for (const [name, why] of await this.explainUnknown(pk, plan.unknown, signal)) failures.add([name], why);
    return plan.steps;
  }

  /** What the planner needs per package: PackageKit's Resolve entries, dpkg's word, dpkg's order of the versions in play. */
  private async facts(
    pk: PackageKit,
    open: readonly Member[],
    dpkg: Map<string, Installed> | undefined,
    signal: AbortSignal,
  ): Promise<Map<string, PackageFacts>> {
    const removing = open.every((m) => m.state === 'uninstalled');
    const names = [...new Set(open.map((m) => m.pkg))];
    const filter = removing ? Filter.INSTALLED : this.restrictingFilter() || Filter.NONE;
    const found = await this.retrying('Resolve', () => pk.resolve(names, filter, { signal }), signal);
    const native = await dpkgArchitecture();
    const facts = new Map<string, PackageFacts>();
    for (const name of names) {
      const known = { entries: entriesFor(found, name, native), dpkg: dpkg?.get(name) };
      const versions = open.filter((m) => m.pkg === name).flatMap((m) => versionsInPlay(m, known));
      facts.set(name, { ...known, order: await dpkgVersionOrder(versions, signal) });
    }
    return facts;
  }

  /** PackageKit's filters for what the flags refuse (non-free, unsupported), or 0n. */
  private restrictingFilter(): bigint {
    return (this.flags.allownonfree ? 0n : Filter.FREE) | (this.flags.allowunsupported ? 0n : Filter.SUPPORTED);
  }

  /** Why PackageKit did not find these: unknown, or refused by the free/supported filters. */
  private async explainUnknown(pk: PackageKit, unknown: readonly Member[], signal: AbortSignal): Promise<[string, string][]> {
    let filtered = new Set<string>();
    if (this.restrictingFilter() !== 0n) {
      const all = await pk.resolve([...new Set(unknown.map((m) => m.pkg))], Filter.NONE, { signal }).catch(() => []);
      filtered = new Set(all.map((e) => e.name));
    }
    return unknown.map((m) => [m.pkg, unknownMessage(filtered.has(splitArch(m.pkg).base), this.flags)]);
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
        failures.add([...new Set(steps.map((s) => s.member.pkg))], errorText(e));
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
        failures.add([s.member.pkg], errorText(e));
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
