/**
 * A registry: the resource kinds a graph may use, by name. It is a value, not a module-level table: the loader,
 * the validator, the schema, the engine, the collect rules and the translator are each handed one, so a graph
 * can be loaded against any set of kinds (the core kinds, the core kinds plus Puppet's fallback kind, a test
 * kind). Only front doors (the CLI, test harnesses, the docs generators) choose which.
 */
import type { ResourceKind } from './resource.js';

export interface Registry {
  /** The kind of that name, or undefined when this registry does not have it. */
  get(kind: string): ResourceKind | undefined;
  /** Every kind, sorted by name. */
  all(): readonly ResourceKind[];
  /** A new registry with these kinds too; this one is left as it is. A name it already has is an error. */
  with(...kinds: readonly ResourceKind[]): Registry;
}

/** A registry of exactly these kinds; two kinds of one name are an error. */
export function registryOf(kinds: readonly ResourceKind[]): Registry {
  const byName = new Map<string, ResourceKind>();
  for (const k of kinds) {
    if (byName.has(k.kind)) throw new Error(`two resource kinds are named \`${k.kind}\`: a registry holds one kind per name`);
    byName.set(k.kind, k);
  }
  const sorted = Object.freeze([...byName.values()].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)));
  return Object.freeze({
    get: (kind: string) => byName.get(kind),
    all: () => sorted,
    with: (...more: readonly ResourceKind[]) => registryOf([...sorted, ...more]),
  });
}
