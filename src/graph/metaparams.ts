/**
 * Metaparams: per-resource settings the engine applies around every resource (`meta:` in the YAML graph).
 * Names and units follow mgmt (graph-format reference §4). Described once, as a parameter table.
 */
import { type ParamDef, type ParamsOf, TIMER_MAX_MS, TIMER_MAX_S, type WrittenParamsOf } from '../resources/params.js';

export const metaParams = {
  noop: { type: 'boolean', default: false, doc: 'Check only: report what would change and change nothing.' },
  retry: {
    type: 'integer',
    minimum: -1,
    doc:
      'Unset: a failed check/apply or watch is retried until it succeeds, 1 s after the first failure doubling to every 5 min, and at once on a change. ' +
      'A number: that many retries `delay` ms apart, after which the resource has failed permanently and is no longer watched; -1 retries forever.',
  },
  retryreset: { type: 'boolean', default: false, doc: 'Reset the retry counter after each success.' },
  delay: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_MS,
    doc: 'Milliseconds to wait between retries (0 with an explicit `retry`); without `retry`, a fixed wait instead of the growing one.',
  },
  timeout: {
    type: 'integer',
    minimum: 0,
    maximum: TIMER_MAX_MS,
    default: 0,
    doc: 'Deadline of one check/apply in milliseconds (0: none); on expiry the apply is cancelled and counts as a failure.',
  },
  poll: {
    type: 'integer',
    maximum: TIMER_MAX_S,
    default: 0,
    doc: 'Seconds between polls that replace watching (>0); -1 checks once and never watches; 0 watches.',
  },
  limit: {
    type: 'number',
    minimum: 0,
    doc: 'Maximum rate of events handled per second (token bucket; unset: unlimited). Needs `burst` >= 1.',
  },
  burst: { type: 'integer', minimum: 0, default: 0, doc: 'Token bucket size for `limit`.' },
  sema: {
    type: 'string[]',
    pattern: '^[^:]*(:[1-9][0-9]*)?$',
    doc: 'Named counting semaphores `id` or `id:N` (size N, default 1); a check/apply holds all of them while it runs.',
  },
  reset: { type: 'boolean', default: false, doc: 'Forget the retry count when the resource’s parameters change.' },
  rewatch: { type: 'boolean', default: false, doc: 'On a graph swap, restart this resource if it had failed permanently.' },
  autoedge: { type: 'boolean', default: true, doc: 'Let this resource take part in automatic edges.' },
  autogroup: {
    type: 'boolean',
    default: true,
    doc: 'Let this resource be merged with others of its kind into one vertex where the kind supports it (pkg: one transaction).',
  },
  hidden: { type: 'boolean', default: false, doc: 'Keep the resource in the graph but never watch or apply it.' },
  sensitive: {
    type: 'string[]',
    doc: 'Parameters whose values are secret (Puppet’s `Sensitive`): applied, but never printed in logs, errors, noop messages or printed graphs, and never exported in clear; a dotted name (`parameters.content`) reaches inside a map.',
  },
} as const;

/** The metaparams as a spec writes them: only those set explicitly are there (the engine applies the defaults). */
export type MetaParams = WrittenParamsOf<typeof metaParams>;

export type MetaName = keyof typeof metaParams;

/** Every metaparam with a default, with its value: what the engine runs a resource with. */
export type ResolvedMeta = ParamsOf<typeof metaParams>;

export interface NormalizedMeta {
  readonly values: Readonly<ResolvedMeta>;
  /**
   * The metaparams the spec set explicitly (written in `meta:`, or moved there from an obsolete parameter):
   * an explicit `retry: 0` gives up at once, an unset `retry` means "retry until it succeeds" (the engine reads
   * the spec's `meta`, where only what was written is). Kept so that settings from elsewhere (a graph-wide
   * default, a Puppet run's flags) can apply to the unset ones only.
   */
  readonly set: ReadonlySet<MetaName>;
}

/**
 * The metaparams of a resource with their defaults, and which of them were set. A spec's `meta` keeps only what
 * was written (normalize never writes defaults into it), so whether one was set is never lost.
 */
export function normalizeMeta(meta: Readonly<MetaParams>): NormalizedMeta {
  const values: Record<string, unknown> = {};
  const set = new Set<MetaName>();
  for (const key of Object.keys(metaParams) as MetaName[]) {
    const def: ParamDef = metaParams[key];
    const v = meta[key];
    if (v !== undefined) {
      values[key] = v;
      set.add(key);
    } else if (def.default !== undefined) values[key] = def.default;
  }
  return { values: values as ResolvedMeta, set };
}
