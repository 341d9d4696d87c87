/**
 * Semantic checks of a graph spec, after its schema has passed: each kind's own rules, metaparam
 * combinations, duplicate vertices, two resources managing one path, edges to missing vertices, cycles.
 * Every problem is returned at once, placed at its source position.
 */
import { Redactor, secretsOf } from '../observe/redact.js';
import { normalize } from '../resources/normalize.js';
import type { Registry } from '../resources/registry.js';
import type { AutoEdgeHints } from '../resources/resource.js';
import { cycleDiagnostics } from './cycles.js';
import { type Diagnostic, suggest } from './diagnostics.js';
import { DEFAULT_LIMITS, type GraphLimits, grouped } from './limits.js';
import { type GraphSpec, type Pos, type ResourceSpec, vertexId } from './spec.js';

/**
 * `invalid`: ids of resources already reported as invalid and left out of the spec. `limits.maxResources`: the
 * most resources (local and exported) a graph may have; past it, the graph is refused at the first one too many.
 */
export function validateGraph(
  registry: Registry,
  spec: GraphSpec,
  invalid: ReadonlySet<string> = new Set(),
  limits: Pick<GraphLimits, 'maxResources'> = DEFAULT_LIMITS,
): Diagnostic[] {
  const ds: Diagnostic[] = [];
  if (!spec.graph) {
    ds.push({
      severity: 'error',
      message: 'missing `graph`: a graph needs a name; add `graph: <name>` at the top',
      ...(spec.source ? { pos: { file: spec.source, line: 1, col: 1 } } : {}),
    });
  }
  const count = spec.resources.length + spec.exports.length;
  if (count > limits.maxResources) {
    const past = spec.resources[limits.maxResources] ?? spec.exports[limits.maxResources - spec.resources.length];
    ds.push({
      severity: 'error',
      ...(past ? { where: vertexId(past), pos: posOfOrigin(past, spec) } : {}),
      message: `the graph has ${grouped(count)} resources, more than the ${grouped(limits.maxResources)} a graph may have (this is the first one past the bound); split it into several graphs`,
    });
    return ds;
  }
  // each resource's autoedge hints, from the same normalize as its kind's checks (undefined: an unknown kind)
  const hints = spec.resources.map((r) => checkResource(registry, r, ds));
  for (const r of spec.exports) checkResource(registry, r, ds);
  const byId = new Map<string, ResourceSpec>();
  /** Each managed path's first resource, and whether its kind shares paths (see AutoEdgeHints.sharesPath). */
  const byPath = new Map<string, { readonly r: ResourceSpec; readonly shares: boolean }>();
  spec.resources.forEach((r, i) => {
    const id = vertexId(r);
    const first = byId.get(id);
    if (first) {
      const at = placeOf(first);
      ds.push({
        severity: 'error',
        where: id,
        pos: placeOf(r),
        message: `declared twice; first declared at ${at ? `${at.file}:${at.line}` : 'another place'}. Give one of them another name`,
      });
      return;
    }
    byId.set(id, r);
    const h = hints[i];
    const managed = h && managedPathOf(h);
    if (!managed) return;
    const shares = h.sharesPath === true;
    const other = byPath.get(managed);
    if (!other) byPath.set(managed, { r, shares });
    else if (!shares && !other.shares) {
      // (two kinds that share a path, as Puppet's types may (AutoEdgeHints.sharesPath), are no conflict)
      ds.push({
        severity: 'error',
        where: id,
        pos: placeOf(r),
        message: `manages ${managed}, which ${vertexId(other.r)} manages too; merge them into one resource`,
      });
    }
  });
  const exported = new Set(spec.exports.map((r) => vertexId(r)));
  const goodEdges = [];
  for (const e of spec.edges) {
    let ok = true;
    for (const [end, ref] of [
      ['from', e.from],
      ['to', e.to],
    ] as const) {
      const id = vertexId(ref);
      if (byId.has(id)) continue;
      ok = false;
      if (invalid.has(id)) continue;
      const hint = exported.has(id)
        ? ' (it is exported with @@, so it is not part of this host’s graph)'
        : (() => {
            const s = suggest(id, byId.keys());
            return s ? ` (did you mean ${s}?)` : '';
          })();
      ds.push({ severity: 'error', pos: e.pos, message: `edge \`${e.name}\`: its \`${end}\` ${id} is not in the graph${hint}` });
    }
    if (ok) goodEdges.push(e);
  }
  // no edge, no cycle (and no walk over every vertex to find none)
  if (goodEdges.length > 0) ds.push(...cycleDiagnostics(byId.keys(), goodEdges));
  return ds;
}

