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

const NO_PROBLEMS: readonly NormalizeProblem[] = Object.freeze([]);

/** What normalize may have to do for one parameter of a table. */
interface Step {
  readonly key: string;
  readonly def: ParamDef;
  readonly isName: boolean;
}

/** A table's normalize steps, and the defaults as one object to start each output from. */
interface Plan {
  readonly steps: readonly Step[];
  readonly defaults: Readonly<Record<string, unknown>>;
}

/**
 * The parameters of a table normalize has something to do for, computed once per table and name parameter.
 * Normalize runs for every resource each time the engine, validation or autoedges asks a kind about it (10,000
 * resources: tens of thousands of calls per swap), so it keeps no per-resource cache and builds each output with
 * one `Object.assign` from the defaults (measured: a tenth of the time of a copy patched key by key).
 */
const plans = new WeakMap<ParamTable, Map<string | undefined, Plan>>();

function planOf(kind: NormalizeTarget): Plan {
  let byName = plans.get(kind.params);
  if (!byName) plans.set(kind.params, (byName = new Map<string | undefined, Plan>()));
  let plan = byName.get(kind.nameParam);
  if (!plan) {
    const steps = Object.entries(kind.params)
      .filter(
        ([key, def]) =>
          key === kind.nameParam || def.default !== undefined || def.emptyIsUnset === true || def.required !== undefined || def.maximum !== undefined,
      )
      .map(([key, def]) => ({ key, def, isName: key === kind.nameParam }));
    const defaults: Record<string, unknown> = {};
    for (const s of steps) if (!s.isName && s.def.default !== undefined) defaults[s.key] = s.def.default;
    plan = { steps, defaults };
    byName.set(kind.nameParam, plan);
  }
  return plan;
}

export function normalize(kind: NormalizeTarget, name: string, params: Readonly<Record<string, unknown>>): Normalized {
  const { steps, defaults } = planOf(kind);
  // the defaults first, the written values over them; then each step fixes what is still unset (a written
  // `undefined` or an empty-is-unset `''` over a default, the name parameter, a required one)
  const out: Record<string, unknown> = Object.assign({}, defaults, params);
  let problems: NormalizeProblem[] | undefined;
  for (const step of steps) {
    const value = out[step.key];
    if (!isUnsetValue(step.def, value)) {
      const max = step.def.maximum;
      if (max !== undefined && typeof value === 'number' && value > max)
        (problems ??= []).push({ param: step.key, message: maximumMessage(step.key, max, value) });
      continue;
    }
    if (step.isName) out[step.key] = name;
    else if (step.def.default !== undefined) out[step.key] = step.def.default;
    else {
      // `{ key: undefined }`, `{ key: '' }` of an empty-is-unset parameter and `{}` are the same to a kind: the
      // output has no such key
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a fresh copy of a plain record: the unset key goes
      if (step.key in out) delete out[step.key];
      if (step.def.required !== undefined) (problems ??= []).push({ param: step.key, message: requiredMessage(step.key, step.def) });
    }
  }
  return { params: out, problems: problems ?? NO_PROBLEMS };
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
