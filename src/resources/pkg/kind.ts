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
 *
 * The parts: this file (parameters, validation, the autogroup key), plan.ts (the pure planner: what to do, from
 * the facts), package-set.ts (the resource: gathers the facts, plans, runs the plan through PackageKit).
 */
import type { ParamsOf } from '../params.js';
import { defineKind, type GroupMember, type Problem, type Resource, type ResourceContext } from '../resource.js';
import { deferredResource } from '../deferred-resource.js';
import type { Flags, Member } from './plan.js';

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

const flagsOf = (p: PkgParams): Flags => ({
  allowuntrusted: p.allowuntrusted,
  allowdowngrade: p.allowdowngrade,
  allownonfree: p.allownonfree,
  allowunsupported: p.allowunsupported,
});

const memberOf = (name: string, p: PkgParams): Member => ({ vertex: name, pkg: name, state: p.state });

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
  const change = p.state === 'uninstalled' ? 'remove' : 'install';
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
  reach: { touches: ['packages'], collect: 'explicit' },
  refreshable: false,
  validate: (name, p) => {
    const out: Problem[] = [];
    if (!new RegExp(PKG_NAME_PATTERN).test(name)) {
      out.push({ message: `'${name}' is not a package name (letters, digits, + . _ -, optionally :arch)` });
    }
    out.push(...stateProblems(p.state));
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
  const members = group.map((g) => memberOf(g.name, g.params));
  const flags = flagsOf(group[0]!.params);
  // package-set.ts (and PackageKit's D-Bus client) is loaded only when a graph has packages
  return deferredResource(
    () => import('./package-set.js'),
    (m) => new m.PkgSet(members, flags, ctx),
  );
}
