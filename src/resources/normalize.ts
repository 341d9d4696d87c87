/**
 * Normalize: the one step that turns the parameters a front door wrote (a YAML graph, a Puppet translation, a
 * collected export, a test) into the parameters a kind receives, by the kind's parameter table (params.ts):
 *
 * 1. `emptyIsUnset`: a parameter written as `''` is unset.
 * 2. The name parameter (`path` for file, `cmd` for exec), when unset, is the resource's name.
 * 3. A parameter with a `default`, when unset, gets it.
 * 4. A `required` parameter still unset is a problem naming the parameter and what to give.
 * 5. A number past its parameter's `maximum` is a problem (a duration longer than a timer can wait would fire at
 *    once): whatever the front door, a kind never receives one.
 *
 * Unknown parameters are kept as they are: rejecting them is validation's job (the JSON Schema). Normalizing
 * twice gives what normalizing once gave. Kinds reach this step through `defineKind` (resource.ts), which wraps
 * every method that takes parameters, so no caller can hand a kind parameters that skipped it.
 */
import type { ParamDef, ParamTable } from './params.js';

/** What normalize needs of a kind: its name, table and name parameter (a `ResourceKind` has them). */
export interface NormalizeTarget {
  readonly kind: string;
  readonly params: ParamTable;
  readonly nameParam?: string;
}

/** A problem of normalize (see `Problem` in resource.ts): the parameter it concerns and what to do. */
export interface NormalizeProblem {
  readonly param: string;
  readonly message: string;
}

export interface Normalized {
  /** The parameters with defaults and the name parameter filled in and `''` of empty-is-unset parameters dropped. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Required parameters left unset; when there are any, `params` is not fit for the kind. */
  readonly problems: readonly NormalizeProblem[];
}

/** Whether a written value means "unset" for this parameter (`''` of an `emptyIsUnset` one). */
export function isUnsetValue(def: ParamDef, value: unknown): boolean {
  return value === undefined || (def.emptyIsUnset === true && value === '');
}

/** The message of a required parameter left unset (without `kind[name]`, which diagnostics carry apart). */
export function requiredMessage(param: string, def: ParamDef): string {
  return `parameter \`${param}\` is required: set it to ${def.required ?? 'a value'}`;
}

/** The message of a number past its parameter's `maximum`. */
export function maximumMessage(param: string, maximum: number, value: number): string {
  return `parameter \`${param}\` must be <= ${maximum} (got ${value})`;
}

/**
 * Outputs of normalize, with the table they were normalized by: handing one back returns it unchanged (the
 * engine, validation and autoedges all ask for the same resource's parameters).
 */
const normalizedBy = new WeakMap<object, ParamTable>();

/** The latest result per written parameters object (specs are immutable: `ResourceSpec.params` is readonly). */
const lastResult = new WeakMap<object, { readonly table: ParamTable; readonly name: string; readonly result: Normalized }>();

const NO_PROBLEMS: readonly NormalizeProblem[] = Object.freeze([]);

/** The parameters of a table normalize has something to do for (most have none), computed once per table. */
const plans = new WeakMap<ParamTable, readonly (readonly [string, ParamDef])[]>();

function planOf(kind: NormalizeTarget): readonly (readonly [string, ParamDef])[] {
  let plan = plans.get(kind.params);
  if (!plan) {
    plan = Object.entries(kind.params).filter(
      ([key, def]) =>
        key === kind.nameParam || def.default !== undefined || def.emptyIsUnset === true || def.required !== undefined || def.maximum !== undefined,
    );
    plans.set(kind.params, plan);
  }
  return plan;
}

export function normalize(kind: NormalizeTarget, name: string, params: Readonly<Record<string, unknown>>): Normalized {
  const table = kind.params;
  if (normalizedBy.get(params) === table) return { params, problems: NO_PROBLEMS };
  const last = lastResult.get(params);
  if (last?.table === table && last.name === name) return last.result;
  const out: Record<string, unknown> = { ...params };
  let problems: NormalizeProblem[] | undefined;
  for (const [key, def] of planOf(kind)) {
    const v = out[key];
    if (!isUnsetValue(def, v)) {
      if (def.maximum !== undefined && typeof v === 'number' && v > def.maximum)
        (problems ??= []).push({ param: key, message: maximumMessage(key, def.maximum, v) });
      continue;
    }
    if (key === kind.nameParam) out[key] = name;
    else if (def.default !== undefined) out[key] = def.default;
    else {
      // `{ key: undefined }` and `{}` are the same to a kind; keep the output free of such keys
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a fresh copy of a plain record: the unset key goes
      delete out[key];
      if (def.required !== undefined) (problems ??= []).push({ param: key, message: requiredMessage(key, def) });
    }
  }
  const result: Normalized = { params: out, problems: problems ?? NO_PROBLEMS };
  if (!problems) normalizedBy.set(out, table);
  lastResult.set(params, { table, name, result });
  return result;
}

/**
 * The parameters a kind's `create` receives: normalized, and complete. A required parameter left unset here means
 * the spec was not validated (validation reports it with its position); the error still names it and says what
 * to do.
 */
export function normalizeComplete(kind: NormalizeTarget, name: string, params: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const n = normalize(kind, name, params);
  if (n.problems.length > 0) throw new Error(`${kind.kind}[${name}]: ${n.problems.map((p) => p.message).join('; ')}`);
  return n.params;
}
