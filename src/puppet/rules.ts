/**
 * The rule vocabulary: a Puppet type's translation is data. A table of attribute rules says what becomes of each
 * attribute (carried, converted on the way by a named converter, mapped through a value table, dropped, refused);
 * `derive` declares, next to a target parameter, the Puppet attributes it is derived from and the named
 * derivation that does it; `checks` are the conditions across attributes that degrade a resource or send it to
 * the fallback. Every attribute no rule consumes sends the resource to the fallback: nothing is ever dropped
 * silently except by an explicit `drop` rule.
 *
 * Targets are typed: `TypeRules<P>` takes the target kind's parameter type (`ParamsOf` of its table), and every
 * `to` is a `keyof P`, so a misspelled target parameter does not compile.
 *
 * Messages are constant text (values are kept apart) so that the report can group them.
 */
import type { MetaParams } from '../graph/metaparams.js';
import { type CatalogResource, textOf } from './catalog.js';

export interface Note {
  readonly attribute: string;
  /** Constant text, no values. */
  readonly message: string;
}

/** What derivations and checks read (and may refuse or note) while one resource is translated. */
export interface RuleContext {
  readonly resource: CatalogResource;
  /** The explicit value of a Puppet attribute. */
  value(attribute: string): unknown;
  has(attribute: string): boolean;
  /** A parameter of our kind, as the rules set it so far. */
  get(param: string): unknown;
  /** Dropped with a note: the resource is degraded. */
  note(attribute: string, message: string): void;
  /** Native, with a note in the report (the attribute only shapes Puppet's own output, or means nothing here). */
  info(attribute: string, message: string): void;
  /** Cannot be translated: the resource goes to the fallback. */
  refuse(attribute: string, reason: string): void;
}

/** A converter's or a derivation's answer: this value cannot be translated (the resource goes to the fallback). */
export class Refusal {
  constructor(readonly message: string) {}
}

export const refused = (message: string): Refusal => new Refusal(message);

/**
 * A derivation's answer when the attributes its value comes from (for Sensitive tracking) are not all the
 * attributes it reads: `[]` for a constant, one attribute when the others only choose.
 */
export class Sourced {
  constructor(
    readonly value: unknown,
    readonly from: readonly string[],
  ) {}
}

export const sourced = (value: unknown, from: string | readonly string[]): Sourced => new Sourced(value, typeof from === 'string' ? [from] : from);

/**
 * A named conversion of one attribute's value into one parameter's. `convert` returns the value, `undefined` to
 * leave the parameter unset, or a `Refusal`.
 */
export interface Converter {
  /** The conversion, for the docs: "to a string". */
  readonly doc: string;
  /** What the converter refuses, for the docs (its refusal messages). */
  readonly refuses?: string;
  readonly convert: (value: unknown) => unknown;
}

/** Puppet booleans may arrive as strings in hand-written catalogs. */
export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 'yes';
}

const isFalseValue = (v: unknown): boolean => v === false || v === 'false';

/** Puppet munges a numeric string id to an integer; anything else is not an id. */
export function numericId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return Number(v);
  return undefined;
}

/** The converters every type may name: `{ do: 'carry', to: 'owner', as: 'string' }`. */
export const CONVERTERS = {
  string: { doc: 'to a string', convert: (v) => textOf(v) },
  boolean: { doc: 'to a boolean (true, "true", "yes" are true)', convert: truthy },
  text: {
    doc: 'a string only',
    refuses: 'the value is not a string',
    convert: (v) => (typeof v === 'string' ? v : refused('the value is not a string')),
  },
  id: {
    doc: 'to an integer id (a number or a numeric string)',
    refuses: 'not a numeric id',
    convert: (v) => numericId(v) ?? refused('not a numeric id'),
  },
  count: {
    doc: 'to an integer (digits only)',
    refuses: 'not a non-negative integer',
    convert: (v) => {
      const s = textOf(v);
      return /^[0-9]+$/.test(s) ? Number(s) : refused('not a non-negative integer');
    },
  },
  wholeNumber: {
    doc: 'to an integer (a number or a string of digits)',
    refuses: 'not a whole number',
    convert: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      return Number.isInteger(n) && n >= 0 ? n : refused('not a whole number');
    },
  },
  milliseconds: {
    doc: 'seconds to milliseconds',
    refuses: 'not a number of seconds',
    convert: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : NaN;
      return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : refused('not a number of seconds');
    },
  },
} as const satisfies Readonly<Record<string, Converter>>;

