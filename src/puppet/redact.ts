/**
 * Sensitive values are applied but never printed. A spec keeps the clear values (the engine needs them) and
 * lists the sensitive parameters in `ResourceSpec.sensitive` (`content`, or `parameters.content` one level down);
 * printers call `redactSpec` first.
 */
import type { GraphSpec, ResourceSpec } from '../graph/spec.js';

export const REDACTED = '[redacted]';

/** Replaces every scalar inside a value by the marker, keeping lists and maps (so the shape still validates). */
function redactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactValue);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x)]));
  return REDACTED;
}

export function redactResource(r: ResourceSpec): ResourceSpec {
  if (!r.sensitive?.length) return r;
  const params: Record<string, unknown> = { ...r.params };
  for (const path of r.sensitive) {
    const [head, ...rest] = path.split('.');
    if (head === undefined || !(head in params)) continue;
    if (rest.length === 0) params[head] = redactValue(params[head]);
    else {
      const inner = params[head];
      if (typeof inner !== 'object' || inner === null) continue;
      const key = rest.join('.');
      if (key in inner) params[head] = { ...(inner as Record<string, unknown>), [key]: redactValue((inner as Record<string, unknown>)[key]) };
    }
  }
  return { ...r, params };
}

/** The spec as it may be printed: Sensitive values replaced by the marker. */
export function redactSpec(spec: GraphSpec): GraphSpec {
  return { ...spec, resources: spec.resources.map(redactResource), exports: spec.exports.map(redactResource) };
}

export function hasSensitive(spec: GraphSpec): boolean {
  return [...spec.resources, ...spec.exports].some((r) => (r.sensitive?.length ?? 0) > 0);
}
