/**
 * GraphSpec → mgmt YAML text, deterministic (the spec's order; keys as given) and safe for YAML 1.1 and 1.2
 * readers alike: a string is written plain only when no reader could take it for anything else (`0644`, `yes`,
 * `1e3`, `~`, `.inf` are quoted). Origins become comments. It prints what it is given: redact first.
 */
import type { GraphSpec, ResourceSpec } from './spec.js';

export interface WriteOptions {
  /** Comment lines for the top of the file (without `#`). */
  readonly header?: readonly string[];
}

const RESERVED = new Set(['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null', '~', '']);
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_/.@%+=-]*$/;

/** A string as a YAML scalar: plain when unambiguous, else double-quoted (JSON escapes are valid YAML). */
export function yamlString(s: string): string {
  if (PLAIN.test(s) && !RESERVED.has(s.toLowerCase())) return s;
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return yamlString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '.inf' : v < 0 ? '-.inf' : '.nan';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

const isCollection = (v: unknown): v is object => typeof v === 'object' && v !== null;
const isEmpty = (v: object) => (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);

/** A flow form for nested lists (JSON with YAML-safe strings). */
function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (isCollection(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${yamlString(k)}: ${flow(x)}`)
      .join(', ')}}`;
  return scalar(v);
}

/** Block lines of a map at `indent`. */
function mapLines(o: Readonly<Record<string, unknown>>, indent: string, out: string[]): void {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const key = `${indent}${yamlString(k)}:`;
    if (!isCollection(v) || isEmpty(v)) out.push(`${key} ${isCollection(v) ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}`);
    else if (Array.isArray(v)) {
      out.push(key);
      seqLines(v, `${indent}  `, out);
    } else {
      out.push(key);
      mapLines(v as Record<string, unknown>, `${indent}  `, out);
    }
  }
}

function seqLines(items: readonly unknown[], indent: string, out: string[]): void {
  for (const v of items) {
    if (!isCollection(v) || isEmpty(v) || Array.isArray(v)) out.push(`${indent}- ${isCollection(v) ? flow(v) : scalar(v)}`);
    else {
      const sub: string[] = [];
      mapLines(v as Record<string, unknown>, `${indent}  `, sub);
      sub[0] = `${indent}- ${sub[0]!.slice(indent.length + 2)}`;
      out.push(...sub);
    }
  }
}

function comment(text: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is what this regex is for
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

function originComment(r: ResourceSpec, indent: string): string | undefined {
  const o = r.origin;
  if (!o) return undefined;
  const at = o.file ? ` at ${o.file}:${o.line ?? '?'}` : o.line !== undefined ? ` at line ${o.line}` : '';
  return `${indent}# ${comment(o.ref)}${at}`;
}

function resourceEntries(r: ResourceSpec, name: string): Record<string, unknown> {
  const entry: Record<string, unknown> = { name, ...r.params };
  if (Object.keys(r.meta).length) entry.meta = r.meta;
  return entry;
}

export function writeGraphYaml(spec: GraphSpec, opts: WriteOptions = {}): string {
  const out: string[] = [];
  for (const h of opts.header ?? []) out.push(h === '' ? '#' : `# ${comment(h)}`);
  out.push(`graph: ${yamlString(spec.graph)}`);
  if (spec.comment !== undefined) out.push(`comment: ${yamlString(spec.comment)}`);
  if (spec.autoedges !== undefined) out.push(`autoedges: ${String(spec.autoedges)}`);
  const byKind = new Map<string, { r: ResourceSpec; name: string }[]>();
  for (const [list, prefix] of [
    [spec.resources, ''],
    [spec.exports, '@@'],
  ] as const) {
    for (const r of list) {
      let l = byKind.get(r.kind);
      if (!l) byKind.set(r.kind, (l = []));
      l.push({ r, name: prefix + r.name });
    }
  }
  if (byKind.size === 0) out.push('resources: {}');
  else {
    out.push('resources:');
    for (const kind of [...byKind.keys()].sort()) {
      out.push(`  ${yamlString(kind)}:`);
      for (const { r, name } of byKind.get(kind)!) {
        const c = originComment(r, '  ');
        if (c) out.push(c);
        seqLines([resourceEntries(r, name)], '  ', out);
      }
    }
  }
  if (spec.edges.length) {
    out.push('edges:');
    for (const e of spec.edges) {
      out.push(`- name: ${yamlString(e.name)}`);
      out.push(`  from: ${flow({ kind: e.from.kind, name: e.from.name })}`);
      out.push(`  to: ${flow({ kind: e.to.kind, name: e.to.name })}`);
      if (e.notify) out.push('  notify: true');
    }
  }
  if (spec.collect.length) {
    out.push('collect:');
    for (const c of spec.collect) {
      if (c.query !== undefined) out.push(`# query: ${comment(JSON.stringify(c.query))}`);
      seqLines([{ kind: c.kind, pattern: c.pattern, ...(c.allow?.length ? { allow: c.allow } : {}) }], '', out);
    }
  }
  return out.join('\n') + '\n';
}