export type ConverterName = keyof typeof CONVERTERS;
/** A converter every type may name, or one of the type's own. */
export type ConverterRef = ConverterName | Converter;

export function converterOf(ref: ConverterRef): Converter {
  return typeof ref === 'string' ? CONVERTERS[ref] : ref;
}

/** A named test of a value, for `accept`. */
export interface Predicate {
  readonly doc: string;
  readonly test: (value: unknown) => boolean;
}

export const IS_TRUE: Predicate = { doc: 'true', test: truthy };
export const IS_FALSE: Predicate = { doc: 'false', test: isFalseValue };
export const NOT_TRUE: Predicate = { doc: 'anything but true', test: (v) => !truthy(v) };

/** Harmless values: a list (compared with ===) or a named predicate. */
export type Accept = readonly (string | number | boolean)[] | Predicate;

export function accepts(accept: Accept | undefined, v: unknown): boolean {
  if (accept === undefined) return false;
  if ('test' in accept) return accept.test(v);
  return (accept as readonly unknown[]).includes(v);
}

export function describeAccept(accept: Accept): string {
  return 'test' in accept ? accept.doc : [...new Set(accept.map((v) => String(v)))].join(', ');
}

/** One attribute's rule. `P` is the target kind's parameter type: every `to` is one of its keys. */
export type Rule<P = Record<string, unknown>> =
  /**
   * Into parameter `to`, converted on the way by a named converter (the value as is without `as`). `default`: the
   * parameter's value when the attribute is not given, unless the object is absent (`state: absent`).
   */
  | { readonly do: 'carry'; readonly to: keyof P & string; readonly as?: ConverterRef; readonly default?: unknown; readonly doc?: string }
  /**
   * Through a value table (keys are the value as a string). A value the table lacks is refused with the `refuse`
   * table's message for it, else converted by `otherwise`, else refused with `message`. `note` degrades the
   * resource for some values (still mapped). `default`: the Puppet value taken when the attribute is not given
   * (only when one of `defaultIf` is given, if that is set).
   */
  | {
      readonly do: 'map';
      readonly to: keyof P & string;
      readonly values: Readonly<Record<string, unknown>>;
      readonly refuse?: Readonly<Record<string, string>>;
      readonly note?: Readonly<Record<string, string>>;
      readonly otherwise?: ConverterRef;
      readonly message?: string;
      readonly default?: string;
      readonly defaultIf?: readonly string[];
      readonly doc?: string;
    }
  /** Into a metaparam, converted on the way; `default`: the Puppet value taken when the attribute is not given. */
  | {
      readonly do: 'toMeta';
      readonly meta: Extract<keyof MetaParams, string>;
      readonly as?: ConverterRef;
      readonly default?: string | number;
      readonly doc?: string;
    }
  /** Consumed silently (tag, alias, relationships). */
  | { readonly do: 'drop'; readonly doc?: string }
  /** Dropped with a note (degraded), unless `accept` says this value is harmless. */
  | { readonly do: 'note'; readonly message: string; readonly accept?: Accept }
  /**
   * Native with a note in the report, unless `accept` says this value needs none: the attribute only shapes
   * Puppet's own output (show_diff, loglevel) or means nothing for our kind, so nothing the resource does is lost.
   */
  | { readonly do: 'info'; readonly message: string; readonly accept?: Accept }
  /** Fallback with a reason, unless `accept` says this value is harmless (then consumed silently). */
  | { readonly do: 'refuse'; readonly reason: string; readonly accept?: Accept; readonly doc?: string }
  /** Read elsewhere (the vertex name, the concat assembly); `doc` says where. */
  | { readonly do: 'use'; readonly doc: string };

/** A named derivation of one parameter; it may refuse or note through the context. */
export interface Derivation {
  /** What it does, for the docs. */
  readonly doc: string;
  /** The value, `undefined` (the parameter stays unset), a `Refusal` (blamed on the first `from`), or `Sourced`. */
  readonly derive: (ctx: RuleContext) => unknown;
}

/** One parameter derived from several attributes (and the parameters set before it). */
export interface Derive {
  /** The attributes it reads; each is consumed, and they are what the value comes from unless it says `Sourced`. */
  readonly from: readonly string[];
  readonly by: Derivation;
}

