/**
 * Parameter tables: every resource kind (and the metaparams) describes its parameters once, here in this
 * format. The table drives YAML scalar typing, the published JSON Schema, the TypeScript type of the
 * parameters and the generated reference docs.
 */

/**
 * `json`: any JSON value (used by the Puppet fallback kind, whose parameters are Puppet's own).
 * `string|string[]`: one string or a list of them (a crontab time field: `hour: 2` or `hour: [2, 14]`).
 */
export type ParamType = 'string' | 'boolean' | 'integer' | 'number' | 'string[]' | 'string|string[]' | 'map' | 'json';

export interface ParamDef {
  readonly type: ParamType;
  /** One sentence for the reference docs. */
  readonly doc: string;
  /** Allowed values (strings only). */
  readonly enum?: readonly string[];
  /** A JSON Schema regular expression the string must match. */
  readonly pattern?: string;
  readonly minimum?: number;
  /** The largest value allowed (numbers only); durations are bounded by what a timer can wait (`TIMER_MAX_MS`). */
  readonly maximum?: number;
  /**
   * The value of the parameter when a resource leaves it unset: normalize (normalize.ts) fills it in, so the kind
   * always receives it (`ParamsOf` types it as present) and never restates it.
   */
  readonly default?: string | number | boolean;
  /**
   * The kind cannot work without this parameter (and it is not the kind's name parameter, which the name
   * supplies): a resource that leaves it unset is an error. The text says what to give, completing "set it to
   * ...", e.g. `'the absolute path of the INI file'`. `ParamsOf` types the parameter as present.
   */
  readonly required?: string;
  /**
   * An empty string means "unset", as mgmt's published examples spell it (`shell: ''`). Normalize drops the
   * parameter (the YAML loader already before schema validation), so the kind never sees `''`.
   */
  readonly emptyIsUnset?: boolean;
  /**
   * An obsolete spelling that is still accepted: the loader warns with this text and, if `toMeta` is given,
   * moves the value into the metaparams.
   */
  readonly deprecated?: string;
  /** For deprecated parameters: how the value maps into metaparams (undefined: ignored). */
  readonly toMeta?: (value: unknown) => Record<string, unknown> | undefined;
}

export type ParamTable = Readonly<Record<string, ParamDef>>;

/**
 * The longest a timer can wait, in milliseconds: 2^31 - 1, about 24.8 days. Node (like browsers) stores a timer's
 * delay in a signed 32-bit integer and fires a longer one after 1 ms, so every duration parameter is bounded by it
 * (`maximum`), and a longer value is an error, never a timer that fires at once.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** `TIMER_MAX_MS` in whole seconds (2,147,483 s), the bound of the durations given in seconds. */
export const TIMER_MAX_S = Math.floor(TIMER_MAX_MS / 1000);

type ValueOf<D extends ParamDef> = D['type'] extends 'string'
  ? string
  : D['type'] extends 'boolean'
    ? boolean
    : D['type'] extends 'integer' | 'number'
      ? number
      : D['type'] extends 'string[]'
        ? string[]
        : D['type'] extends 'string|string[]'
          ? string | string[]
          : D['type'] extends 'map'
            ? Record<string, string>
            : D['type'] extends 'json'
              ? unknown
              : never;

/** The parameters that normalize always supplies: those with a default, the required ones, and the name parameter `N`. */
type PresentKeys<T extends ParamTable, N extends keyof T> = {
  [K in keyof T]: K extends N ? K : T[K] extends { readonly default: string | number | boolean } ? K : T[K] extends { readonly required: string } ? K : never;
}[keyof T];

type Flatten<O> = { -readonly [K in keyof O]: O[K] };

/**
 * The TypeScript type of the parameters a kind receives (after normalize), derived from its table: a parameter
 * with a default, a required one and the name parameter `N` are present; every other one is optional.
 */
export type ParamsOf<T extends ParamTable, N extends keyof T = never> = Flatten<
  { [K in PresentKeys<T, N>]: ValueOf<T[K]> } & { [K in Exclude<keyof T, PresentKeys<T, N>>]?: ValueOf<T[K]> }
>;

/** The parameters as a spec may write them, before normalize: every parameter is optional. */
export type WrittenParamsOf<T extends ParamTable> = { -readonly [K in keyof T]?: ValueOf<T[K]> };

/** The JSON Schema of one parameter. */
export function paramJsonSchema(def: ParamDef): Record<string, unknown> {
  const s: Record<string, unknown> = { description: def.doc };
  switch (def.type) {
    case 'string':
      s.type = 'string';
      if (def.enum) s.enum = [...def.enum];
      if (def.pattern) s.pattern = def.pattern;
      break;
    case 'boolean':
      s.type = 'boolean';
      break;
    case 'integer':
    case 'number':
      s.type = def.type;
      if (def.minimum !== undefined) s.minimum = def.minimum;
      if (def.maximum !== undefined) s.maximum = def.maximum;
      break;
    case 'string[]':
      s.type = 'array';
      s.items = def.pattern ? { type: 'string', pattern: def.pattern } : { type: 'string' };
      break;
    case 'string|string[]':
      // `items` applies to arrays only; a pattern (if any) applies to the string and to each item
      s.type = ['string', 'array'];
      s.items = def.pattern ? { type: 'string', pattern: def.pattern } : { type: 'string' };
      if (def.pattern) s.pattern = def.pattern;
      break;
    case 'map':
      s.type = 'object';
      s.additionalProperties = { type: 'string' };
      break;
    case 'json':
      break;
  }
  if (def.default !== undefined) s.default = def.default;
  if (def.deprecated) s.deprecated = true;
  return s;
}

/** The JSON Schema of a whole table (`additionalProperties: false`: unknown parameters are errors). */
export function tableJsonSchema(table: ParamTable, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...extra };
  for (const [name, def] of Object.entries(table)) properties[name] = paramJsonSchema(def);
  return { type: 'object', properties, additionalProperties: false };
}
