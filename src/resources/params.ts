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
  /** Shown in the docs; the resource applies its own defaults. */
  readonly default?: string | number | boolean;
  /**
   * An empty string means "unset", as mgmt's published examples spell it (`shell: ''`). The loader drops the
   * parameter before validation.
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

/** The TypeScript type of a kind's parameters, derived from its table: every parameter is optional. */
export type ParamsOf<T extends ParamTable> = { -readonly [K in keyof T]?: ValueOf<T[K]> };

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
