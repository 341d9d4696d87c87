/**
 * Two catalogs compared by `Type[title]`, with octocatalog-diff's defaults (its doc/advanced-ignores.md, and its
 * observed output): classes, tags and the `before`/`require` parameters are left out, resources exported to
 * other nodes are not part of this node's catalog, and a changed value is reported at the deepest map key that
 * holds it (lists are compared whole). Then the `--ignore` rules and the `--filters` hide what they match.
 */
import type { Catalog, CatalogResource } from '../catalog.js';
import { type DiffEntry, type DiffType, type Location, SENSITIVE_SHOWN } from './entry.js';
import { type FilterName, filterEntries } from './filters.js';
import { type IgnoreRule, ruleMatches } from './ignore.js';
import { isMap, sameValue } from './same-value.js';

export interface CompareOptions {
  /** `--include-tags`: compare tags too (sorted, so their order never shows). */
  readonly includeTags?: boolean;
  /** `--ignore-tags TAG`: leave out resources carrying TAG, or TAG__<type> (their catalog's tags: the new one's for a change). */
  readonly ignoreTags?: readonly string[];
  readonly ignores?: readonly IgnoreRule[];
  readonly filters?: readonly FilterName[];
  /** octocatalog-diff's default: a file that is absent in the new catalog shows only its `ensure` change. */
  readonly suppressAbsentFileDetails?: boolean;
}

/**
 * Parameters left out: `before` and `require` only order resources, as octocatalog-diff has it (`notify` and
 * `subscribe` stay); `tag` is the tags' business (our face keeps the metaparam, Puppet's JSON folds it into tags).
 */
const ORDER_ONLY = new Set(['before', 'require', 'tag']);

/** A resource as compared: what octocatalog-diff's JSON shows of it, plus where it is and what is Sensitive. */
export interface Compared {
  readonly type: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly sensitive: ReadonlySet<string>;
  readonly location: Location;
}

const keyOf = (type: string, title: string) => `${type}\f${title}`;

function tagIgnored(r: CatalogResource, tags: readonly string[]): boolean {
  if (tags.length === 0) return false;
  const typeTag = r.type.toLowerCase().replace(/[^a-z0-9]/g, '_');
  return tags.some((t) => r.tags.includes(t) || r.tags.includes(`${t}__${typeTag}`));
}

/** The resources of a catalog that take part in the diff, by `Type\ftitle`. */
export function comparable(c: Catalog): Map<string, Compared> {
  const out = new Map<string, Compared>();
  for (const r of c.resources) {
    if (r.type.toLowerCase() === 'class' || r.virtual) continue;
    const parameters: Record<string, unknown> = {};
    for (const k of Object.keys(r.parameters).sort()) {
      const v = r.parameters[k];
      if (ORDER_ONLY.has(k) || v === null || v === undefined) continue;
      parameters[k] = v;
    }
    out.set(keyOf(r.type, r.title), {
      type: r.type,
      title: r.title,
      tags: [...r.tags].sort(),
      parameters,
      sensitive: new Set(r.sensitive),
      location: { file: r.file ?? null, line: r.line ?? null },
    });
  }
  return out;
}

/** The resource as an added or removed entry shows it, Sensitive values redacted. */
function shown(r: Compared): Record<string, unknown> {
  const parameters = Object.fromEntries(Object.entries(r.parameters).map(([k, v]) => [k, r.sensitive.has(k) ? SENSITIVE_SHOWN : v]));
  return { type: r.type, title: r.title, tags: r.tags, exported: false, parameters };
}

function entry(t: DiffType, from: Compared | undefined, to: Compared | undefined, structure: string[], oldValue: unknown, newValue: unknown): DiffEntry {
  const r = (to ?? from)!;
  const ol = from?.location ?? null;
  const nl = to?.location ?? null;
  return {
    diff_type: t,
    type: r.type,
    title: r.title,
    structure,
    old_value: oldValue,
    new_value: newValue,
    old_file: ol?.file ?? null,
    old_line: ol?.line ?? null,
    new_file: nl?.file ?? null,
    new_line: nl?.line ?? null,
    old_location: ol,
    new_location: nl,
  };
}

