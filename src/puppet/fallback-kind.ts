/**
 * The `puppet` fallback kind: a Puppet resource that mgmt-ts cannot translate natively, checked and applied by
 * Puppet itself through the shared long-lived worker (src/puppet/runtime/worker.ts). It keeps its edges like any
 * vertex; it has no native watch, so after the first check it is re-checked on the `meta.poll` ticks (the
 * translator sets Puppet's runinterval). It belongs to the Puppet front door, not to the core kinds: a front door
 * that runs graphs which may hold Puppet resources hands the engine `withPuppetKind(registry)`.
 */
import type { ParamsOf } from '../resources/params.js';
import type { Registry } from '../resources/registry.js';
import { defineKind, type Problem } from '../resources/resource.js';
import { deferredResource } from '../resources/deferred-resource.js';

const params = {
  type: {
    type: 'string',
    pattern: '^[A-Za-z][A-Za-z0-9_]*(::[A-Za-z][A-Za-z0-9_]*)*$',
    required: 'the Puppet resource type, such as Tidy',
    doc: 'The Puppet resource type, as the catalog spells it (`Tidy`, `Mgmt::Thing`).',
  },
  title: {
    type: 'string',
    required: "the resource's Puppet title",
    doc: "The resource's Puppet title; Puppet fills the namevar from it when `parameters` leaves it out.",
  },
  parameters: {
    type: 'json',
    doc: 'The explicit Puppet parameters as a JSON object, values as in the catalog document (`{"__binary": ...}` for binary data); relationship metaparams (`before`, `require`, `notify`, `subscribe`, `stage`) are not allowed: they are edges.',
  },
  sensitive: { type: 'string[]', doc: 'Names of the parameters whose values are Sensitive: Puppet redacts them, and mgmt never logs their values.' },
  companions: {
    type: 'json',
    doc: 'Other resources applied in the same Puppet catalog, each `{type, title, parameters, sensitive}`, for a resource that only works together with them (a `Concat_file` with its `Concat_fragment`s); what the resources generate counts as this resource’s state.',
  },
} as const;

export type PuppetParams = ParamsOf<typeof params>;

const RELATIONSHIP_METAPARAMS = ['before', 'require', 'notify', 'subscribe', 'stage'];
/** Types whose RAL resource has `refresh` (for noop's "would refresh"; under apply the worker tells). */
export const REFRESHABLE_TYPES = new Set(['exec', 'service', 'mount', 'package', 'ini_setting']);
export const puppetKind = defineKind({
  kind: 'puppet',
  doc: "Fallback for Puppet resources without a native translation: Puppet itself checks (in noop mode) and applies the resource `type`/`title` with `parameters`, through one long-lived Puppet worker process shared by every `puppet` vertex. The vertex name is conventionally `Type[title]`. It has no native watch: it is checked once at start and then on each `meta.poll` tick (the Puppet translator sets Puppet's runinterval). It is refreshable: a refresh over a notify edge calls Puppet's own refresh for the types that have one (Exec, Service, Mount, Package), after the state has been checked and applied. Values of the parameters named in `sensitive` are never logged. Cancelling or timing out (`meta.timeout`) a check or apply kills the Puppet worker (and what it runs); the next request starts a new one.",
  params,
  refreshable: true,
  reach: { touches: ['system'], collect: 'explicit' },
  validate: (_name, p) => {
    const out: Problem[] = [];
    if (p.type.trim() === '') out.push({ param: 'type', message: 'the Puppet resource `type` is empty: set it to the Puppet resource type, such as Tidy' });
    if (p.title === '') out.push({ param: 'title', message: "the Puppet resource `title` is empty: set it to the resource's Puppet title" });
    if (p.parameters !== undefined) {
      if (!isObject(p.parameters)) {
        out.push({ param: 'parameters', message: `\`parameters\` must be an object of Puppet parameters, got ${describeJson(p.parameters)}` });
      } else {
        const rel = RELATIONSHIP_METAPARAMS.filter((k) => k in (p.parameters as Record<string, unknown>));
        if (rel.length > 0) {
          out.push({
            param: 'parameters',
            message: `\`parameters\` must not contain the relationship metaparams ${rel.join(', ')}: express them as edges`,
          });
        }
      }
    }
    if (p.companions !== undefined) {
      const ok = Array.isArray(p.companions) && p.companions.every((c) => isObject(c) && typeof c.type === 'string' && typeof c.title === 'string');
      if (!ok) out.push({ param: 'companions', message: '`companions` must be a list of {type, title, parameters, sensitive} objects' });
    }
    return out;
  },
  // A Puppet File (or Concat_file, which makes one) manages its path: a native purge of a directory above leaves it
  // alone. Puppet itself lets another type manage the same path (File and Concat_file on one path), so it shares it.
  autoEdges: (_name, p) => {
    const t = p.type.toLowerCase();
    if (t !== 'file' && t !== 'concat_file') return {};
    const given = isObject(p.parameters) ? p.parameters.path : undefined;
    const path = typeof given === 'string' ? given : p.title;
    return path.startsWith('/') ? { manages: [path.length > 1 ? path.replace(/\/+$/, '') : path], sharesPath: true } : {};
  },
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./fallback-resource.js'),
      (m) => m.puppetResource(name, p, ctx),
    ),
});

/** `registry` with the `puppet` fallback kind added. */
export function withPuppetKind(registry: Registry): Registry {
  return registry.with(puppetKind);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
