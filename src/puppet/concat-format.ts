/**
 * concat_file's `format` for JSON (concat 7+, `lib/puppet/type/concat_file.rb`, `should_content`): each fragment
 * (sorted, `ensure_newline` applied) is parsed as JSON; `json` and `json-pretty` merge them into one object
 * (`nested_merge`: objects merge deeply, arrays concatenate without duplicates, an empty side gives way to the
 * other; a key with two different scalar values fails unless `force`, which keeps the earlier fragment's value),
 * `json-array` and `json-array-pretty` list them. `json` and `json-array` print compactly, the `-pretty` forms as
 * Ruby's `JSON.pretty_generate` (two-space indentation, which `JSON.stringify(v, null, 2)` writes the same way,
 * except for empty objects and arrays, which Ruby's json versions print differently: refused there).
 *
 * Where JavaScript would print what Ruby prints differently, the value is refused (the file goes to the fallback,
 * where Puppet assembles it): a non-integer or unsafe number (Ruby prints `1.0`, `1.0e+20`), an object key that
 * is an array index (JavaScript moves such keys first), a string with a control character other than the usual
 * escapes. `yaml` (Ruby's Psych output) is not reproduced.
 */

export type JsonFormat = 'json' | 'json-array' | 'json-pretty' | 'json-array-pretty';

export const JSON_FORMATS: ReadonlySet<string> = new Set<JsonFormat>(['json', 'json-array', 'json-pretty', 'json-array-pretty']);

/** Why a JSON assembly is refused (constant text). */
export class JsonRefusal extends Error {}

const INDEX_KEY = /^(0|[1-9][0-9]*)$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is checked
const ODD_CONTROL = /[\u0000-\u0007\u000b\u000e-\u001f\u007f]/;

/** Checks that JavaScript prints the parsed value as Ruby does. */
function checkPrintable(v: unknown): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new JsonRefusal('a JSON fragment holds a number that Ruby prints differently (not a safe integer)');
  } else if (typeof v === 'string') {
    if (ODD_CONTROL.test(v)) throw new JsonRefusal('a JSON fragment holds a string with control characters that Ruby escapes differently');
  } else if (Array.isArray(v)) {
    for (const x of v) checkPrintable(x);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (INDEX_KEY.test(k)) throw new JsonRefusal('a JSON fragment has a numeric object key, whose order JavaScript does not keep');
      checkPrintable(k);
      checkPrintable(x);
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Ruby's `empty?`, which only strings, arrays and hashes have (`5.empty?` raises, and Puppet fails). */
function isEmpty(v: Json): boolean {
  if (typeof v === 'number' || typeof v === 'boolean') throw new JsonRefusal('a JSON fragment that is a number or a boolean cannot be merged (Puppet fails)');
  return Array.isArray(v) ? v.length === 0 : isObject(v) ? Object.keys(v).length === 0 : v === '';
}

/** Ruby's `==` between parsed JSON values (objects compare without regard to key order). */
function sameJson(a: Json, b: Json): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]!));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k]!, b[k]!));
  }
  return a === b;
}

/** concat's `nested_merge(hash1, hash2)`. */
function nestedMerge(a: Json, b: Json, force: boolean): Json {
  if (b === null || isEmpty(b)) return a;
  if (a === null || isEmpty(a)) return b;
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: Json[] = [];
    for (const x of [...a, ...b]) if (!out.some((y) => sameJson(x, y))) out.push(x);
    return out;
  }
  if (!isObject(a) || !isObject(b)) throw new JsonRefusal('JSON fragments that are not objects cannot be merged (Puppet fails)');
  const out: Record<string, Json> = { ...a };
  for (const [k, v2] of Object.entries(b)) {
    if (!Object.hasOwn(out, k)) {
      out[k] = v2;
      continue;
    }
    const v1 = out[k]!;
    if ((isObject(v1) && isObject(v2)) || (Array.isArray(v1) && Array.isArray(v2))) out[k] = nestedMerge(v1, v2, force);
    else if (!sameJson(v1, v2) && !force) throw new JsonRefusal('two JSON fragments give one key different values and force is not set (Puppet fails)');
  }
  return out;
}

/** The file's content from its sorted fragment texts; throws JsonRefusal. */
export function assembleJson(format: JsonFormat, texts: readonly string[], force: boolean): string {
  const parsed = texts.map((t) => {
    let v: Json;
    try {
      v = JSON.parse(t) as Json;
    } catch {
      throw new JsonRefusal('a fragment is not valid JSON (Puppet fails)');
    }
    checkPrintable(v);
    return v;
  });
  const pretty = format === 'json-pretty' || format === 'json-array-pretty';
  const value = format === 'json' || format === 'json-pretty' ? parsed.reduce<Json>((memo, cur) => nestedMerge(memo, cur, force), {}) : parsed;
  if (pretty && hasEmpty(value)) throw new JsonRefusal('an empty object or array, which Ruby’s JSON versions pretty-print differently');
  return pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}

/** An empty object or array anywhere (json 2.6, Debian 12's, prints `{\n}` and `[\n\n]`; 2.7 and later `{}` and `[]`). */
function hasEmpty(v: Json): boolean {
  if (Array.isArray(v)) return v.length === 0 || v.some(hasEmpty);
  if (isObject(v)) return Object.keys(v).length === 0 || Object.values(v).some(hasEmpty);
  return false;
}
