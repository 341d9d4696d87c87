/**
 * The resource contract. A resource knows its parameters, how to watch what it manages, and how to check and
 * apply its state. Nothing else: ordering, retries, rate limits, refresh propagation and convergence are the
 * engine's job.
 */
import type { Logger } from '../observe/logger.js';
import { normalize, normalizeComplete } from './normalize.js';
import type { ParamTable, ParamsOf } from './params.js';
import type { Reach } from './reach.js';
import type { Bucket } from '../system/fs/bucket.js';

export interface ResourceContext {
  /** `kind[name]`, for messages. */
  readonly id: string;
  /** Already redacts the resource's Sensitive values from every line (src/observe/redact.ts). */
  readonly log: Logger;
  /**
   * The parameters marked sensitive (`meta.sensitive`, first component of each name). A kind needs it only for
   * what value replacement cannot catch: output derived from a secret (an exec's output when its command or
   * environment is sensitive) is not printed at all.
   */
  readonly sensitive?: ReadonlySet<string>;
  readonly hostname: string;
  /** A private state directory for this resource, created on first call. */
  varDir(): Promise<string>;
  /**
   * The paths the resources of the running graph manage (each kind's `manages` hints, without a trailing `/`), as
   * of the call: the same set object until the graph changes. A purge leaves them alone. Unset: none.
   */
  managedPaths?(): ReadonlySet<string>;
  /** The backup bucket under the state directory (system/fs/bucket.ts), shared by the graph. Unset: no backups. */
  bucket?(): Bucket;
}

export interface WatchContext {
  /** Aborted when the resource leaves the graph or the engine shuts down. */
  readonly signal: AbortSignal;
  /**
   * Say that the managed state may have drifted (false positives are fine, missed events are bugs). Cheap and
   * non-blocking: the engine coalesces events that arrive while a check is pending or running, and never
   * drops the last one.
   */
  event(): void;
}

/**
 * One thing a check/apply found wrong (and, when applying, set right): the record reports, plans and diffs read.
 * Values are what the kind compares, in its own terms (`"0644"` for a mode, a user name for an owner); a kind
 * leaves `previous` or `desired` unset where it has no value to give (content it did not read, a path that did
 * not exist). The engine redacts Sensitive values before anyone else sees the record.
 */
export interface Change {
  /** What differs: a parameter of the kind (`content`, `mode`, `owner`) or `state`/`ensure` for presence. */
  readonly property: string;
  readonly previous?: unknown;
  readonly desired?: unknown;
  /** One line, as the log shows it (`mode 0600 -> 0644`, `would change content`). */
  readonly message: string;
  /** In a resource that runs an autogroup (many packages at once): the member this change is about. */
  readonly member?: string;
}

export interface CheckApplyContext {
  /** false under noop: check only, change nothing. */
  readonly apply: boolean;
  /** A parent changed something and reached this resource over a `notify` edge. */
  readonly refresh: boolean;
  /** Aborted on the `timeout` metaparam's deadline or on a hard shutdown. */
  readonly signal: AbortSignal;
  /**
   * A check that first waits for something of its own (the file resource's time slices) calls this when it
   * starts reading the managed state: the watch events received until then are covered by this check and do not
   * cause another one. Events after the call do.
   */
  reading?(): void;
  /**
   * Records one change found (with `apply`: made). Optional for a kind: one that returns false without recording
   * anything still yields a generic change (`state`, "changed" / "would change"); recording lets reports say
   * what changed. Callers other than the engine (tests) may leave it unset.
   */
  change?(c: Change): void;
}

export interface Resource {
  /**
   * Runs until `ctx.signal` is aborted. It must call `ctx.event()` once it is ready (that first event
   * triggers the first check), then once per possible drift. A rejection is a watch error, retried per the
   * `retry` metaparam.
   */
  watch(ctx: WatchContext): Promise<void>;
  /**
   * Returns true when the state was already right. When it was wrong: with `apply` it fixes the state and
   * returns false ("changed"); without `apply` it touches nothing and returns false ("would change").
   * Throwing is a failure of this resource.
   */
  checkApply(ctx: CheckApplyContext): Promise<boolean>;
  /** Releases what the resource holds, after its watch has stopped. */
  cleanup?(): Promise<void>;
}

/** Paths a resource manages or depends on; the engine turns them into automatic edges. */
export interface AutoEdgeHints {
  /** Paths this resource manages; directories end with `/`. */
  readonly manages?: readonly string[];
  /**
   * Another resource may manage the same path: Puppet lets resources of different types share one (a File that
   * sets the mode of an archive's download; resources Puppet applies itself), so validation does not refuse the pair.
   */
  readonly sharesPath?: boolean;
  /** Come after the managed directory nearest above each of these paths (the first managed ancestor wins). */
  readonly afterNearestAncestor?: readonly string[];
  /** Come after the resource that manages exactly this path (either as a file or as a directory). */
  readonly afterPath?: readonly string[];
  /** Like `afterPath`, and a change there refreshes this resource (a unit file before its service). */
  readonly refreshAfterPath?: readonly string[];
  /** Come after these vertices when the graph has them (a user after its groups). */
  readonly afterVertex?: readonly { readonly kind: string; readonly name: string }[];
  /** Come before these vertices when the graph has them (a user being removed before its groups). */
  readonly beforeVertex?: readonly { readonly kind: string; readonly name: string }[];
  /**
   * Directories (ending with `/`) this resource must come before everything below: every resource whose paths
   * (any of the hints above) lie strictly below one of them comes after this one (a mount before the files on it).
   */
  readonly beforeBelow?: readonly string[];
}

