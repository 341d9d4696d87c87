/**
 * The pkg planner: from what is wanted (a state per package), what dpkg says is installed, what PackageKit's
 * Resolve offers, and the flags, to a plan: the steps to run (install, update, downgrade, remove), the packages
 * already in their state, the names no repository knows, and the problems. Pure: no I/O. The kind gathers the
 * facts (src/resources/pkg/package-set.ts), calls planChanges, and runs the plan.
 *
 * dpkg's word decides what is installed: PackageKit's "installed" info, which on Debian can be wrong (mgmt #988),
 * stands in only without dpkg. Versions are ordered by dpkg's rules; the kind asks dpkg for the order of the
 * versions in play (versionsInPlay) beforehand, and hands the planner that order. The plan is the same under noop,
 * where the kind only logs its steps.
 */
import { Info, type PackageInfo } from '../../system/dbus/packagekit.js';
import { splitArch } from '../../system/tools/dpkg.js';

/** One package wanted by one vertex. */
export interface Member {
  /** The resource's name (for messages). */
  readonly vertex: string;
  /** The package name as given (`sl`, `libc6:i386`). */
  readonly pkg: string;
  /** `installed`, `uninstalled`, `newest`, or a version. */
  readonly state: string;
}

export interface Flags {
  readonly allowuntrusted: boolean;
  readonly allowdowngrade: boolean;
  readonly allownonfree: boolean;
  readonly allowunsupported: boolean;
}

/** What dpkg (or else PackageKit) says about one package right now. */
export interface Installed {
  readonly installed: boolean;
  readonly version: string;
  readonly arch: string;
}

/** dpkg's ordering of two versions, like a comparator: negative, zero or positive. */
export type VersionOrder = (a: string, b: string) => number;

/** What the kind found out about one package (by its name as given) before planning. */
export interface PackageFacts {
  /** PackageKit's Resolve entries for the package (see entriesFor). */
  readonly entries: readonly PackageInfo[];
  /** What dpkg says; undefined without dpkg, where PackageKit's installed entry stands in. */
  readonly dpkg: Installed | undefined;
  /** dpkg's order of the package's versions in play (see versionsInPlay). */
  readonly order: VersionOrder;
}

export type Action = 'install' | 'update' | 'downgrade' | 'remove';

export interface Step {
  readonly member: Member;
  readonly action: Action;
  /** The PackageKit package id to install or remove. */
  readonly id: string;
  /** The version installed by the step (for a removal: the version removed). */
  readonly to: string;
  /** The version replaced by an update or downgrade. */
  readonly from?: string | undefined;
}

