/**
 * The fallback: a resource with no native translation becomes a vertex of the `puppet` kind, applied by Puppet
 * itself through the long-lived worker (src/resources/puppet.ts, written separately). Its contract:
 * `puppet[<Type>[<title>]]` with params `{type, title, parameters, sensitive}`, where `parameters` are the
 * catalog's explicit parameters minus the relationship metaparams and `stage`; it polls at Puppet's runinterval.
 */
import type { CatalogResource } from './catalog.js';
import { RELATIONSHIP_PARAMS } from './relationships.js';

export const FALLBACK_KIND = 'puppet';

/** Puppet's default runinterval, in seconds. */
export const DEFAULT_RUNINTERVAL_S = 1800;

/** Puppet types whose resources react to a refresh (the worker's `refresh` op). */
export const REFRESHABLE_PUPPET_TYPES: ReadonlySet<string> = new Set(['Exec', 'Service', 'Mount']);

const STRIPPED = new Set<string>([...RELATIONSHIP_PARAMS, 'stage']);

export interface FallbackVertex {
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly meta: Record<string, unknown>;
  /** Dotted paths of Sensitive values inside `params`. */
  readonly sensitive: string[];
}

export function fallbackVertex(r: CatalogResource, runinterval: number): FallbackVertex {
  const parameters: Record<string, unknown> = {};
  for (const k of Object.keys(r.parameters).sort()) if (!STRIPPED.has(k)) parameters[k] = r.parameters[k];
  const sensitive = r.sensitive.filter((s) => s in parameters).sort();
  return {
    name: `${r.type}[${r.title}]`,
    params: { type: r.type, title: r.title, parameters, sensitive },
    meta: { poll: runinterval },
    sensitive: sensitive.map((s) => `parameters.${s}`),
  };
}
