/**
 * Collect semantics: which exported resources this host applies, and how. Pure functions (no system access).
 *
 * - A collect entry `{kind, pattern}` collects the resources of exactly that kind exported by any host, this one
 *   included. Only kinds named in `collect` are ever applied: there is no wildcard, so exec (or any other kind
 *   whose `reach` says `collect: 'explicit'`: it runs commands or changes the system beyond files) is collected
 *   only when the graph names it, and then a warning says what that kind may touch.
 * - A Puppet collector (`File <<| tag == 's' |>>`) carries its query; it collects the exported resources of its
 *   Puppet type that match the query (puppet-query.ts). For the `puppet` kind (resources Puppet applies itself)
 *   the Puppet type must match too, so `Tidy <<| |>>` never collects an exported Exec.
 * - A collected resource is named `<name>@<host>`: every log line about it names the host it came from, and two
 *   hosts exporting the same name do not collide. The kind's name parameter (a file's `path`, an exec's `cmd`)
 *   keeps the original name.
 * - Files: a non-empty pattern is the directory the file lands in, `<pattern>/<basename of its path>` (mgmt's
 *   rule); the exporter chooses only the last component, which may not be empty, `.` or `..`. An empty pattern
 *   (Puppet's collectors have none) keeps the exported path, which must be absolute and normalized (no `..`).
 *   Collected files may not copy a local `source` (that would read files of this host the exporter chose) and
 *   may not be symlinks. Symlink escapes inside the pattern: there is one component below the pattern, and the
 *   file resource never follows a symlink at its own path (lstat, O_NOFOLLOW, rename over the link), so a
 *   symlink planted at `<pattern>/<name>` is replaced, not followed.
 * - A collected resource must pass the same checks as a local one (schema, the kind's own rules), and may not
 *   manage a path or take a vertex name the local graph (or an earlier collected resource) already has: local
 *   resources win, then hosts in name order.
 * - What a collected resource may carry is narrower than what a local one may (the collect entry's `allow`
 *   widens it, one allowance at a time): a collected file may not set the set-uid, set-gid or sticky bit
 *   (`setid`), nor name root as its owner or group (`root`); no collected resource of any kind may manage a
 *   protected path (`protected-paths`: PROTECTED_PATHS below, any `.ssh` directory and authorized_keys file).
 *   This is what bounds a Puppet collector, which has no pattern: the exported path is kept, so the protected
 *   paths are the only place rule it has.
 */
import { posix } from 'node:path';
import { checkSpec } from '../graph/check-spec.js';
import type { CollectAllowance, CollectSpec, ResourceSpec } from '../graph/spec.js';
import { vertexId } from '../graph/spec.js';
import { managedPath } from '../graph/validate.js';
import { normalize } from '../resources/normalize.js';
import { describeTouches } from '../resources/reach.js';
import type { AutoEdgeHints } from '../resources/resource.js';
import type { Registry } from '../resources/registry.js';
import { parseMode } from '../system/fs/file-mode.js';
import { checkQuery, matchQuery, type QueryTarget } from './puppet-query.js';
import type { Exported } from './world.js';

/** The kinds of `registry` that change a host beyond files: collected only when named, with a warning. */
export function explicitCollectKinds(registry: Registry): string[] {
  return registry
    .all()
    .filter((k) => k.reach.collect === 'explicit')
    .map((k) => k.kind);
}

/** The kind whose resources Puppet applies itself (src/puppet/fallback.ts); its `type` parameter is the Puppet type. */
const PUPPET_KIND = 'puppet';

