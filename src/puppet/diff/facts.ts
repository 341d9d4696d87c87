/**
 * Facts per node: a fact file (octocatalog-diff's `--- !ruby/object:Puppet::Node::Facts` YAML with `name` and
 * `values`, Puppet's JSON facts document, or a plain map), a directory of `<node>.yaml` / `<node>.json` files, and
 * typed overrides as octocatalog-diff writes them: `key=value` (true/false, integers and decimals typed as such),
 * `key=(string)value`, `(fixnum)`, `(integer)`, `(float)`, `(boolean)`, `(json)`, `(nil)` (removes the fact), and a
 * `/regex/` key for every fact whose name matches.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { loadYamlBounded } from '../../graph/yaml-tree.js';
import { isMap } from './same-value.js';

export class FactsError extends Error {}

export type Facts = Record<string, unknown>;

/** Reads a facts file; `values` of a facts document, else the map itself. */
export function readFactsFile(path: string): Facts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FactsError(`cannot read the fact file ${path}: ${(e as Error).message}`);
  }
  // Ruby's object tag says which class wrote the document; the data under it is plain YAML.
  const plain = text.replace(/^(---\s*)?!ruby\/object:\S+/m, '$1');
  let doc: unknown;
  try {
    doc = plain.trimStart().startsWith('{') ? JSON.parse(plain) : loadYamlBounded(plain, yaml.JSON_SCHEMA);
  } catch (e) {
    throw new FactsError(`${path}: not a facts document (YAML or JSON): ${(e as Error).message}`);
  }
  if (!isMap(doc)) throw new FactsError(`${path}: facts are a map of fact names to values`);
  if (isMap(doc.values)) return { ...doc.values };
  return { ...doc };
}

/** The facts file of a node in a directory (`<node>.yaml`, `.yml` or `.json`), if there is one. */
export function factsFileIn(dir: string, node: string): string | undefined {
  for (const ext of ['yaml', 'yml', 'json']) {
    const p = join(dir, `${node}.${ext}`);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface FactOverride {
  readonly key: string | RegExp;
  /** undefined: remove the fact. */
  readonly value: unknown;
}

function typed(raw: string, text: string): unknown {
  const m = /^\((string|fixnum|integer|float|boolean|json|nil)\)(.*)$/s.exec(raw);
  if (!m) {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    if (/^-?\d+$/.test(raw)) return Number(raw);
    if (/^-?\d+\.\d+$/.test(raw)) return Number(raw);
    return raw;
  }
  const [, type, v = ''] = m;
  switch (type) {
    case 'string':
      return v;
    case 'fixnum':
    case 'integer':
      if (!/^-?\d+$/.test(v)) throw new FactsError(`--fact-override ${text}: ${JSON.stringify(v)} is not an integer`);
      return Number(v);
    case 'float':
      if (!Number.isFinite(Number(v)) || v.trim() === '') throw new FactsError(`--fact-override ${text}: ${JSON.stringify(v)} is not a number`);
      return Number(v);
    case 'boolean':
      if (!/^(true|false)$/i.test(v)) throw new FactsError(`--fact-override ${text}: a boolean is true or false`);
      return v.toLowerCase() === 'true';
    case 'json':
      try {
        return JSON.parse(v);
      } catch (e) {
        throw new FactsError(`--fact-override ${text}: not JSON: ${(e as Error).message}`);
      }
    default:
      return undefined;
  }
}

export function parseFactOverride(text: string): FactOverride {
  const eq = text.startsWith('/') ? text.indexOf('=', text.indexOf('/', 1)) : text.indexOf('=');
  if (eq <= 0) throw new FactsError(`--fact-override ${JSON.stringify(text)}: expected key=value (e.g. ipaddress=10.0.0.1 or os=(json){"family":"Debian"})`);
  const k = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  let key: string | RegExp = k;
  if (k.length > 2 && k.startsWith('/') && k.endsWith('/')) {
    try {
      key = new RegExp(k.slice(1, -1));
    } catch (e) {
      throw new FactsError(`--fact-override ${JSON.stringify(text)}: bad regular expression: ${(e as Error).message}`);
    }
  }
  return { key, value: typed(raw, text) };
}

export function applyOverrides(facts: Facts, overrides: readonly FactOverride[]): Facts {
  const out = { ...facts };
  for (const o of overrides) {
    const keys = typeof o.key === 'string' ? [o.key] : Object.keys(out).filter((k) => (o.key as RegExp).test(k));
    for (const k of keys) {
      if (o.value === undefined) Reflect.deleteProperty(out, k);
      else out[k] = o.value;
    }
  }
  return out;
}
