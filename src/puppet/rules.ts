/**
 * The rule vocabulary: a Puppet type's translation is a table of attribute rules (data), plus a `name` choice
 * and an optional `finish` hook for logic across attributes. Every attribute no rule consumes sends the
 * resource to the fallback: nothing is ever dropped silently except by an explicit `drop` rule.
 *
 * Messages are constant text (values are kept apart) so that the report can group them.
 */
import type { CatalogResource } from './catalog.js';

export interface Note {
  readonly attribute: string;
  /** Constant text, no values. */
  readonly message: string;
}

/** What rules read and write while one resource is translated. */
export interface RuleContext {
  readonly resource: CatalogResource;
  /** The explicit value of a Puppet attribute. */
  value(attribute: string): unknown;
  has(attribute: string): boolean;
  /** Sets a parameter of our kind; `from` names the Puppet attributes it derives from (for Sensitive tracking). */
  set(param: string, value: unknown, from: string | readonly string[]): void;
  get(param: string): unknown;
  unset(param: string): void;
  setMeta(key: string, value: unknown): void;
  /** Dropped with a note: the resource is degraded. */
  note(attribute: string, message: string): void;
  /** Cannot be translated: the resource goes to the fallback. */
  refuse(attribute: string, reason: string): void;
}

export type Rule =
  /** Same name, value as is. */
  | { readonly do: 'carry'; readonly doc?: string }
  /** Another name, value as is. */
  | { readonly do: 'rename'; readonly to: string; readonly doc?: string }
  /** A value table (strings), or a function; a value the table lacks is refused. */
  | {
      readonly do: 'map';
      readonly to: string;
      readonly values?: Readonly<Record<string, unknown>>;
      readonly fn?: (value: unknown, ctx: RuleContext) => unknown;
      readonly doc?: string;
    }
  /** Into a metaparam. */
  | { readonly do: 'toMeta'; readonly meta: string; readonly fn?: (value: unknown, ctx: RuleContext) => unknown; readonly doc?: string }
  /** Consumed silently (tag, alias, relationships). */
  | { readonly do: 'drop'; readonly doc?: string }
  /** Dropped with a note: degraded. */
  | { readonly do: 'note'; readonly message: string }
  /** Fallback with a reason, unless `accept` says this value is harmless (then consumed silently). */
  | { readonly do: 'refuse'; readonly reason: string; readonly accept?: (value: unknown) => boolean }
  /** Read by the type's `finish` hook. */
  | { readonly do: 'use'; readonly doc: string };

export interface TypeRules {
  /** The Puppet type, capitalised as in catalogs: `File`. */
  readonly type: string;
  /** Our kind; `null`: no vertex of its own (an anchor only orders; a concat fragment is merged into its file). */
  readonly kind: string | null;
  readonly doc: string;
  /** The vertex name: the title for file/exec/notify; the namevar for kinds whose name is the object. */
  readonly name: (r: CatalogResource) => string;
  readonly attributes: Readonly<Record<string, Rule>>;
  /** Cross-attribute logic, after every attribute rule ran. */
  readonly finish?: (ctx: RuleContext) => void;
}

/** Symbol a `map` function returns when it refused the value itself. */
export const REFUSED = Symbol('refused');

export interface RuleResult {
  readonly kind: string | null;
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly meta: Record<string, unknown>;
  readonly notes: Note[];
  /** Non-empty: the resource goes to the fallback. */
  readonly refusals: Note[];
  /** Our parameters whose values come from Sensitive attributes. */
  readonly sensitiveParams: string[];
}

/** Puppet booleans may arrive as strings in hand-written catalogs. */
export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 'yes';
}

export const MSG_UNKNOWN_ATTRIBUTE = 'attribute has no translation rule';
export const MSG_UNSUPPORTED_VALUE = 'value has no translation';

/** Values the face emits in special forms, which only Puppet can apply (reference §2, face README). */
export function specialValue(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const s = specialValue(x);
      if (s) return s;
    }
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if ('__deferred' in v) return 'Deferred values are resolved by Puppet at apply time';
  if ('__binary' in v) return 'binary values are not supported';
  if ('__ptype' in v) return 'rich data values are not supported';
  for (const x of Object.values(v)) {
    const s = specialValue(x);
    if (s) return s;
  }
  return undefined;
}

