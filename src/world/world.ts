/**
 * The world: what hosts share. A host publishes its exported resources (`@@name` in YAML, `@@type` in Puppet)
 * and watches the resources every host exports, itself included; the CLI turns what it sees into collected
 * resources (collect.ts) and swaps them into the running graph.
 *
 * Two implementations: the embedded local world (local-world.ts: this process only, no network) and etcd
 * (etcd-world.ts: peers share one etcd cluster, each host's exports on a lease).
 */
import type { MetaParams } from '../graph/metaparams.js';
import type { Origin, ResourceSpec } from '../graph/spec.js';

/** A resource as one host exported it. */
export interface Exported {
  /** The exporting host (`--hostname`). */
  readonly host: string;
  readonly kind: string;
  /** The name without `@@`. */
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly meta: Readonly<MetaParams>;
  /** Where the exporter read it from (its file and line, a Puppet ref with tags and parameters). */
  readonly origin?: Origin;
}

export interface World {
  /** `local` or `etcd`, for messages. */
  readonly kind: string;
  /** This host's name, as it appears in keys. */
  readonly hostname: string;
  /**
   * Replaces this host's exports with `resources` (names without `@@`). Returns at once; the world writes what
   * changed when it can (and again after a reconnection).
   */
  publish(resources: readonly ResourceSpec[]): void;
  /**
   * Calls `onChange` with every exported resource of these kinds, from every host (this one included): once the
   * world knows the current set, then after each change. Returns a function that stops the calls.
   */
  watch(kinds: readonly string[], onChange: (resources: readonly Exported[]) => void): () => void;
  /** Withdraws this host's exports where the world allows it, and releases everything. */
  close(): Promise<void>;
}

/** The exported form of a spec: what is shared with other hosts (no positions, origin kept or made from the position). */
export function toExported(host: string, r: ResourceSpec): Exported {
  const origin: Origin | undefined = r.origin ?? (r.pos ? { ref: `${r.kind}[${r.name}]`, file: r.pos.file, line: r.pos.line } : undefined);
  return {
    host,
    kind: r.kind,
    name: r.name,
    params: r.params,
    meta: r.meta,
    ...(origin ? { origin } : {}),
  };
}

/** Keeps the exported resources of the given kinds. */
export function ofKinds(all: Iterable<Exported>, kinds: readonly string[]): Exported[] {
  const want = new Set(kinds);
  const out: Exported[] = [];
  for (const e of all) if (want.has(e.kind)) out.push(e);
  return out;
}

/** Where exported resources are shared (see src/world/). */
export interface WorldFlags {
  /** etcd client URLs; empty: the embedded local world (unless `cluster` is set). */
  readonly seeds: readonly string[];
  readonly tls?: { readonly cacert?: string; readonly cert?: string; readonly key?: string };
  readonly auth?: { readonly username: string; readonly password: string };
  /** Lease TTL in seconds. */
  readonly ttl: number;
  /**
   * `--cluster`: this host is part of a self-formed cluster (cluster-agent.ts); `seeds` are members to join through.
   * `--etcd-server` is its one-host case (`oneHost`).
   */
  readonly cluster?: ClusterFlags;
}

/** The flags of a self-formed cluster. */
export interface ClusterFlags {
  /** `--ideal-cluster-size` (default 5). */
  readonly ideal: number;
  readonly idealGiven: boolean;
  /** `--no-server`: never a member. */
  readonly noServer: boolean;
  /**
   * `--etcd-server`: the one-host case. This host bootstraps the cluster (ideal size 1 unless given), and without
   * credentials makes a secret of its own in the state directory.
   */
  readonly oneHost?: boolean;
  /** `--cluster-secret-file`; unset: peer TLS from `tls` (all three files), or with `oneHost` and no `tls` a secret made in the state directory. */
  readonly secretFile?: string;
  readonly clientUrls: readonly string[];
  readonly serverUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly advertiseServerUrls: readonly string[];
}