export interface Rejection {
  readonly host: string;
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

export interface Collection {
  /** The resources to add to the local graph, each named `<name>@<host>`. */
  readonly resources: ResourceSpec[];
  /** Collected resource id → where it came from. */
  readonly from: ReadonlyMap<string, Exported>;
  /** Matching exports that were refused, with the reason. */
  readonly rejected: Rejection[];
}

/** Problems of the collect entries themselves (one message each), and warnings about dangerous kinds. */
export function checkCollect(registry: Registry, collect: readonly CollectSpec[]): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const c of collect) {
    const what = `collect {kind: ${c.kind}${c.pattern ? `, pattern: ${c.pattern}` : ''}}`;
    const kind = registry.get(c.kind);
    if (!kind) {
      errors.push(`${what}: unknown resource kind \`${c.kind}\`; nothing of it is collected`);
      continue;
    }
    const bad = patternProblem(c);
    if (bad) errors.push(`${what}: ${bad}; nothing is collected through it`);
    if (c.query !== undefined) {
      const q = checkQuery(c.query);
      if (q) errors.push(`${what}: the collector query cannot be evaluated: ${q}; nothing is collected through it`);
    }
    if (kind.reach.collect === 'explicit') {
      warnings.push(
        `${what}: collecting \`${c.kind}\` resources lets any host that can write to the world change this host beyond files: ${describeTouches(kind.reach)}`,
      );
    }
  }
  return { errors, warnings };
}

function patternProblem(c: CollectSpec): string | undefined {
  if (c.kind !== 'file' || c.pattern === '') return undefined;
  if (!c.pattern.startsWith('/')) return `the pattern must be an absolute directory such as /var/lib/shared/`;
  const p = trimSlash(c.pattern);
  if (posix.normalize(p) !== p) return `the pattern must be a normalized path (no \`//\`, \`/./\` or \`/../\`)`;
  const guarded = protectedPath(`${p === '/' ? '' : p}/x`);
  if (guarded && !allows(c, 'protected-paths')) {
    return `files collected into ${c.pattern} would land in ${guarded}, a protected location; add \`allow: [protected-paths]\` to the entry if other hosts may really write there`;
  }
  return undefined;
}

const allows = (c: CollectSpec, a: CollectAllowance) => c.allow?.includes(a) === true;

/**
 * Locations whose files grant privileges or run code as root (each protects itself and everything below it).
 * A list, so not complete: a collect pattern is the real bound; this list is what bounds pattern-less
 * (Puppet) collectors by default.
 */
export const PROTECTED_PATHS: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/etc/apt',
  '/etc/bash.bashrc',
  '/etc/cron.allow',
  '/etc/cron.d',
  '/etc/cron.daily',
  '/etc/cron.deny',
  '/etc/cron.hourly',
  '/etc/cron.monthly',
  '/etc/cron.weekly',
  '/etc/crontab',
  '/etc/default',
  '/etc/environment',
  '/etc/group',
  '/etc/gshadow',
  '/etc/init.d',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/ld.so.preload',
  '/etc/login.defs',
  '/etc/modprobe.d',
  '/etc/modules-load.d',
  '/etc/pam.d',
  '/etc/passwd',
  '/etc/polkit-1',
  '/etc/profile',
  '/etc/profile.d',
  '/etc/rc.local',
  '/etc/security',
  '/etc/shadow',
  '/etc/ssh/sshd_config',
  '/etc/ssh/sshd_config.d',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/systemd',
  '/etc/udev',
  '/var/spool/cron',
];

/** The protected location `path` lies in (PROTECTED_PATHS, a `.ssh` directory, an authorized_keys file), if any. */
export function protectedPath(path: string): string | undefined {
  const p = trimSlash(path);
  const hit = PROTECTED_PATHS.find((q) => p === q || p.startsWith(`${q}/`));
  if (hit) return hit;
  const parts = p.split('/');
  const ssh = parts.indexOf('.ssh');
  if (ssh >= 0) return `${parts.slice(0, ssh + 1).join('/')} (an .ssh directory)`;
  const base = parts[parts.length - 1] ?? '';
  if (/^authorized_keys2?$/.test(base)) return `${p} (an authorized_keys file)`;
  return undefined;
}

