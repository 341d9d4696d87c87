/**
 * Helpers for the `autorelations` of the rule tables: the small pieces of Ruby that Puppet's type definitions
 * run to name the resources they relate to automatically, written once.
 */
import type { AutoRelation } from '../rules.js';

/** A string attribute, or nothing. */
export const str = (v: unknown): string[] => (typeof v === 'string' && v !== '' ? [v] : []);

/** The first value of a property (Puppet's `shouldorig[0]`). */
const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

/** An account named by a property, unless it is numeric (Puppet skips ids: `val =~ /^\d+$/`). */
export const accountNamed = (v: unknown): string[] => {
  const x = first(v);
  return typeof x === 'string' && x !== '' && !/^\d+$/.test(x) ? [x] : [];
};

/** `Pathname#parent` of an absolute path, as a string (undefined for `/` and relative paths). */
export function parentDir(p: string): string | undefined {
  if (!p.startsWith('/') || p === '/') return undefined;
  const trimmed = p.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash <= 0 ? '/' : trimmed.slice(0, slash);
}

/** The `user` of a resource, required as a User (cron, ssh_authorized_key). */
export const requiresItsUser = (doc: string): AutoRelation => ({
  relation: 'require',
  type: 'User',
  doc,
  names: (r) => str(first(r.parameters.user)),
});
