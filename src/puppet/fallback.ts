/**
 * The fallback: a resource with no native translation becomes a vertex of the `puppet` kind, applied by Puppet
 * itself through the long-lived worker (src/puppet/fallback-kind.ts). Its contract:
 * `puppet[<Type>[<title>]]` with params `{type, title, parameters, sensitive}`, where `parameters` are the
 * catalog's explicit parameters minus the relationship metaparams and `stage`; it polls at Puppet's runinterval.
 * A resource that only works together with others (a concat_file and its fragments) carries them as
 * `companions`, applied in the same Puppet catalog.
 */
import type { CatalogResource } from './catalog.js';
import { RELATIONSHIP_PARAMS } from './relationships.js';

export const FALLBACK_KIND = 'puppet';

/** Puppet's default runinterval, in seconds. */
export const DEFAULT_RUNINTERVAL_S = 1800;

/** Puppet types whose resources react to a refresh (the worker's `refresh` op). */
export const REFRESHABLE_PUPPET_TYPES: ReadonlySet<string> = new Set(['Exec', 'Service', 'Mount', 'Ini_setting']);

const STRIPPED = new Set<string>([...RELATIONSHIP_PARAMS, 'stage']);

export interface FallbackVertex {
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly meta: Record<string, unknown>;
  /** Dotted paths of Sensitive values inside `params`. */
  readonly sensitive: string[];
}

/** One resource as the worker takes it: explicit parameters without relationships, Sensitive names. */
function workerResource(r: CatalogResource): { type: string; title: string; parameters: Record<string, unknown>; sensitive: string[] } {
  const parameters: Record<string, unknown> = {};
  for (const k of Object.keys(r.parameters).sort()) if (!STRIPPED.has(k)) parameters[k] = r.parameters[k];
  return { type: r.type, title: r.title, parameters, sensitive: r.sensitive.filter((s) => s in parameters).sort() };
}

export function fallbackVertex(r: CatalogResource, runinterval: number, companions: readonly CatalogResource[] = []): FallbackVertex {
  const main = workerResource(r);
  const others = companions.map(workerResource);
  return {
    name: `${r.type}[${r.title}]`,
    params: { ...main, ...(others.length ? { companions: others } : {}) },
    meta: { poll: runinterval },
    sensitive: [...main.sensitive.map((s) => `parameters.${s}`), ...others.flatMap((c, i) => c.sensitive.map((s) => `companions.${i}.parameters.${s}`))],
  };
}