/** The differences between two values at `path`, pushed onto `out` as [mark, path, old, new]. */
function diffValue(a: unknown, b: unknown, path: string[], out: [DiffType, string[], unknown, unknown][]): void {
  if (sameValue(a, b)) return;
  if (isMap(a) && isMap(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a)) out.push(['!', [...path, k], null, b[k]]);
      else if (!(k in b)) out.push(['!', [...path, k], a[k], null]);
      else diffValue(a[k], b[k], [...path, k], out);
    }
  } else if (Array.isArray(a) && Array.isArray(b)) out.push(['!', path, a, b]);
  else out.push(['~', path, a, b]);
}

function changes(from: Compared, to: Compared, includeTags: boolean): DiffEntry[] {
  const raw: [DiffType, string[], unknown, unknown][] = [];
  if (includeTags) diffValue(from.tags, to.tags, ['tags'], raw);
  for (const k of [...new Set([...Object.keys(from.parameters), ...Object.keys(to.parameters)])].sort()) {
    const a = from.parameters[k];
    const b = to.parameters[k];
    const secret = from.sensitive.has(k) || to.sensitive.has(k);
    if (a === undefined) raw.push(['!', ['parameters', k], null, secret ? SENSITIVE_SHOWN : b]);
    else if (b === undefined) raw.push(['!', ['parameters', k], secret ? SENSITIVE_SHOWN : a, null]);
    // A Sensitive value is compared whole and never shown, at any depth.
    else if (secret) {
      if (!sameValue(a, b)) raw.push(['~', ['parameters', k], SENSITIVE_SHOWN, SENSITIVE_SHOWN]);
    } else diffValue(a, b, ['parameters', k], raw);
  }
  return raw.map(([t, path, a, b]) => entry(t, from, to, path, a, b));
}

const RANK: Record<DiffType, number> = { '+': 0, '-': 1, '~': 2, '!': 3 };
const sortKey = (e: DiffEntry) => [e.type, e.title, ...e.structure].join('\f');

/** Orders entries as octocatalog-diff does: additions, removals, changes, then by type, title and path. */
export function sortEntries(entries: DiffEntry[]): DiffEntry[] {
  return entries
    .map((e) => [sortKey(e), e] as const)
    .sort((x, y) => RANK[x[1].diff_type] - RANK[y[1].diff_type] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map((x) => x[1]);
}

/** Every difference between the two catalogs that the options leave visible, sorted. */
export function compareCatalogs(from: Catalog, to: Catalog, opts: CompareOptions = {}): DiffEntry[] {
  const ignoreTags = opts.ignoreTags ?? [];
  const hidden = (c: Catalog) => new Set(c.resources.filter((r) => tagIgnored(r, ignoreTags)).map((r) => keyOf(r.type, r.title)));
  const a = comparable(from);
  const b = comparable(to);
  const hiddenOld = hidden(from);
  const hiddenNew = hidden(to);
  const out: DiffEntry[] = [];
  for (const [k, r] of b) {
    if (hiddenNew.has(k)) continue;
    const old = a.get(k);
    if (!old) out.push(entry('+', undefined, r, [], null, shown(r)));
    else out.push(...changes(old, r, opts.includeTags === true));
  }
  for (const [k, r] of a) if (!b.has(k) && !hiddenOld.has(k)) out.push(entry('-', r, undefined, [], shown(r), null));
  const rules = opts.ignores ?? [];
  const visible = out.filter((e) => !rules.some((rule) => ruleMatches(rule, e)));
  const filters: FilterName[] = [...(opts.filters ?? [])];
  if (opts.suppressAbsentFileDetails !== false && !filters.includes('AbsentFile')) filters.unshift('AbsentFile');
  return sortEntries(filterEntries(visible, filters, { to: b }));
}