/** A condition across attributes: when it holds for an attribute, that attribute is refused or noted. */
export interface Check {
  readonly attribute: string | readonly string[];
  /** `native`: a note in the report only (what Puppet ignores too). */
  readonly outcome: 'fallback' | 'degraded' | 'native';
  readonly message: string;
  /** When it holds, for the docs; the message says why. */
  readonly doc?: string;
  readonly when: (ctx: RuleContext, attribute: string) => boolean;
}

/**
 * What an automatic relation may ask of the catalog while it names its resources (Puppet's blocks read the
 * catalog too). Only resources applied on this host count, as in Puppet's own catalog.
 */
export interface AutoCatalog {
  /** Whether a resource of `type` has this title or namevar (a file's path compared as Puppet munges it). */
  has(type: string, name: string): boolean;
  /** The titles of the resources of `type` whose `attribute` is this numeric id (a user's numeric gid → its group). */
  withId(type: string, attribute: string, id: number): readonly string[];
  /** The titles of the files whose path lies strictly below the directory `dir` (mount's autobefore). */
  filesBelow(dir: string): readonly string[];
}

/**
 * One of Puppet's automatic relationships, as the type's Ruby definition declares it (`autorequire(:file) do ...`):
 * a fact read from Puppet's type, applied to every catalog whatever host compiled it. `names` returns the
 * titles or namevars Puppet looks up (`catalog.resource(type, name)`); those not in the catalog are skipped. As
 * in Puppet, none is added where an explicit relationship (either direction) already joins the two resources.
 */
export interface AutoRelation {
  /** require/subscribe: the named resources come first; before/notify: this one does; subscribe/notify also refresh. */
  readonly relation: 'require' | 'before' | 'subscribe' | 'notify';
  /** The type of the named resources, capitalised as in catalogs: `File`. */
  readonly type: string;
  /** What Puppet's type declares, for the docs. */
  readonly doc: string;
  readonly names: (r: CatalogResource, catalog: AutoCatalog) => readonly string[];
}

export interface TypeRules<P = Record<string, unknown>> {
  /** The Puppet type, capitalised as in catalogs: `File`. */
  readonly type: string;
  /** Our kind; `null`: no vertex of its own (an anchor only orders; a concat fragment is merged into its file). */
  readonly kind: string | null;
  readonly doc: string;
  /** The vertex name: the title for file/exec/notify; the namevar for kinds whose name is the object. */
  readonly name: (r: CatalogResource) => string;
  readonly attributes: Readonly<Record<string, Rule<P>>>;
  /** Parameters derived from several attributes, in order (a derivation may read the parameters set before it). */
  readonly derive?: Readonly<Partial<Record<keyof P & string, Derive>>>;
  /** Conditions across attributes, checked in order after every parameter is set (and `ignoredWhenAbsent` applied). */
  readonly checks?: readonly Check[];
  /** Parameters dropped when `state` is `absent` (they mean nothing then, in Puppet too): native with a note. */
  readonly ignoredWhenAbsent?: readonly (keyof P & string)[];
  /** Puppet's automatic relationships of this type (autorequire, autobefore, autosubscribe, autonotify); `[]`: none. */
  readonly autorelations: readonly AutoRelation[];
  /**
   * Attributes the Puppet type declares `sensitive true` (user's `password`): treated as Sensitive whether or not
   * the catalog wraps them, so what they set is redacted as Puppet redacts it.
   */
  readonly sensitive?: readonly string[];
}

export interface RuleResult {
  readonly kind: string | null;
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly meta: Record<string, unknown>;
  readonly notes: Note[];
  /** Native with a note (`info` rules): reported, not degraded. */
  readonly info: Note[];
  /** Non-empty: the resource goes to the fallback. */
  readonly refusals: Note[];
  /** Our parameters whose values come from Sensitive attributes. */
  readonly sensitiveParams: string[];
}

export const MSG_UNKNOWN_ATTRIBUTE = 'attribute has no translation rule';
export const MSG_UNSUPPORTED_VALUE = 'value has no translation';
export const MSG_IGNORED_WHEN_ABSENT = 'ignored when ensure is absent';

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

/** The attributes the type's derivations read, with the parameter each feeds. */
export function derivedFrom(rules: TypeRules): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [param, d] of Object.entries(rules.derive ?? {})) {
    if (!d) continue;
    for (const a of d.from) out.set(a, [...(out.get(a) ?? []), param]);
  }
  return out;
}