/** Checks one resource into `ds`; returns its kind's autoedge hints, or undefined when its kind is unknown. */
function checkResource(registry: Registry, r: ResourceSpec, ds: Diagnostic[]): AutoEdgeHints | undefined {
  const id = vertexId(r);
  const kind = registry.get(r.kind);
  if (!kind) {
    ds.push({ severity: 'error', where: id, pos: placeOf(r), message: `unknown resource kind \`${r.kind}\`` });
    return undefined;
  }
  if (r.name.startsWith('$')) ds.push({ severity: 'error', where: id, pos: placeOf(r), message: 'a name may not start with `$`' });
  const { problems, hints } = kind.review(r.name, r.params);
  // A kind's message may quote a value (`got '...'`): never a sensitive one. (Built only when there is a message.)
  const sensitive = r.meta.sensitive;
  const redactor = problems.length > 0 && sensitive?.length ? new Redactor(secretsOf(normalize(kind, r.name, r.params).params, sensitive)) : undefined;
  for (const p of problems) {
    const message = redactor ? redactor.text(p.message) : p.message;
    ds.push({ severity: p.severity ?? 'error', where: id, pos: (p.param ? r.paramPos?.[p.param] : undefined) ?? placeOf(r), message });
  }
  const m = r.meta;
  if (m.limit !== undefined && m.limit !== Infinity && !(m.burst && m.burst > 0)) {
    ds.push({
      severity: 'error',
      where: id,
      pos: r.paramPos?.['meta.limit'] ?? placeOf(r),
      message: 'metaparam `limit` needs `burst` >= 1 (with burst 0 no event would ever pass)',
    });
  }
  for (const s of m.sensitive ?? []) {
    const param = s.split('.')[0]!;
    if (Object.hasOwn(kind.params, param)) continue;
    const hint = suggest(param, Object.keys(kind.params));
    ds.push({
      severity: 'error',
      where: id,
      pos: r.paramPos?.['meta.sensitive'] ?? placeOf(r),
      message: `metaparam \`sensitive\` names \`${s}\`, which is not a parameter of ${r.kind}${hint ? ` (did you mean ${hint}?)` : ''}: a misspelt name would leave the secret printable`,
    });
  }
  return hints;
}

/** The path a resource manages, if its kind manages paths (directories are compared without `/`). */
export function managedPath(registry: Registry, r: ResourceSpec): string | undefined {
  const hints = registry.get(r.kind)?.autoEdges?.(r.name, r.params);
  return hints && managedPathOf(hints);
}

function managedPathOf(hints: AutoEdgeHints): string | undefined {
  const p = hints.manages?.[0];
  if (!p) return undefined;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/**
 * Where a resource is: its position in the YAML, or for a translated one its manifest file and line (a catalog
 * without lines: line 0, the file itself).
 */
export function placeOf(r: ResourceSpec): Pos | undefined {
  if (r.pos) return r.pos;
  return r.origin?.file ? { file: r.origin.file, line: r.origin.line ?? 0, col: 1 } : undefined;
}

/** A resource's place (placeOf), or the top of the graph's source. */
function posOfOrigin(r: ResourceSpec, spec: GraphSpec): Pos | undefined {
  return placeOf(r) ?? (spec.source ? { file: spec.source, line: 1, col: 1 } : undefined);
}
