/**
 * The cross-resource step for puppetlabs-concat: which `concat_fragment` resources feed which `concat_file`, and
 * the content they make. Facts from concat 7.x (`lib/puppet/type/concat_file.rb`):
 * - a fragment belongs to every concat_file whose path or title equals its `target`, or whose `tag` equals its
 *   own (both set);
 * - each fragment has the key `"<order>___<name>"` (order default 10, name default the title). With the file's
 *   `order => numeric` (the type's default; the `concat` define's default is alpha) the key is cut at the first
 *   `___` and each part that is all digits compares as an integer, others as strings: a mix of both in one
 *   position cannot be sorted, and Puppet fails. With `alpha` the key is cut at the first `__` and both parts
 *   compare as strings (byte by byte);
 * - `ensure_newline` adds "\n" to each fragment that does not end with one; the contents are joined as they are
 *   (`format => plain`, the default) or merged as JSON (concat-format.ts).
 */
import type { CatalogResource } from './catalog.js';
import { refOf, textOf } from './catalog.js';
import { assembleJson, JSON_FORMATS, type JsonFormat, JsonRefusal } from './concat-format.js';
import { applyRules, type Note } from './rules.js';
import { concatPathOf } from './types/concat_file.js';
import { concatFragmentRules, fragmentMetaparamRules } from './types/concat_fragment.js';

export const CONCAT_FILE = 'Concat_file';
export const CONCAT_FRAGMENT = 'Concat_fragment';

export interface ConcatGroups {
  /** concat_file index → the fragments (indexes) that feed it, in catalog order. */
  readonly partsOf: ReadonlyMap<number, readonly number[]>;
  /** fragment index → the concat_files (indexes) it feeds; empty: none takes it. */
  readonly filesOf: ReadonlyMap<number, readonly number[]>;
}

const tagKey = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : JSON.stringify(v));

/** Groups the fragments of the resources that `include` accepts (the local ones) under their files. */
export function groupConcat(rs: readonly CatalogResource[], include: (r: CatalogResource) => boolean): ConcatGroups {
  const byName = new Map<string, number[]>();
  const byTag = new Map<string, number[]>();
  const add = (m: Map<string, number[]>, k: string, i: number) => {
    const l = m.get(k);
    if (!l) m.set(k, [i]);
    else if (l[l.length - 1] !== i) l.push(i);
  };
  const partsOf = new Map<number, number[]>();
  rs.forEach((r, i) => {
    if (r.type !== CONCAT_FILE || !include(r)) return;
    partsOf.set(i, []);
    add(byName, concatPathOf(r.parameters, r.title), i);
    add(byName, r.title, i);
    const t = tagKey(r.parameters.tag);
    if (t !== undefined) add(byTag, t, i);
  });
  const filesOf = new Map<number, number[]>();
  rs.forEach((r, j) => {
    if (r.type !== CONCAT_FRAGMENT || !include(r)) return;
    const files = new Set<number>();
    const target = r.parameters.target;
    if (typeof target === 'string') for (const i of byName.get(target) ?? []) files.add(i);
    const t = tagKey(r.parameters.tag);
    if (t !== undefined) for (const i of byTag.get(t) ?? []) files.add(i);
    const list = [...files].sort((a, b) => a - b);
    filesOf.set(j, list);
    for (const i of list) partsOf.get(i)!.push(j);
  });
  return { partsOf, filesOf };
}

/** A fragment's own translation: its notes, and refusals that send its file to the fallback. */
export function checkFragment(r: CatalogResource): { notes: Note[]; info: Note[]; refusals: Note[] } {
  const res = applyRules(concatFragmentRules, fragmentMetaparamRules, r);
  const refusals = [...res.refusals];
  const content = r.parameters.content;
  if (content === undefined && r.parameters.source === undefined)
    refusals.push({ attribute: 'content', message: 'a fragment needs content (Puppet fails without it)' });
  else if (content !== undefined && typeof content !== 'string' && !refusals.some((n) => n.attribute === 'content')) {
    refusals.push({ attribute: 'content', message: 'content is not a string' });
  }
  const order = r.parameters.order;
  if (order !== undefined && ((typeof order !== 'string' && !Number.isInteger(order)) || /[:\n/]/.test(textOf(order)))) {
    refusals.push({ attribute: 'order', message: 'order must be a string or an integer without /, : or newline (Puppet fails)' });
  }
  return { notes: res.notes, info: res.info, refusals };
}