/** A value through a map rule's tables; `undefined`: unset. */
function mapValue(rule: Extract<Rule, { do: 'map' }>, attr: string, value: unknown, ctx: RuleContext): unknown {
  const key = textOf(value);
  const note = rule.note && Object.hasOwn(rule.note, key) ? rule.note[key] : undefined;
  if (note !== undefined) ctx.note(attr, note);
  if (Object.hasOwn(rule.values, key)) return rule.values[key];
  const refusal = rule.refuse && Object.hasOwn(rule.refuse, key) ? rule.refuse[key] : undefined;
  if (refusal !== undefined) return refused(refusal);
  if (rule.otherwise) return converterOf(rule.otherwise).convert(value);
  return refused(rule.message ?? MSG_UNSUPPORTED_VALUE);
}

/** What applyRules needs of a table beyond its rules, worked out once per table (not once per resource). */
interface CompiledRules {
  /** Attributes a derived parameter reads, and those parameters (`derivedFrom`). */
  readonly consumed: ReadonlyMap<string, string[]>;
  /** The map and metaparam rules with a default, in the table's order. */
  readonly defaults: readonly (readonly [string, Extract<Rule, { do: 'map' | 'toMeta' }>])[];
  readonly carryDefaults: readonly (readonly [string, Extract<Rule, { do: 'carry' }> & { readonly default: unknown }])[];
  readonly derivations: readonly (readonly [string, Derive])[];
}

const compiledRules = new WeakMap<TypeRules, CompiledRules>();

function compiled(rules: TypeRules): CompiledRules {
  let c = compiledRules.get(rules);
  if (!c) {
    const entries = Object.entries(rules.attributes);
    c = {
      consumed: derivedFrom(rules),
      defaults: entries.filter(
        (e): e is [string, Extract<Rule, { do: 'map' | 'toMeta' }>] => (e[1].do === 'map' || e[1].do === 'toMeta') && e[1].default !== undefined,
      ),
      carryDefaults: entries.filter(
        (e): e is [string, Extract<Rule, { do: 'carry' }> & { default: unknown }] => e[1].do === 'carry' && e[1].default !== undefined,
      ),
      derivations: Object.entries(rules.derive ?? {}).filter((e): e is [string, Derive] => e[1] !== undefined),
    };
    compiledRules.set(rules, c);
  }
  return c;
}

/**
 * What the rules of one resource see and build: its attributes, the parameters and metaparams set so far, the
 * notes. One object per resource with its methods on the prototype: no closures made per resource.
 */
class Context implements RuleContext {
  readonly params: Record<string, unknown> = {};
  readonly meta: Record<string, unknown> = {};
  readonly notes: Note[] = [];
  readonly infos: Note[] = [];
  readonly refusals: Note[] = [];
  /**
   * The attributes each parameter's value comes from; kept only where a Sensitive attribute could feed one (the
   * catalog marks some, or the type declares some).
   */
  readonly provenance: Map<string, readonly string[]> | undefined;

  constructor(
    readonly resource: CatalogResource,
    tracked: boolean,
  ) {
    this.provenance = tracked ? new Map() : undefined;
  }
  value(a: string): unknown {
    return this.resource.parameters[a];
  }
  has(a: string): boolean {
    return this.resource.parameters[a] !== undefined;
  }
  get(p: string): unknown {
    return this.params[p];
  }
  note(attribute: string, message: string): void {
    this.notes.push({ attribute, message });
  }
  info(attribute: string, message: string): void {
    this.infos.push({ attribute, message });
  }
  refuse(attribute: string, message: string): void {
    this.refusals.push({ attribute, message });
  }
  /**
   * Sets `param` from a rule's answer: a value, `undefined` (nothing), a Refusal (blamed on `attr`) or Sourced.
   * `from`: the attributes the value comes from; unset: `attr` alone.
   */
  set(param: string, out: unknown, attr: string, from?: readonly string[]): void {
    if (out instanceof Refusal) this.refuse(attr, out.message);
    else if (out instanceof Sourced) {
      if (out.value === undefined) return;
      this.params[param] = out.value;
      this.provenance?.set(param, out.from);
    } else if (out !== undefined) {
      this.params[param] = out;
      this.provenance?.set(param, from ?? [attr]);
    }
  }
  setMeta(key: string, out: unknown, attr: string): void {
    if (out instanceof Refusal) this.refuse(attr, out.message);
    else if (out !== undefined) this.meta[key] = out;
  }
}

