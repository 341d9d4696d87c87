/**
 * Puppet's automatic relationships (autorequire, autobefore, autosubscribe, autonotify), resolved against a
 * catalog. What each type declares is a fact in its rule table (`autorelations`, read from Puppet's and the
 * modules' type definitions); here the names it gives are looked up as Puppet's `catalog.resource(type, name)`
 * does: by title, then by namevar (a file's path munged as Puppet munges it). Only resources applied on this host
 * count. The result is in Puppet's order (per resource in catalog order: autorequire, autosubscribe, then
 * autobefore, autonotify); relationships.ts drops those that an explicit relationship already covers.
 *
 * Indexes are built once per catalog (title and namevar per target type, numeric ids, sorted file paths), so a
 * 10,000-resource catalog costs a few hash lookups per relation.
 */
import { posix } from 'node:path';
import type { Catalog, CatalogResource } from './catalog.js';
import { numericId, type AutoCatalog, type AutoRelation, type TypeRules } from './rules.js';

/** One automatic relationship between two resources (indexes into `catalog.resources`), `from` first. */
export interface AutoEdge {
  readonly from: number;
  readonly to: number;
  /** autosubscribe / autonotify: a refresh edge. */
  readonly notify: boolean;
}

const NEEDS_MUNGING = /\/\/|\/\.\.?(\/|$)|.\/$/;

/** Puppet's munging of a file path (`File.join(File.split(File.expand_path(p)))`): no `//`, `.`, `..` or trailing `/`. */
export function filePath(p: string): string {
  if (!p.startsWith('/') || !NEEDS_MUNGING.test(p)) return p;
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.replace(/\/+$/, '') || '/' : n;
}

/** mount's name munging: trailing slashes removed (`/` stays). */
const mountPoint = (p: string): string => p.replace(/^(.+?)\/*$/, '$1');

/** How a type's namevar is found and munged, for the types autorelations name. */
const NAMEVARS: Readonly<Record<string, { readonly param: string; readonly munge: (s: string) => string }>> = {
  file: { param: 'path', munge: filePath },
  mount: { param: 'name', munge: mountPoint },
  concat_file: { param: 'path', munge: (s) => s },
};
const DEFAULT_NAMEVAR = { param: 'name', munge: (s: string) => s };

const relationOrder = ['require', 'subscribe', 'before', 'notify'] as const;

/** The automatic relationships of a catalog, before Puppet's rule against explicit relationships is applied. */
export function autoRelations(catalog: Catalog, rulesOf: (type: string) => TypeRules | undefined, local: (r: CatalogResource) => boolean): AutoEdge[] {
  const rs = catalog.resources;
  const ordered = new Map<string, AutoRelation[][]>();
  const targetTypes = new Set<string>();
  for (const r of rs) {
    if (ordered.has(r.type)) continue;
    const rels = rulesOf(r.type)?.autorelations ?? [];
    ordered.set(
      r.type,
      relationOrder.map((k) => rels.filter((a) => a.relation === k)),
    );
    for (const a of rels) targetTypes.add(a.type.toLowerCase());
  }
  if (targetTypes.size === 0) return [];

  // Index of the target types: `type\0name` → resource index (titles first: Puppet looks titles up first).
  const index = new Map<string, number>();
  const byType = new Map<string, number[]>();
  const eligible = (i: number) => local(rs[i]!);
  rs.forEach((r, i) => {
    const type = r.type.toLowerCase();
    if (!targetTypes.has(type) || !eligible(i)) return;
    let l = byType.get(type);
    if (!l) byType.set(type, (l = []));
    l.push(i);
    const nv = NAMEVARS[type] ?? DEFAULT_NAMEVAR;
    const key = (s: string) => `${type}\0${s}`;
    if (!index.has(key(r.title))) index.set(key(r.title), i);
    const namevar = r.parameters[nv.param];
    const name = nv.munge(typeof namevar === 'string' ? namevar : r.title);
    if (!index.has(key(name))) index.set(key(name), i);
  });
  const find = (type: string, name: string): number | undefined => {
    const t = type.toLowerCase();
    const direct = index.get(`${t}\0${name}`);
    if (direct !== undefined) return direct;
    const munged = (NAMEVARS[t] ?? DEFAULT_NAMEVAR).munge(name);
    return munged === name ? undefined : index.get(`${t}\0${munged}`);
  };

  let ids: Map<string, Map<number, string[]>> | undefined;
  let files: { path: string; title: string }[] | undefined;
  const lookup: AutoCatalog = {
    has: (type, name) => find(type, name) !== undefined,
    withId: (type, attribute, id) => {
      ids ??= new Map();
      const k = `${type.toLowerCase()}\0${attribute}`;
      let m = ids.get(k);
      if (!m) {
        ids.set(k, (m = new Map<number, string[]>()));
        for (const i of byType.get(type.toLowerCase()) ?? []) {
          const v = numericId(rs[i]!.parameters[attribute]);
          if (v === undefined) continue;
          let l = m.get(v);
          if (!l) m.set(v, (l = []));
          l.push(rs[i]!.title);
        }
      }
      return m.get(id) ?? [];
    },
    filesBelow: (dir) => {
      files ??= (byType.get('file') ?? [])
        .map((i) => {
          const r = rs[i]!;
          const p = r.parameters.path;
          return { path: filePath(typeof p === 'string' ? p : r.title), title: r.title };
        })
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const prefix = `${dir}/`;
      let lo = 0;
      let hi = files.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (files[mid]!.path < prefix) lo = mid + 1;
        else hi = mid;
      }
      const out: string[] = [];
      for (let i = lo; i < files.length && files[i]!.path.startsWith(prefix); i++) if (files[i]!.path.length > prefix.length) out.push(files[i]!.title);
      return out;
    },
  };

  const out: AutoEdge[] = [];
  rs.forEach((r, i) => {
    if (!eligible(i)) return;
    const groups = ordered.get(r.type);
    if (!groups) return;
    groups.forEach((rels, g) => {
      const relation = relationOrder[g]!;
      const first = relation === 'require' || relation === 'subscribe';
      const notify = relation === 'subscribe' || relation === 'notify';
      for (const a of rels) {
        for (const name of a.names(r, lookup)) {
          const j = find(a.type, name);
          if (j === undefined || j === i) continue;
          out.push(first ? { from: j, to: i, notify } : { from: i, to: j, notify });
        }
      }
    });
  });
  return out;
}