export type Assembly =
  { readonly ok: true; readonly content: string; readonly sensitive: boolean } | { readonly ok: false; readonly refusals: readonly Note[] };

type Part = bigint | Buffer;

/** Ruby's String#to_i for a string that has an all-digit line (`^\d+$` is a line match in Ruby). */
function rubyToI(s: string): bigint {
  const m = /^[\t-\r ]*([+-]?)(\d+(?:_\d+)*)/.exec(s);
  return m ? BigInt(`${m[1]}${m[2]!.replace(/_/g, '')}`) : 0n;
}

const part = (s: string): Part => (/^\d+$/m.test(s) ? rubyToI(s) : Buffer.from(s));

/** Ruby's `<=>` between two parts; undefined when Ruby cannot compare them (Integer vs String). */
function comparePart(a: Part, b: Part): number | undefined {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a !== 'bigint' && typeof b !== 'bigint') return Buffer.compare(a, b);
  return undefined;
}

/** Ruby's String#split(sep, 2). */
function split2(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

class Unsortable extends Error {}

/** The content of concat_file `file` from its fragments (already checked with checkFragment). */
export function assembleConcat(file: CatalogResource, parts: readonly CatalogResource[]): Assembly {
  const sorted = sortFragments(file, parts);
  if (!sorted.ok) return sorted;
  const format = textOf(file.parameters.format ?? 'plain');
  const sensitive = sorted.items.some((i) => i.sensitive);
  if (!JSON_FORMATS.has(format)) return { ok: true, content: sorted.items.map((i) => i.content).join(''), sensitive };
  try {
    const force = file.parameters.force === true || file.parameters.force === 'true';
    return {
      ok: true,
      content: assembleJson(
        format as JsonFormat,
        sorted.items.map((i) => i.content),
        force,
      ),
      sensitive,
    };
  } catch (e) {
    if (!(e instanceof JsonRefusal)) throw e;
    return { ok: false, refusals: [{ attribute: 'format', message: e.message }] };
  }
}

interface Item {
  readonly keys: Part[];
  readonly content: string;
  readonly sensitive: boolean;
}

/** The fragments in concat's order, `ensure_newline` applied. */
function sortFragments(file: CatalogResource, parts: readonly CatalogResource[]): { ok: true; items: Item[] } | { ok: false; refusals: readonly Note[] } {
  const numeric = (file.parameters.order ?? 'numeric') === 'numeric';
  const newline = file.parameters.ensure_newline === true || file.parameters.ensure_newline === 'true';
  const items = parts.map((r): Item => {
    const name = typeof r.parameters.name === 'string' ? r.parameters.name : r.title;
    const key = `${textOf(r.parameters.order ?? '10')}___${name}`;
    let content = textOf(r.parameters.content ?? '');
    if (newline && !content.endsWith('\n')) content += '\n';
    const [a, b] = numeric ? split2(key, '___') : split2(key, '__');
    return { keys: numeric ? [part(a), part(b)] : [Buffer.from(a), Buffer.from(b)], content, sensitive: r.sensitive.includes('content') };
  });
  try {
    items.sort((x, y) => {
      for (let k = 0; k < 2; k++) {
        const c = comparePart(x.keys[k]!, y.keys[k]!);
        if (c === undefined) throw new Unsortable();
        if (c !== 0) return c;
      }
      return 0;
    });
  } catch (e) {
    if (!(e instanceof Unsortable)) throw e;
    return { ok: false, refusals: [{ attribute: 'order', message: 'fragments mix numeric and non-numeric orders (or names), which Puppet cannot sort' }] };
  }
  return { ok: true, items };
}

/**
 * concat's `eval_generate`: with `create_empty_file => false`, a file whose assembled content is empty is made
 * absent. Sets the parameters of our file accordingly; whether it did.
 */
export function absentWhenEmpty(file: CatalogResource, content: string, params: Record<string, unknown>): boolean {
  const create = file.parameters.create_empty_file;
  if (content !== '' || !(create === false || create === 'false')) return false;
  params.state = 'absent';
  for (const k of ['content', 'owner', 'group', 'mode', 'replacenondir']) Reflect.deleteProperty(params, k);
  return true;
}

/** For messages: the refs of a file's fragments. */
export const refsOf = (rs: readonly CatalogResource[], idx: readonly number[]) => idx.map((i) => refOf(rs[i]!));