/** One resource of a group (see `ResourceKind.autogroup`). */
export interface GroupMember<T extends ParamTable = ParamTable, N extends keyof T = never> {
  readonly name: string;
  readonly params: KindParams<T, N>;
}

/**
 * Autogroup: vertices of one kind whose `key` is equal, and with no path between them in the graph, are run as
 * one vertex (ten packages in one PackageKit transaction). The group's vertex is named after its first member.
 */
export interface AutoGroup<T extends ParamTable, N extends keyof T = never> {
  /** Resources with the same key can be grouped; undefined: this one is never grouped. */
  key(name: string, params: KindParams<T, N>): string | undefined;
  /** The resource that manages every member at once; `ctx.log` names the group. */
  create(members: readonly GroupMember<T, N>[], ctx: ResourceContext): Resource;
}

/** A problem found by a kind's own cross-parameter checks; `param` points the position at that parameter. */
export interface Problem {
  readonly param?: string;
  readonly message: string;
  /**
   * `warning`: the resource is accepted and runs as the message says (a parameter that has no effect is ignored);
   * unset: an error, and the graph is refused.
   */
  readonly severity?: 'warning';
}

/**
 * The parameters a kind receives, normalized (normalize.ts): typed by its table and name parameter `N`, or a
 * plain record once the kind's type is erased.
 */
export type KindParams<T extends ParamTable, N extends keyof T = never> = ParamTable extends T ? Readonly<Record<string, unknown>> : ParamsOf<T, N>;

/**
 * What a kind's file writes: its table and methods. Every method that takes parameters receives them normalized
 * (defaults, the name parameter and empty-is-unset applied, required ones present); `defineKind` turns the
 * definition into the `ResourceKind` that guarantees it for every caller.
 */
export interface KindDefinition<T extends ParamTable = ParamTable, N extends keyof T & string = keyof T & string> {
  readonly kind: string;
  /** One paragraph for the reference docs. */
  readonly doc: string;
  readonly params: T;
  /** The parameter that defaults to the resource's name (`path` for file, `cmd` for exec). */
  readonly nameParam?: N;
  /** Reacts to refreshes on notify edges (otherwise a refresh just lets it run if it is dirty). */
  readonly refreshable: boolean;
  /** What a resource of this kind may touch, and whether collecting it from other hosts needs an explicit `collect`. */
  readonly reach: Reach;
  /** Pure checks across parameters: no system access, no side effects. */
  validate?(name: string, params: KindParams<T, N>): Problem[];
  autoEdges?(name: string, params: KindParams<T, N>): AutoEdgeHints;
  autogroup?: AutoGroup<T, N>;
  create(name: string, params: KindParams<T, N>, ctx: ResourceContext): Resource;
}

/** Only `defineKind` sets this key (it is not exported), so a `ResourceKind` cannot be made without normalize in front. */
const DEFINED: unique symbol = Symbol('defineKind');

/** A kind as the registry, the validator and the engine hold it: made by `defineKind`, never written by hand. */
export interface ResourceKind<T extends ParamTable = ParamTable, N extends keyof T & string = keyof T & string> extends KindDefinition<T, N> {
  readonly [DEFINED]: true;
  /**
   * What validating a graph asks of one resource, from one normalize: `validate`'s problems and `autoEdges`' hints
   * (`{}` for a kind without autoedges), as the two methods would give them apart.
   */
  review(name: string, params: Readonly<Record<string, unknown>>): { readonly problems: readonly Problem[]; readonly hints: AutoEdgeHints };
}

/**
 * Makes a kind: erases its parameter type so that kinds of every table fit in one registry, and puts normalize
 * in front of every method that takes parameters, so that whoever calls it (the engine, validation, autoedges,
 * a test) the kind receives normalized parameters. With a required parameter unset, `validate` returns that
 * problem (and the kind's own checks wait for a complete resource), `autoEdges` gives no hints, `autogroup.key`
 * groups nothing, and `create` throws.
 */
export function defineKind<T extends ParamTable, N extends keyof T & string = never>(kind: KindDefinition<T, N>): ResourceKind {
  const k = kind as unknown as KindDefinition;
  // the kind's own methods, called with the kind as `this` (`.call(k, ...)`) below
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { validate, autoEdges, autogroup } = k;
  return {
    ...k,
    [DEFINED]: true,
    validate: (name, params) => {
      const n = normalize(k, name, params);
      return n.problems.length > 0 ? [...n.problems] : (validate?.call(k, name, n.params) ?? []);
    },
    ...(autoEdges
      ? {
          autoEdges: (name: string, params: Readonly<Record<string, unknown>>) => {
            const n = normalize(k, name, params);
            return n.problems.length > 0 ? {} : autoEdges.call(k, name, n.params);
          },
        }
      : {}),
    ...(autogroup
      ? {
          autogroup: {
            key: (name, params) => {
              const n = normalize(k, name, params);
              return n.problems.length > 0 ? undefined : autogroup.key(name, n.params);
            },
            create: (members, ctx) =>
              autogroup.create(
                members.map((m) => ({ name: m.name, params: normalizeComplete(k, m.name, m.params) })),
                ctx,
              ),
          },
        }
      : {}),
    review: (name, params) => {
      const n = normalize(k, name, params);
      if (n.problems.length > 0) return { problems: n.problems, hints: {} };
      return { problems: validate?.call(k, name, n.params) ?? [], hints: autoEdges?.call(k, name, n.params) ?? {} };
    },
    create: (name, params, ctx) => k.create(name, normalizeComplete(k, name, params), ctx),
  };
}