/** Runs a type's rules (then the shared metaparam rules) over one catalog resource. */
export function applyRules(rules: TypeRules, shared: Readonly<Record<string, Rule>>, r: CatalogResource): RuleResult {
  const params: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  const notes: Note[] = [];
  const refusals: Note[] = [];
  const provenance = new Map<string, readonly string[]>();
  const ctx: RuleContext = {
    resource: r,
    value: (a) => r.parameters[a],
    has: (a) => r.parameters[a] !== undefined,
    set: (p, v, from) => {
      params[p] = v;
      provenance.set(p, typeof from === 'string' ? [from] : from);
    },
    get: (p) => params[p],
    unset: (p) => {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removes a key from a plain record (empty-is-unset, process.env), the type its readers expect
      delete params[p];
      provenance.delete(p);
    },
    setMeta: (k, v) => {
      meta[k] = v;
    },
    note: (attribute, message) => notes.push({ attribute, message }),
    refuse: (attribute, message) => refusals.push({ attribute, message }),
  };
  for (const [attr, value] of Object.entries(r.parameters)) {
    if (value === undefined) continue;
    const rule = rules.attributes[attr] ?? shared[attr];
    if (!rule) {
      refusals.push({ attribute: attr, message: MSG_UNKNOWN_ATTRIBUTE });
      continue;
    }
    const special = rule.do === 'drop' ? undefined : specialValue(value);
    if (special) {
      refusals.push({ attribute: attr, message: special });
      continue;
    }
    switch (rule.do) {
      case 'carry':
        ctx.set(attr, value, attr);
        break;
      case 'rename':
        ctx.set(rule.to, value, attr);
        break;
      case 'map': {
        let out: unknown;
        if (rule.fn) out = rule.fn(value, ctx);
        else {
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
          const key = String(value);
          out = rule.values && Object.hasOwn(rule.values, key) ? rule.values[key] : REFUSED;
          if (out === REFUSED) ctx.refuse(attr, MSG_UNSUPPORTED_VALUE);
        }
        if (out !== REFUSED && out !== undefined) ctx.set(rule.to, out, attr);
        break;
      }
      case 'toMeta': {
        const out = rule.fn ? rule.fn(value, ctx) : value;
        if (out !== REFUSED && out !== undefined) meta[rule.meta] = out;
        break;
      }
      case 'drop':
      case 'use':
        break;
      case 'note':
        ctx.note(attr, rule.message);
        break;
      case 'refuse':
        if (!rule.accept?.(value)) ctx.refuse(attr, rule.reason);
        break;
    }
  }
  rules.finish?.(ctx);
  const sens = new Set(r.sensitive);
  const sensitiveParams = [...provenance]
    .filter(([p, from]) => p in params && from.some((a) => sens.has(a)))
    .map(([p]) => p)
    .sort();
  return { kind: rules.kind, name: rules.name(r), params, meta, notes, refusals, sensitiveParams };
}

/** One line per rule, for the generated docs. */
export function describeRule(rule: Rule): string {
  switch (rule.do) {
    case 'carry':
      return `carried${rule.doc ? `: ${rule.doc}` : ''}`;
    case 'rename':
      return `\`${rule.to}\`${rule.doc ? `: ${rule.doc}` : ''}`;
    case 'map':
      return `\`${rule.to}\`${
        rule.values
          ? ` (${Object.entries(rule.values)
              .map(([k, v]) => `${k} → ${String(v)}`)
              .join(', ')})`
          : ''
      }${rule.doc ? `: ${rule.doc}` : ''}`;
    case 'toMeta':
      return `\`meta.${rule.meta}\`${rule.doc ? `: ${rule.doc}` : ''}`;
    case 'drop':
      return `ignored${rule.doc ? `: ${rule.doc}` : ''}`;
    case 'note':
      return `dropped, degraded: ${rule.message}`;
    case 'refuse':
      return `fallback: ${rule.reason}`;
    case 'use':
      return rule.doc;
  }
}