/** What the collected resource carries beyond what `entry` allows (see the module comment), or undefined. */
export function carryProblem(registry: Registry, entry: CollectSpec, r: ResourceSpec): string | undefined {
  const p = r.params;
  if (r.kind === 'file') {
    if (typeof p.mode === 'string' && !allows(entry, 'setid')) {
      const m = parseMode(p.mode);
      const setid = typeof m === 'string' ? false : m.kind === 'octal' ? (m.mode & 0o7000) !== 0 : m.clauses.some((c) => c.op !== '-' && /[st]/.test(c.perms));
      if (setid)
        return `its mode ${JSON.stringify(p.mode)} sets the set-uid, set-gid or sticky bit; collected files may not (unless the collect entry has \`allow: [setid]\`)`;
    }
    if (!allows(entry, 'root')) {
      for (const key of ['owner', 'group'] as const) {
        const v = p[key];
        if (typeof v === 'string' && (v === 'root' || /^0+$/.test(v))) {
          return `its ${key} is root; collected files may not be given to root (unless the collect entry has \`allow: [root]\`)`;
        }
      }
    }
  }
  if (!allows(entry, 'protected-paths')) {
    // The paths it manages and the files it edits (a line's or an ini setting's file is the path it comes after).
    const hints: AutoEdgeHints = registry.get(r.kind)?.autoEdges?.(r.name, r.params) ?? {};
    for (const m of [...(hints.manages ?? []), ...(hints.afterPath ?? []), ...(hints.refreshAfterPath ?? [])]) {
      const hit = protectedPath(m);
      if (hit) return `it would touch ${m}, in the protected location ${hit} (unless the collect entry has \`allow: [protected-paths]\`)`;
    }
  }
  return undefined;
}

const trimSlash = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);

/** The name a collected resource gets. */
export function collectedName(name: string, host: string): string {
  return `${name}@${host}`;
}

