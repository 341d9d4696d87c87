/**
 * Types a YAML value by its parameter's schema, the way mgmt's YAML 1.1 decoder does: a string parameter
 * keeps the scalar's text (`mode: 0644` is "0644"), booleans accept yes/no/on/off, integers accept YAML 1.1
 * forms (0x1f, 0o17, 017, 1_000). A plain `null`, `~` or empty value means "unset". A value that cannot be
 * typed is returned as it was, so that schema validation reports it with its position.
 */
import type { ParamType } from '../resources/params.js';
import type { YNode } from './yaml-tree.js';

/** Marks "the parameter is unset". */
export const UNSET = Symbol('unset');

const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['', '~', 'null', 'Null', 'NULL']);

export function isNullScalar(n: YNode): boolean {
  return n.kind === 'scalar' && (n.value === null || (n.plain && NULL.has(n.value)));
}

/** The node as plain data, every scalar a string (or null). */
export function toPlain(n: YNode): unknown {
  switch (n.kind) {
    case 'scalar':
      return isNullScalar(n) ? null : n.value;
    case 'seq':
      return n.items.map(toPlain);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const [k, e] of n.entries) o[k] = toPlain(e.value);
      return o;
    }
  }
}

export function coerce(n: YNode, type: ParamType): unknown {
  if (isNullScalar(n)) return UNSET;
  if (type === 'json') return toJson(n);
  if (n.kind === 'scalar') {
    const text = n.value ?? '';
    switch (type) {
      case 'string':
        return text;
      case 'boolean':
        if (!n.plain) return text;
        return TRUE.has(text) ? true : FALSE.has(text) ? false : text;
      case 'integer':
        return n.plain ? (parseInteger(text) ?? text) : text;
      case 'number':
        return n.plain ? (parseNumber(text) ?? text) : text;
      default:
        return text;
    }
  }
  if ((type === 'string[]' || type === 'string|string[]') && n.kind === 'seq') {
    return n.items.map((i) => (i.kind === 'scalar' && !isNullScalar(i) ? (i.value ?? '') : toPlain(i)));
  }
  if (type === 'map' && n.kind === 'map') {
    const o: Record<string, unknown> = {};
    for (const [k, e] of n.entries) {
      const v = e.value;
      o[k] = v.kind === 'scalar' ? (isNullScalar(v) ? '' : (v.value ?? '')) : toPlain(v);
    }
    return o;
  }
  return toPlain(n);
}

/** Any JSON value, with YAML 1.2 core typing of plain scalars (true, 12, 1.5, null); quoted scalars stay strings. */
function toJson(n: YNode): unknown {
  switch (n.kind) {
    case 'scalar': {
      const text = n.value ?? '';
      if (!n.plain) return text;
      if (NULL.has(text)) return null;
      if (/^(true|True|TRUE)$/.test(text)) return true;
      if (/^(false|False|FALSE)$/.test(text)) return false;
      if (/^[-+]?[0-9]+$/.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : text;
      if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
      return text;
    }
    case 'seq':
      return n.items.map(toJson);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const [k, e] of n.entries) o[k] = toJson(e.value);
      return o;
    }
  }
}

export function parseInteger(text: string): number | undefined {
  const t = text.replace(/_/g, '');
  const m = /^([-+]?)(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|0[0-7]+|0|[1-9][0-9]*)$/.exec(t);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!;
  let v: number;
  if (body.startsWith('0x')) v = parseInt(body.slice(2), 16);
  else if (body.startsWith('0o')) v = parseInt(body.slice(2), 8);
  else if (body.startsWith('0b')) v = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0'))
    v = parseInt(body.slice(1), 8); // YAML 1.1 octal
  else v = parseInt(body, 10);
  return Number.isSafeInteger(v) ? sign * v : undefined;
}

export function parseNumber(text: string): number | undefined {
  const i = parseInteger(text);
  if (i !== undefined) return i;
  const t = text.replace(/_/g, '');
  if (/^[-+]?\.(inf|Inf|INF)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  return undefined;
}
