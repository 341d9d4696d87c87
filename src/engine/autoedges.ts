/**
 * Automatic edges from what resources manage and need: a file comes after its nearest managed ancestor
 * directory; an exec comes after the managed directory named as its `cwd`; a service after its unit file (with
 * refresh); a user after its groups (before them when it is removed); whatever lies below a mount point after
 * the mount. Explicit edges win: an autoedge is not added where the user wrote one. One hash lookup per ancestor, so a
 * 10,000-file tree costs a few tens of thousands of map lookups.
 */
import { type EdgeSpec, type ResourceSpec, vertexId } from '../graph/spec.js';
import type { Registry } from '../resources/registry.js';
import type { AutoEdgeHints } from '../resources/resource.js';

/** What a resource says about the paths it manages and needs (undefined: it takes no part in autoedges). */
export function hintsFor(registry: Registry, r: ResourceSpec): AutoEdgeHints | undefined {
  return r.meta.autoedge === false ? undefined : registry.get(r.kind)?.autoEdges?.(r.name, r.params);
}

/** `hintsOf` lets a caller reuse hints it already has (the engine keeps them per live vertex). */
export function autoEdges(
  registry: Registry,
  resources: readonly ResourceSpec[],
  explicit: readonly EdgeSpec[] = [],
  hintsOf: (r: ResourceSpec) => AutoEdgeHints | undefined = (r) => hintsFor(registry, r),
): EdgeSpec[] {
  const hints = resources.map(hintsOf);
  const managers = new Map<string, ResourceSpec>();
  resources.forEach((r, i) => {
    for (const p of hints[i]?.manages ?? []) if (!managers.has(p)) managers.set(p, r);
  });
  const seen = new Set(explicit.map((e) => `${vertexId(e.from)}\n${vertexId(e.to)}`));
  const out: EdgeSpec[] = [];
  const byId = new Map<string, ResourceSpec>();
  if (hints.some((h) => (h?.afterVertex?.length ?? 0) > 0 || (h?.beforeVertex?.length ?? 0) > 0)) for (const r of resources) byId.set(vertexId(r), r);
  const add = (from: ResourceSpec | undefined, to: ResourceSpec, notify = false) => {
    if (!from || from === to) return;
    const key = `${vertexId(from)}\n${vertexId(to)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const f = { kind: from.kind, name: from.name };
    const t = { kind: to.kind, name: to.name };
    out.push({ name: `${vertexId(f)} -> ${vertexId(t)}`, from: f, to: t, notify, auto: true });
  };
  resources.forEach((r, i) => {
    const h = hints[i];
    if (!h) return;
    for (const p of h.afterNearestAncestor ?? []) add(nearestManagedAncestor(p, managers, r), r);
    for (const p of h.refreshAfterPath ?? []) add(managerOf(p, managers), r, true);
    for (const p of h.afterPath ?? []) add(managerOf(p, managers), r);
    for (const ref of h.afterVertex ?? []) add(byId.get(vertexId(ref)), r);
    for (const ref of h.beforeVertex ?? []) {
      const to = byId.get(vertexId(ref));
      if (to) add(r, to);
    }
  });
  addBelowEdges(resources, hints, add);
  return out;
}

/** `beforeBelow`: each resource with a path strictly below such a directory comes after the resource naming it. */
function addBelowEdges(
  resources: readonly ResourceSpec[],
  hints: readonly (AutoEdgeHints | undefined)[],
  add: (from: ResourceSpec | undefined, to: ResourceSpec) => void,
): void {
  const below = new Map<string, ResourceSpec[]>();
  resources.forEach((r, i) => {
    for (const d of hints[i]?.beforeBelow ?? []) {
      const dir = d.endsWith('/') ? d : `${d}/`;
      let l = below.get(dir);
      if (!l) below.set(dir, (l = []));
      l.push(r);
    }
  });
  if (below.size === 0) return;
  resources.forEach((r, i) => {
    const h = hints[i];
    if (!h) return;
    for (const p of [...(h.manages ?? []), ...(h.afterPath ?? []), ...(h.refreshAfterPath ?? []), ...(h.afterNearestAncestor ?? [])]) {
      // every directory strictly above p (p itself, even as a directory, is not below itself)
      let end = p.endsWith('/') ? p.length - 1 : p.length;
      while (end > 0) {
        const slash = p.lastIndexOf('/', end - 1);
        if (slash < 0) break;
        for (const m of below.get(p.slice(0, slash + 1)) ?? []) add(m, r);
        end = slash;
      }
    }
  });
}

function managerOf(path: string, managers: Map<string, ResourceSpec>): ResourceSpec | undefined {
  const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return managers.get(bare) ?? managers.get(`${bare}/`);
}

function nearestManagedAncestor(path: string, managers: Map<string, ResourceSpec>, self: ResourceSpec): ResourceSpec | undefined {
  let end = path.endsWith('/') ? path.length - 1 : path.length;
  while (end > 0) {
    const slash = path.lastIndexOf('/', end - 1);
    if (slash < 0) return undefined;
    const dir = path.slice(0, slash + 1);
    const m = managers.get(dir);
    if (m && m !== self) return m;
    end = slash;
  }
  return undefined;
}
