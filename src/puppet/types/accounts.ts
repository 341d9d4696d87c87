/** Shared pieces of the Puppet `user` and `group` translations. */
import { REFUSED, type Rule, type RuleContext } from '../rules.js';

/** Puppet munges a numeric string id to an integer; anything else is not an id. */
export function numericId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return Number(v);
  return undefined;
}

/** A `map` rule for a uid/gid attribute. */
export function idRule(attr: string, to: string): Rule {
  return {
    do: 'map',
    to,
    fn: (v: unknown, ctx: RuleContext) => {
      const n = numericId(v);
      if (n !== undefined) return n;
      ctx.refuse(attr, 'not a numeric id');
      return REFUSED;
    },
  };
}

/** The namevar: the account's name is the vertex name (old bug 4: never the title when `name` is given). */
export const accountName = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string =>
  typeof r.parameters.name === 'string' && r.parameters.name !== '' ? r.parameters.name : r.title;

const PLATFORM = 'a Solaris/AIX/BSD/macOS attribute that the useradd and groupadd providers do not use';

/** Attributes of other platforms' providers: Puppet's useradd/groupadd providers do not support them either. */
export function platformOnly(...attrs: string[]): Record<string, Rule> {
  return Object.fromEntries(attrs.map((a) => [a, { do: 'refuse', reason: PLATFORM }]));
}