/** What a Puppet query sees of an export: its Puppet title, tags and parameters when it came from Puppet. */
export function queryTarget(e: Exported): QueryTarget {
  const ref = e.origin?.ref;
  const m = ref ? /^[^[]+\[(.*)\]$/s.exec(ref) : null;
  const tags = e.origin?.tags ?? [e.kind];
  return { title: m ? m[1]! : e.name, tags, params: e.origin?.parameters ?? e.params };
}

/** The Puppet type of an export (`File`), when it came from Puppet. */
function puppetType(e: Exported): string | undefined {
  if (e.kind === PUPPET_KIND && typeof e.params.type === 'string') return e.params.type;
  const ref = e.origin?.ref;
  const m = ref ? /^([A-Z][\w:]*)\[/.exec(ref) : null;
  return m ? m[1] : undefined;
}

/** Whether entry `c` collects export `e` (same kind; for a Puppet collector, same type and a matching query). */
export function entryMatches(c: CollectSpec, e: Exported): boolean {
  if (c.kind !== e.kind) return false;
  if (c.query === undefined) return true;
  if (c.type !== undefined) {
    const t = puppetType(e);
    if (e.kind === PUPPET_KIND && t === undefined) return false;
    if (t !== undefined && t.toLowerCase() !== c.type.toLowerCase()) return false;
  }
  return matchQuery(c.query, queryTarget(e));
}

/**
 * Turns the exports the world delivered into resources for this host's graph. `local` is the local graph's
 * resources (they win every conflict); `self` is this host's name. Deterministic: exports are taken in host,
 * kind, name order.
 */
export function collectResources(
  registry: Registry,
  collect: readonly CollectSpec[],
  exported: readonly Exported[],
  local: readonly ResourceSpec[],
  self?: string,
): Collection {
  const usable = collect.filter((c) => registry.get(c.kind) && !patternProblem(c) && (c.query === undefined || !checkQuery(c.query)));
  const resources: ResourceSpec[] = [];
  const from = new Map<string, Exported>();
  const rejected: Rejection[] = [];
  const ids = new Map<string, string>(local.map((r) => [vertexId(r), 'the local graph']));
  const paths = new Map<string, string>();
  for (const r of local) {
    const p = managedPath(registry, r);
    if (p) paths.set(p, vertexId(r));
  }
  const order = [...exported].sort((a, b) => cmp(a.host, b.host) || cmp(a.kind, b.kind) || cmp(a.name, b.name));
  for (const e of order) {
    const entry = usable.find((c) => entryMatches(c, e));
    if (!entry) continue;
    // This host's own export that its graph also applies (Puppet: exported and collected here): nothing to add.
    if (e.host === self && ids.get(vertexId(e)) === 'the local graph') continue;
    const reject = (reason: string) => rejected.push({ host: e.host, kind: e.kind, name: e.name, reason });
    const made = toCollected(registry, entry, e);
    if (typeof made === 'string') {
      reject(made);
      continue;
    }
    const carried = carryProblem(registry, entry, made);
    if (carried) {
      reject(carried);
      continue;
    }
    const problems = checkSpec(registry, { graph: 'collected', resources: [made], exports: [], edges: [], collect: [] });
    if (problems.length > 0) {
      reject(problems.map((d) => d.message).join('; '));
      continue;
    }
    const id = vertexId(made);
    const taken = ids.get(id);
    if (taken) {
      reject(`${id} is already a vertex of ${taken}`);
      continue;
    }
    const p = managedPath(registry, made);
    const owner = p ? paths.get(p) : undefined;
    if (p && owner) {
      reject(`${p} is already managed by ${owner}`);
      continue;
    }
    ids.set(id, `host ${e.host}`);
    if (p) paths.set(p, id);
    resources.push(made);
    from.set(id, e);
  }
  return { resources, from, rejected };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The local spec of one collected export, or why it is refused. */
export function toCollected(registry: Registry, entry: CollectSpec, e: Exported): ResourceSpec | string {
  const kind = registry.get(e.kind);
  if (!kind) return `unknown resource kind \`${e.kind}\``;
  // Normalized under the exported name, before the rename to `<name>@<host>`: the name parameter keeps it.
  const params: Record<string, unknown> = { ...normalize(kind, e.name, e.params).params };
  if (e.kind === 'file') {
    const placed = placeFile(entry.pattern, params);
    if ('error' in placed) return placed.error;
    params.path = placed.path;
  }
  const ref = e.origin?.ref ?? `${e.kind}[${e.name}]`;
  return {
    kind: e.kind,
    name: collectedName(e.name, e.host),
    params,
    meta: e.meta,
    origin: { ref: `${ref} exported by host ${e.host}` },
  };
}

/** Where a collected file lands (see the module comment), or why it may not be collected. */
export function placeFile(pattern: string, params: Readonly<Record<string, unknown>>): { path: string } | { error: string } {
  const path = params.path;
  if (typeof path !== 'string' || path === '') return { error: 'it has no path' };
  if (path.includes('\0')) return { error: 'its path contains a NUL byte' };
  if (typeof params.source === 'string' && params.source !== '') {
    return { error: `it copies the local \`source\` ${JSON.stringify(params.source)}; collected files may only carry their content` };
  }
  if (params.symlink === true) return { error: 'it is a symlink; collected files may not be symlinks' };
  const isDir = path.endsWith('/');
  // No host of ours exports such a path (its own checks refuse them): a value like this was written by hand.
  if (!path.startsWith('/')) return { error: `its path ${JSON.stringify(path)} is not absolute` };
  if (path.split('/').includes('..') || posix.normalize(path) !== path)
    return { error: `its path ${JSON.stringify(path)} is not normalized (\`..\`, \`.\` or \`//\`)` };
  if (pattern === '') return { path };
  const base = trimSlash(path).split('/').pop()!;
  if (base === '' || base === '.' || base === '..') return { error: `its path ${JSON.stringify(path)} has no file name to place in ${pattern}` };
  const dir = trimSlash(pattern);
  const placed = `${dir === '/' ? '' : dir}/${base}${isDir ? '/' : ''}`;
  // By construction one component below the pattern; checked again so that no later change can break it.
  if (posix.dirname(trimSlash(placed)) !== dir) return { error: `it would land at ${placed}, outside ${pattern}` };
  return { path: placed };
}
