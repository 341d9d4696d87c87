/**
 * octocatalog-diff's opt-in `--filters` (its doc/advanced-filter.md), applied to the entries in the order given:
 *
 * - AbsentFile: a file whose new `ensure` is `absent` shows only that change (its owner, mode or content no
 *   longer matter); octocatalog-diff does this by default (`--suppress-absent-file-details`), and so do we;
 * - JSON / YAML: a `.json` / `.yml` or `.yaml` file whose content parses to the same value has not changed;
 * - SingleItemArray: `x` and `[x]` are the same value;
 * - EquivalentArrayNoDatatypes: lists whose elements are equal once numbers, numeric strings and `:symbols` are
 *   compared as text (`[0, 1]`, `['0', '1']` and `[0.0, 1.0]` are one value).
 */
import yaml from 'js-yaml';
import { sameValue } from './same-value.js';
import type { DiffEntry } from './entry.js';

export const FILTER_NAMES = ['AbsentFile', 'JSON', 'YAML', 'SingleItemArray', 'EquivalentArrayNoDatatypes'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

export class FilterError extends Error {}

/** Parses `--filters A,B` (names as octocatalog-diff spells them; case-insensitive). */
export function parseFilters(value: string): FilterName[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const f = FILTER_NAMES.find((n) => n.toLowerCase() === s.toLowerCase());
      if (!f) throw new FilterError(`--filters: unknown filter ${JSON.stringify(s)}; the filters are ${FILTER_NAMES.join(', ')}`);
      return f;
    });
}

export interface FilterContext {
  /** The new catalog's resources, by `Type\ftitle`. */
  readonly to: ReadonlyMap<string, { readonly parameters: Readonly<Record<string, unknown>> }>;
}

const isContent = (e: DiffEntry) => e.type === 'File' && e.structure.length === 2 && e.structure[0] === 'parameters' && e.structure[1] === 'content';

function parsedSame(e: DiffEntry, parse: (s: string) => unknown): boolean {
  if (typeof e.old_value !== 'string' || typeof e.new_value !== 'string') return false;
  try {
    return sameValue(parse(e.old_value), parse(e.new_value));
  } catch {
    return false;
  }
}

function plain(x: unknown): unknown {
  if (typeof x === 'number') return String(x);
  if (typeof x === 'string') {
    const s = x.startsWith(':') ? x.slice(1) : x;
    const n = Number(s);
    return s.trim() !== '' && Number.isFinite(n) ? String(n) : s;
  }
  return x;
}

const FILTERS: Record<FilterName, (e: DiffEntry, ctx: FilterContext) => boolean> = {
  AbsentFile: (e, ctx) => {
    if (e.type !== 'File' || (e.diff_type !== '~' && e.diff_type !== '!') || e.structure[0] !== 'parameters' || e.structure[1] === 'ensure') return false;
    return ctx.to.get(`${e.type}\f${e.title}`)?.parameters.ensure === 'absent';
  },
  JSON: (e) => isContent(e) && /\.json$/i.test(e.title) && parsedSame(e, (s) => JSON.parse(s)),
  YAML: (e) => isContent(e) && /\.ya?ml$/i.test(e.title) && parsedSame(e, (s) => yaml.load(s)),
  SingleItemArray: (e) => {
    const [a, b] = [e.old_value, e.new_value];
    return (Array.isArray(a) && a.length === 1 && sameValue(a[0], b)) || (Array.isArray(b) && b.length === 1 && sameValue(b[0], a));
  },
  EquivalentArrayNoDatatypes: (e) => {
    const [a, b] = [e.old_value, e.new_value];
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(plain(x), plain(b[i])));
  },
};

/** The entries no filter hides. */
export function filterEntries(entries: readonly DiffEntry[], names: readonly FilterName[], ctx: FilterContext): DiffEntry[] {
  return entries.filter((e) => !names.some((n) => FILTERS[n](e, ctx)));
}
