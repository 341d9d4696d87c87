/**
 * Sensitive values are applied but never printed. A spec keeps the clear values (the engine needs them) and
 * lists the sensitive parameters in `ResourceSpec.sensitive` (`content`, `parameters.content` one level down, or
 * `companions.0.parameters.content` in a fallback's companions); printers call `redactSpec` first.
 */
import type { GraphSpec, ResourceSpec } from '../graph/spec.js';

export const REDACTED = '[redacted]';

/** Replaces every scalar inside a value by the marker, keeping lists and maps (so the shape still validates). */
function redactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactValue);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x)]));
  return REDACTED;
}

/** The value with the part at `path` (keys and list indexes) redacted; a path that leads nowhere changes nothing. */
function redactAt(v: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return redactValue(v);
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(v)) {
    const i = /^\d+$/.test(head) ? Number(head) : -1;
    if (i < 0 || i >= v.length) return v;
    const out = [...(v as unknown[])];
    out[i] = redactAt(v[i], rest);
    return out;
  }
  if (typeof v !== 'object' || v === null || !(head in v)) return v;
  return { ...(v as Record<string, unknown>), [head]: redactAt((v as Record<string, unknown>)[head], rest) };
}

/** `a.b.c` as keys; the last key of a Puppet `parameters` map is taken whole (a parameter name could hold a dot). */
function pathKeys(path: string): string[] {
  const parts = path.split('.');
  const at = parts.indexOf('parameters');
  return at < 0 || at === parts.length - 1 ? parts : [...parts.slice(0, at + 1), parts.slice(at + 1).join('.')];
}

export function redactResource(r: ResourceSpec): ResourceSpec {
  if (!r.sensitive?.length) return r;
  let params: unknown = r.params;
  for (const path of r.sensitive) params = redactAt(params, pathKeys(path));
  return { ...r, params: params as Record<string, unknown> };
}

/** The spec as it may be printed: Sensitive values replaced by the marker. */
export function redactSpec(spec: GraphSpec): GraphSpec {
  return { ...spec, resources: spec.resources.map(redactResource), exports: spec.exports.map(redactResource) };
}

export function hasSensitive(spec: GraphSpec): boolean {
  return [...spec.resources, ...spec.exports].some((r) => (r.sensitive?.length ?? 0) > 0);
}
