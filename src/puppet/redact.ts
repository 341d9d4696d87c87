/**
 * Sensitive values are applied but never printed. A spec keeps the clear values (the engine needs them) and
 * lists the sensitive parameters in the `sensitive` metaparam (`content`, `parameters.content` one level down, or
 * `companions.0.parameters.content` in a fallback's companions); printers call `redactSpec` first. The redaction
 * itself is the one helper in src/observe/redact.ts.
 */
import type { GraphSpec, ResourceSpec } from '../graph/spec.js';
import { redactParams } from '../observe/redact.js';

export function redactResource(r: ResourceSpec): ResourceSpec {
  if (!r.meta.sensitive?.length) return r;
  return { ...r, params: redactParams(r.params, r.meta.sensitive) };
}

/** The spec as it may be printed: Sensitive values replaced by the marker. */
export function redactSpec(spec: GraphSpec): GraphSpec {
  return { ...spec, resources: spec.resources.map(redactResource), exports: spec.exports.map(redactResource) };
}

export function hasSensitive(spec: GraphSpec): boolean {
  return [...spec.resources, ...spec.exports].some((r) => (r.meta.sensitive?.length ?? 0) > 0);
}