const NOTHING: readonly string[] = Object.freeze([]);
const USE = { do: 'use', doc: '' } as const;

/** Runs a type's rules (then the shared metaparam rules) over one catalog resource. */
export function applyRules(rules: TypeRules, shared: Readonly<Record<string, Rule>>, r: CatalogResource): RuleResult {
  const tracked = r.sensitive.length > 0 || (rules.sensitive?.length ?? 0) > 0;
  const ctx = new Context(r, tracked);
  const { params, meta, refusals } = ctx;
  const { consumed, defaults, carryDefaults, derivations } = compiled(rules);

  // 1. Each given attribute, by its rule.
  const given = r.parameters;
  for (const attr of Object.keys(given)) {
    const value = given[attr];
    if (value === undefined) continue;
    const rule = rules.attributes[attr] ?? (consumed.has(attr) ? USE : shared[attr]);
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
        ctx.set(rule.to, rule.as ? converterOf(rule.as).convert(value) : value, attr);
        break;
      case 'map':
        ctx.set(rule.to, mapValue(rule, attr, value, ctx), attr);
        break;
      case 'toMeta':
        ctx.setMeta(rule.meta, rule.as ? converterOf(rule.as).convert(value) : value, attr);
        break;
      case 'drop':
      case 'use':
        break;
      case 'note':
        if (!accepts(rule.accept, value)) ctx.note(attr, rule.message);
        break;
      case 'info':
        if (!accepts(rule.accept, value)) ctx.info(attr, rule.message);
        break;
      case 'refuse':
        if (!accepts(rule.accept, value)) ctx.refuse(attr, rule.reason);
        break;
    }
  }
  // 2. Defaults of attributes not given.
  for (const [attr, rule] of defaults) {
    if (ctx.has(attr)) continue;
    if (rule.do === 'map' && rule.default !== undefined && (!rule.defaultIf || rule.defaultIf.some((a) => ctx.has(a)))) {
      ctx.set(rule.to, mapValue(rule, attr, rule.default, ctx), attr, NOTHING);
    } else if (rule.do === 'toMeta' && rule.default !== undefined) {
      ctx.setMeta(rule.meta, rule.as ? converterOf(rule.as).convert(rule.default) : rule.default, attr);
    }
  }
  // (after the map defaults, which may set `state`)
  for (const [attr, rule] of carryDefaults) {
    if (!ctx.has(attr) && params.state !== 'absent') ctx.set(rule.to, rule.default, attr, NOTHING);
  }
  // 3. Derived parameters, in order.
  for (const [param, d] of derivations) {
    ctx.set(param, d.by.derive(ctx), d.from[0] ?? param, ctx.provenance ? d.from.filter((a) => ctx.has(a)) : NOTHING);
  }
  // 4. What means nothing for an absent object.
  if (params.state === 'absent') {
    for (const k of rules.ignoredWhenAbsent ?? []) {
      if (params[k] === undefined) continue;
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the translated parameters are a plain record being built
      delete params[k];
      ctx.provenance?.delete(k);
      // Puppet ignores them too: nothing the resource does is lost.
      ctx.info(k, MSG_IGNORED_WHEN_ABSENT);
    }
  }
  // 5. Conditions across attributes.
  for (const c of rules.checks ?? []) {
    for (const a of typeof c.attribute === 'string' ? [c.attribute] : c.attribute) {
      if (!c.when(ctx, a)) continue;
      if (c.outcome === 'fallback') ctx.refuse(a, c.message);
      else if (c.outcome === 'degraded') ctx.note(a, c.message);
      else ctx.info(a, c.message);
    }
  }
  const sensitiveParams: string[] = [];
  if (ctx.provenance) {
    const sens = new Set([...r.sensitive, ...(rules.sensitive ?? [])]);
    for (const [p, from] of ctx.provenance) if (p in params && from.some((a) => sens.has(a))) sensitiveParams.push(p);
    sensitiveParams.sort();
  }
  return { kind: rules.kind, name: rules.name(r), params, meta, notes: ctx.notes, info: ctx.infos, refusals, sensitiveParams };
}
