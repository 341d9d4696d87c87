/**
 * The graph spec: what every front door (YAML file, Puppet catalog) produces and what the engine runs.
 * Plain data with source positions; it knows nothing of the engine.
 */
import type { MetaParams } from './metaparams.js';

/** A place in a source file; line and column are 1-based. */
export interface Pos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Where a translated resource came from (for example a Puppet `File[/etc/motd]` at site.pp:12). */
export interface Origin {
  readonly ref: string;
  readonly file?: string;
  readonly line?: number;
  /** Exported Puppet resources: their tags (what a collector's `tag == x` matches). */
  readonly tags?: readonly string[];
  /** Exported Puppet resources: their Puppet parameters, without Sensitive values (what collector queries compare). */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export interface ResourceSpec {
  readonly kind: string;
  readonly name: string;
  /** Parameters, typed by the kind's parameter table. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly meta: Readonly<MetaParams>;
  readonly pos?: Pos;
  /** Positions of individual parameters (`meta.retry` for metaparams). */
  readonly paramPos?: Readonly<Record<string, Pos>>;
  readonly origin?: Origin;
  /** Set by the engine's autogroup only: the resources this vertex runs together, itself first. */
  readonly members?: readonly ResourceSpec[];
}

export interface VertexRef {
  readonly kind: string;
  readonly name: string;
}

export interface EdgeSpec {
  readonly name: string;
  readonly from: VertexRef;
  readonly to: VertexRef;
  /** A change applied by `from` sends a refresh to `to`. */
  readonly notify: boolean;
  /** Added by autoedges rather than written by the user. */
  readonly auto?: boolean;
  readonly pos?: Pos;
}

/**
 * What a collect entry lets collected resources carry beyond the safe default (src/world/collect.ts): `setid`
 * set-uid, set-gid and sticky modes; `root` owner or group root; `protected-paths` the privileged locations
 * (sudoers, cron, PAM, systemd, /usr, authorized keys...).
 */
export const COLLECT_ALLOWANCES = ['setid', 'root', 'protected-paths'] as const;
export type CollectAllowance = (typeof COLLECT_ALLOWANCES)[number];

export interface CollectSpec {
  readonly kind: string;
  readonly pattern: string;
  /** Widens what collected resources may carry (the default is safe). */
  readonly allow?: readonly CollectAllowance[];
  /** The front door's own query, carried as is (a Puppet collector's infix array). */
  readonly query?: unknown;
  /** The front door's type (a Puppet collector's `File`): only exports of that type are collected. */
  readonly type?: string;
  readonly pos?: Pos;
}

export interface GraphSpec {
  readonly graph: string;
  readonly comment?: string;
  /**
   * `false`: the engine adds no automatic edges to this graph (as `--no-autoedges` does). A translated Puppet
   * catalog sets it: Puppet's automatic relationships are already its explicit edges. Unset: true.
   */
  readonly autoedges?: boolean;
  /** Resources applied on this host. */
  readonly resources: readonly ResourceSpec[];
  /** Resources named `@@...` in the YAML: exported for other hosts, not applied here. */
  readonly exports: readonly ResourceSpec[];
  readonly edges: readonly EdgeSpec[];
  readonly collect: readonly CollectSpec[];
  /** The file the graph was read from, if any. */
  readonly source?: string;
}

/** `kind[name]`, the identity of a vertex. */
export function vertexId(r: VertexRef): string {
  return `${r.kind}[${r.name}]`;
}

/**
 * Whether two specs describe the same live vertex: same kind, name, parameters and metaparams (positions and
 * origin do not count). A graph swap keeps such a vertex running untouched.
 */
export function sameResource(a: ResourceSpec, b: ResourceSpec): boolean {
  if (a.kind !== b.kind || a.name !== b.name || !sameValue(a.params, b.params) || !sameValue(a.meta, b.meta)) return false;
  if (!a.members && !b.members) return true;
  const am = a.members ?? [a];
  const bm = b.members ?? [b];
  return am.length === bm.length && am.every((m, i) => sameResource(m, bm[i]!));
}

/** Deep equality of JSON-like values; key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