export interface Problem {
  readonly pkg: string;
  readonly message: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Members already in their state (installed and nothing newer offered, or PackageKit's word without dpkg). */
  readonly fine: readonly Member[];
  /** Members whose package PackageKit did not find (see unknownMessage for why). */
  readonly unknown: readonly Member[];
  /** Members that cannot reach their state, in the order of the members. */
  readonly problems: readonly Problem[];
}

/** Whether the package, as `l` says it is, is in the member's state (`newest` only needs it installed here). */
export function satisfied(m: Member, l: Installed): boolean {
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

/**
 * The members that need PackageKit: those dpkg does not show in their state, and every `newest` (the
 * repositories may offer a newer version). Without dpkg (`dpkg` undefined), all of them.
 */
export function unsettled(members: readonly Member[], dpkg: ReadonlyMap<string, Installed> | undefined): Member[] {
  return members.filter((m) => m.state === 'newest' || !dpkg || !satisfied(m, dpkg.get(m.pkg)!));
}

/** A package's entries from a Resolve: the name's, of the asked or native architecture (or `all`) when there are such. */
export function entriesFor(found: readonly PackageInfo[], name: string, native: string | undefined): PackageInfo[] {
  const { base, arch } = splitArch(name);
  const mine = found.filter((e) => e.name === base);
  const want = arch ?? native;
  const fitting = want ? mine.filter((e) => e.arch === want || e.arch === 'all') : mine;
  const chosen = arch || fitting.length ? fitting : mine;
  const seen = new Set<string>();
  return chosen.filter((e) => (seen.has(`${e.info}|${e.id}`) ? false : (seen.add(`${e.info}|${e.id}`), true)));
}

/** dpkg's word, or without dpkg what PackageKit says is installed. */
export function installedOf(f: Pick<PackageFacts, 'entries' | 'dpkg'>): Installed {
  if (f.dpkg) return f.dpkg;
  const inst = f.entries.find((e) => e.info === Info.INSTALLED);
  return { installed: inst !== undefined, version: inst?.version ?? '', arch: inst?.arch ?? '' };
}

/** The entries PackageKit offers to install (not the installed one). */
function available(entries: readonly PackageInfo[]): PackageInfo[] {
  return entries.filter((e) => e.info !== Info.INSTALLED);
}

/**
 * The versions planChanges will compare for member `m`: the offered versions and the installed one for
 * installed and newest; the wanted and the installed one for a version state (when both are there).
 */
export function versionsInPlay(m: Member, f: Pick<PackageFacts, 'entries' | 'dpkg'>): string[] {
  const local = installedOf(f);
  if (m.state === 'uninstalled' || (m.state !== 'newest' && satisfied(m, local))) return [];
  const offered = available(f.entries);
  if (m.state === 'installed' || m.state === 'newest') {
    return [...new Set([...offered.map((e) => e.version), ...(local.installed ? [local.version] : [])])];
  }
  return local.installed && f.entries.some((e) => e.version === m.state) ? [m.state, local.version] : [];
}

/** The highest version among the entries (dpkg's ordering; the first of equal ones), or undefined for none. */
function newest(entries: readonly PackageInfo[], order: VersionOrder): PackageInfo | undefined {
  let best: PackageInfo | undefined;
  for (const e of entries) {
    if (!best || (e.version !== best.version && order(e.version, best.version) > 0)) best = e;
  }
  return best;
}

/** Decides, per member not yet in its state (see unsettled), what to do. */
export function planChanges(open: readonly Member[], facts: ReadonlyMap<string, PackageFacts>, flags: Flags): Plan {
  const steps: Step[] = [];
  const fine: Member[] = [];
  const unknown: Member[] = [];
  const problems: Problem[] = [];
  for (const m of open) {
    const f = facts.get(m.pkg);
    if (!f) throw new Error(`pkg: no facts gathered for ${m.pkg}`);
    const { entries, order } = f;
    const local = installedOf(f);
    if (m.state !== 'newest' && satisfied(m, local)) {
      fine.push(m); // only without dpkg: PackageKit's word
      continue;
    }
    if (m.state === 'uninstalled') {
      const inst = entries.find((e) => e.info === Info.INSTALLED);
      // PackageKit may not list what dpkg has (mgmt #988): name the installed package by its dpkg facts.
      const id = inst?.id ?? `${splitArch(m.pkg).base};${local.version};${local.arch};installed`;
      steps.push({ member: m, action: 'remove', id, to: local.version });
      continue;
    }
    const offered = available(entries);
    if (entries.length === 0) {
      unknown.push(m);
      continue;
    }
    if (offered.length === 0 && !local.installed) {
      const v = entries[0]!.version;
      problems.push({
        pkg: m.pkg,
        message: `PackageKit lists only an installed ${v}, but dpkg says the package is not installed (PackageKit and dpkg disagree; see mgmt #988)`,
      });
      continue;
    }
    if (m.state === 'installed' || m.state === 'newest') {
      const best = newest(offered, order);
      if (!best)
        fine.push(m); // installed, and nothing is offered
      else if (!local.installed) steps.push({ member: m, action: 'install', id: best.id, to: best.version });
      else if (order(best.version, local.version) > 0) steps.push({ member: m, action: 'update', id: best.id, to: best.version, from: local.version });
      else fine.push(m); // installed, and nothing newer is offered
      continue;
    }
    const exact = entries.find((e) => e.version === m.state);
    if (!exact) {
      const offeredVersions = [...new Set(entries.map((e) => e.version))].join(', ');
      problems.push({ pkg: m.pkg, message: `version ${m.state} is not available (the repositories offer ${offeredVersions || 'nothing'})` });
      continue;
    }
    const action: Action = !local.installed ? 'install' : order(m.state, local.version) < 0 ? 'downgrade' : 'update';
    if (action === 'downgrade' && !flags.allowdowngrade) {
      problems.push({ pkg: m.pkg, message: `version ${m.state} is older than the installed ${local.version}; set allowdowngrade: true to downgrade` });
      continue;
    }
    steps.push({ member: m, action, id: exact.id, to: exact.version, from: local.installed ? local.version : undefined });
  }
  return { steps, fine, unknown, problems };
}

/**
 * Why PackageKit did not find a package: `existsUnfiltered` says whether a Resolve without the free and supported
 * filters found it (so the flags refuse it); otherwise no repository knows it.
 */
export function unknownMessage(existsUnfiltered: boolean, flags: Flags): string {
  if (!existsUnfiltered) return 'no such package in the package lists (check the name, or refresh the lists with apt-get update)';
  const refusing = [!flags.allownonfree && 'allownonfree: false', !flags.allowunsupported && 'allowunsupported: false'].filter(Boolean).join(' and ');
  return `the package exists, but ${refusing} refuses it (it is non-free or from outside the supported archive)`;
}

/** A step for the log: `install sl 5.02-1`, `update sl 5.01-1 -> 5.02-1`. */
export function describeStep(s: Step): string {
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

/** A step done, for the log: `installed sl 5.02-1`. */
export function pastTense(s: Step): string {
  const d = describeStep(s);
  const [verb, ...rest] = d.split(' ');
  const past: Record<string, string> = { install: 'installed', update: 'updated', downgrade: 'downgraded', remove: 'removed' };
  return [past[verb!] ?? verb, ...rest].join(' ');
}
