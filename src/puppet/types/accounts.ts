/** Shared pieces of the Puppet `user` and `group` translations. */
import type { Rule } from '../rules.js';

/** The namevar: the account's name is the vertex name (old bug 4: never the title when `name` is given). */
export const accountName = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string =>
  typeof r.parameters.name === 'string' && r.parameters.name !== '' ? r.parameters.name : r.title;

const PLATFORM = 'a Solaris/AIX/BSD/macOS attribute that the useradd and groupadd providers do not use';

/** Attributes of other platforms' providers: Puppet's useradd/groupadd providers do not support them either. */
export function platformOnly(...attrs: string[]): Record<string, Extract<Rule, { do: 'refuse' }>> {
  return Object.fromEntries(attrs.map((a) => [a, { do: 'refuse', reason: PLATFORM } as const]));
}
