/**
 * Semantic checks of a graph spec, after its schema has passed: each kind's own rules, metaparam
 * combinations, duplicate vertices, two resources managing one path, edges to missing vertices, cycles.
 * Every problem is returned at once, placed at its source position.
 */
import { Redactor, secretsOf } from '../observe/redact.js';
import { normalize } from '../resources/normalize.js';
import type { Registry } from '../resources/registry.js';
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
      ...(past ? { where: vertexId(past), pos: past.pos ?? posOfOrigin(past, spec) } : {}),
      message: `the graph has ${grouped(count)} resources, more than the ${grouped(limits.maxResources)} a graph may have (this is the first one past the bound); split it into several graphs`,
    });
    return ds;
  }
  const byId = new Map<string, ResourceSpec>();
  const byPath = new Map<string, ResourceSpec>();
  for (const r of [...spec.resources, ...spec.exports]) checkResource(registry, r, ds);
  for (const r of spec.resources) {
    const id = vertexId(r);
    const first = byId.get(id);
    if (first) {
      ds.push({
        severity: 'error',
        where: id,
        pos: r.pos,
        message: `declared twice; first declared at ${first.pos ? `${first.pos.file}:${first.pos.line}` : 'another place'}. Give one of them another name`,
      });
      continue;
    }
    byId.set(id, r);
    const managed = managedPath(registry, r);
    if (managed) {
      const other = byPath.get(managed);
      if (other && (sharesPath(registry, r) || sharesPath(registry, other))) {
        // Puppet's types that share a path with another (see AutoEdgeHints.sharesPath): not a conflict
      } else if (other) {
        ds.push({
          severity: 'error',
          where: id,
          pos: r.pos,
          message: `manages ${managed}, which ${vertexId(other)} manages too; merge them into one resource`,
        });
      } else byPath.set(managed, r);
    }
  }
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
  ds.push(...cycleDiagnostics(byId.keys(), goodEdges));
  return ds;
}

function checkResource(registry: Registry, r: ResourceSpec, ds: Diagnostic[]): void {
  const id = vertexId(r);
  const kind = registry.get(r.kind);
  if (!kind) {
    ds.push({ severity: 'error', where: id, pos: r.pos, message: `unknown resource kind \`${r.kind}\`` });
    return;
  }
  if (r.name.startsWith('$')) ds.push({ severity: 'error', where: id, pos: r.pos, message: 'a name may not start with `$`' });
  // A kind's message may quote a value (`got '...'`): never a sensitive one.
  const sensitive = r.meta.sensitive;
  const redactor = sensitive?.length ? new Redactor(secretsOf(normalize(kind, r.name, r.params).params, sensitive)) : undefined;
  for (const p of kind.validate?.(r.name, r.params) ?? []) {
    const message = redactor ? redactor.text(p.message) : p.message;
    ds.push({ severity: p.severity ?? 'error', where: id, pos: (p.param ? r.paramPos?.[p.param] : undefined) ?? r.pos, message });
  }
  const m = r.meta;
  if (m.limit !== undefined && m.limit !== Infinity && !(m.burst && m.burst > 0)) {
    ds.push({
      severity: 'error',
      where: id,
      pos: r.paramPos?.['meta.limit'] ?? r.pos,
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
      pos: r.paramPos?.['meta.sensitive'] ?? r.pos,
      message: `metaparam \`sensitive\` names \`${s}\`, which is not a parameter of ${r.kind}${hint ? ` (did you mean ${hint}?)` : ''}: a misspelt name would leave the secret printable`,
    });
  }
}

/** The path a resource manages, if its kind manages paths (directories are compared without `/`). */
export function managedPath(registry: Registry, r: ResourceSpec): string | undefined {
  const hints = registry.get(r.kind)?.autoEdges?.(r.name, r.params);
  if (!hints?.manages?.[0]) return undefined;
  const p = hints.manages[0];
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function sharesPath(registry: Registry, r: ResourceSpec): boolean {
  return registry.get(r.kind)?.autoEdges?.(r.name, r.params).sharesPath === true;
}

/** A translated resource's place: its manifest file and line, or the graph's source. */
function posOfOrigin(r: ResourceSpec, spec: GraphSpec): Pos | undefined {
  if (r.origin?.file) return { file: r.origin.file, line: r.origin.line ?? 1, col: 1 };
  return spec.source ? { file: spec.source, line: 1, col: 1 } : undefined;
}
