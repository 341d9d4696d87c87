/**
 * Catalog → GraphSpec + TranslationReport. Leaves become vertices (native, degraded or fallback), containers
 * become edges (relationships.ts), exported resources become exports (those also collected here stay local too),
 * collectors become collect entries.
 * Output is deterministic: resources sorted by kind then name, edges by name.
 */
import { checkSpec } from '../graph/check-spec.js';
import { type CollectSpec, type EdgeSpec, type GraphSpec, type Origin, type ResourceSpec, vertexId } from '../graph/spec.js';
import type { Registry } from '../resources/registry.js';
import { type Catalog, CatalogError, type CatalogResource, refOf, textOf } from './catalog.js';
import { DEFAULT_RUNINTERVAL_S, FALLBACK_KIND, fallbackVertex, REFRESHABLE_PUPPET_TYPES } from './fallback.js';
import { autoRelations } from './autorelations.js';
import { flattenRelationships, hasCycle } from './relationships.js';
import { buildReport, MSG_NO_NATIVE, type ResourceReport, type TranslationReport } from './report.js';
import { absentWhenEmpty, assembleConcat, CONCAT_FILE, checkFragment, groupConcat } from './concat.js';
import { applyRules, type Note } from './rules.js';
import { Redactor, secretsOf } from '../observe/redact.js';
import { metaparamRules, typeRules } from './types/index.js';

export interface TranslateOptions {
  /** Seconds between polls of fallback vertices (Puppet's runinterval). */
  readonly runinterval?: number;
  /** The graph's name; default: the catalog's node. */
  readonly graphName?: string;
}

export interface Translation {
  readonly spec: GraphSpec;
  readonly report: TranslationReport;
}

interface Translated {
  readonly spec: ResourceSpec;
  readonly report: ResourceReport;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const MSG_FRAGMENT_REFUSED = 'a fragment of this file cannot be translated: Puppet assembles the file';
const MSG_FILE_FALLBACK = 'its concat_file goes to the fallback: Puppet assembles the file';
const MSG_ORPHAN_FRAGMENT = 'no concat_file in the catalog takes this fragment: it has no effect (Puppet only warns)';

/**
 * Orders params as the kind's parameter table does, so output reads naturally and stays stable; keys the table
 * lacks (the schema refuses them) come last, sorted.
 */
function ordered(registry: Registry, kind: string, params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let found = 0;
  for (const k of tableKeys(registry.get(kind)?.params)) {
    if (!Object.hasOwn(params, k)) continue;
    out[k] = params[k];
    found++;
  }
  const keys = Object.keys(params);
  if (found < keys.length) for (const k of keys.filter((k) => !Object.hasOwn(out, k)).sort(cmp)) out[k] = params[k];
  return out;
}

/** A table's parameters in its order, listed once per table. */
const keysCache = new WeakMap<object, readonly string[]>();
function tableKeys(table: object | undefined): readonly string[] {
  if (!table) return [];
  let keys = keysCache.get(table);
  if (!keys) keysCache.set(table, (keys = Object.keys(table)));
  return keys;
}

/** Metaparams in name order (most resources have none or one: no sort). */
function orderedMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(meta);
  if (keys.length < 2) return meta;
  return Object.fromEntries(keys.sort().map((k) => [k, meta[k]]));
}

/** Where a translated resource came from; keys set one by one, in this order, so no object is made to be spread. */
function originOf(r: CatalogResource, ref: string): Origin {
  const o: { -readonly [K in keyof Origin]: Origin[K] } = { ref };
  if (r.file !== undefined) o.file = r.file;
  if (r.line !== undefined) o.line = r.line;
  if (r.exported) Object.assign(o, queryable(r));
  return o;
}

/** A resource's report line, its keys in the report's order (as originOf, set one by one). */
function reportLine(
  r: CatalogResource,
  ref: string,
  status: ResourceReport['status'],
  kind: string,
  name: string,
  notes: readonly Note[],
  more: { readonly info?: readonly Note[]; readonly reason?: string; readonly exported?: boolean } = {},
): ResourceReport {
  const o: { -readonly [K in keyof ResourceReport]?: ResourceReport[K] } = { ref };
  if (r.file !== undefined) o.file = r.file;
  if (r.line !== undefined) o.line = r.line;
  if (r.sensitive.length) o.sensitive = [...r.sensitive].sort();
  if (more.exported) o.exported = true;
  o.status = status;
  o.kind = kind;
  o.name = name;
  o.notes = notes;
  if (more.info?.length) o.info = more.info;
  if (more.reason !== undefined) o.reason = more.reason;
  return o as ResourceReport;
}

const NO_SECRETS = new Redactor([]);

/**
 * One leaf. A concat_file comes with its fragments (`parts`): they give it its content, and when any of them
 * cannot be translated, the file goes to the fallback with them as companions.
 */
function translateOne(
  registry: Registry,
  r: CatalogResource,
  runinterval: number,
  parts?: readonly CatalogResource[],
  refusedByKind?: readonly Note[],
): Translated {
  const ref = refOf(r);
  const origin = originOf(r, ref);
  const rules = typeRules.get(r.type);
  // A note quoting a value (an unsupported mode, a refused command) must not print a Sensitive one.
  const redactor = r.sensitive.length ? new Redactor(secretsOf(r.parameters, r.sensitive)) : NO_SECRETS;
  const clean = (list: Note[]): Note[] => (redactor.active ? list.map((n) => ({ ...n, message: redactor.text(n.message) })) : list);
  let notes: Note[] = [];
  let reason = MSG_NO_NATIVE;
  if (refusedByKind) {
    notes = clean([...refusedByKind]);
    reason = notes[0]!.message;
  } else if (rules && rules.kind !== null) {
    const res = applyRules(rules, metaparamRules, r);
    const refusals = res.refusals;
    const sensitiveParams = res.sensitiveParams;
    if (r.type === CONCAT_FILE && !parts) refusals.push({ attribute: 'tag', message: 'an exported concat_file is assembled where it is collected' });
    if (parts) {
      const fragmentRefusals = parts.flatMap((p) => checkFragment(p).refusals);
      if (fragmentRefusals.length) refusals.push({ attribute: 'fragment', message: MSG_FRAGMENT_REFUSED });
      else if (res.params.state === 'exists') {
        const a = assembleConcat(r, parts);
        if (!a.ok) refusals.push(...a.refusals);
        else if (!absentWhenEmpty(r, a.content, res.params)) {
          res.params.content = a.content;
          if (a.sensitive) sensitiveParams.push('content');
        }
      }
    }
    if (refusals.length === 0) {
      const spec: ResourceSpec = {
        kind: res.kind!,
        name: res.name,
        params: ordered(registry, res.kind!, res.params),
        meta: orderedMeta(sensitiveParams.length ? { ...res.meta, sensitive: sensitiveParams.sort() } : res.meta),
        origin,
      };
      const status = res.notes.length ? 'degraded' : 'native';
      return { spec, report: reportLine(r, ref, status, spec.kind, spec.name, clean(res.notes), { info: clean(res.info), exported: r.exported }) };
    }
    notes = clean(refusals);
    reason = notes[0]!.message;
  }
  const fb = fallbackVertex(r, runinterval, parts);
  const spec: ResourceSpec = {
    kind: FALLBACK_KIND,
    name: fb.name,
    params: fb.params,
    meta: fb.sensitive.length ? { ...fb.meta, sensitive: fb.sensitive } : fb.meta,
    origin,
  };
  return { spec, report: reportLine(r, ref, 'fallback', FALLBACK_KIND, fb.name, notes, { reason, exported: r.exported }) };
}

/** A fragment's report line: it follows its (first) file, which holds its content; no file takes it: no effect. */
function fragmentReport(r: CatalogResource, file: Translated | undefined): ResourceReport {
  const ref = refOf(r);
  const own = checkFragment(r);
  if (!file) return reportLine(r, ref, 'degraded', 'none', '', [{ attribute: 'target', message: MSG_ORPHAN_FRAGMENT }]);
  const { kind, name } = file.spec;
  if (file.report.status === 'fallback') {
    const notes = own.refusals.length ? own.refusals : [{ attribute: 'target', message: MSG_FILE_FALLBACK }];
    return reportLine(r, ref, 'fallback', kind, name, notes, { reason: notes[0]!.message });
  }
  return reportLine(r, ref, own.notes.length ? 'degraded' : 'native', kind, name, own.notes, { info: own.info });
}

const exportedOnly = (r: CatalogResource) => r.exported && r.virtual;

const RELATIONSHIPS = new Set(['before', 'require', 'notify', 'subscribe']);

/** What collectors on other hosts query an exported resource by: its tags (`tag` values included) and parameters (no Sensitive values, no relationships). */
function queryable(r: CatalogResource): { tags: string[]; parameters: Record<string, unknown> } {
  const tag = r.parameters.tag;
  const tags = new Set([...r.tags, ...(Array.isArray(tag) ? tag : tag !== undefined ? [tag] : []).map((t) => textOf(t).toLowerCase())]);
  const parameters = Object.fromEntries(Object.entries(r.parameters).filter(([k]) => !RELATIONSHIPS.has(k) && !r.sensitive.includes(k)));
  return { tags: [...tags], parameters };
}

function refreshable(registry: Registry, s: ResourceSpec): boolean {
  if (s.kind === FALLBACK_KIND) return REFRESHABLE_PUPPET_TYPES.has(textOf(s.params.type));
  return registry.get(s.kind)?.refreshable ?? false;
}

/**
 * The translated resources (native or degraded) that the graph's checks would refuse on their own (the JSON Schema,
 * the kind's `validate`, two resources managing one path), with the kind's messages: index → the notes.
 */
function refusedByKinds(registry: Registry, translated: readonly (readonly [number, ResourceSpec])[], node: string): Map<number, Note[]> {
  const natives = translated.filter(([, s]) => s.kind !== FALLBACK_KIND);
  const out = new Map<number, Note[]>();
  if (natives.length === 0) return out;
  const byId = new Map<string, number[]>();
  for (const [i, s] of natives) {
    const id = vertexId(s);
    const list = byId.get(id);
    if (list) list.push(i);
    else byId.set(id, [i]);
  }
  // Only the messages are kept (the kinds' own, which quote no position): the report places the resource itself.
  const spec: GraphSpec = { graph: node || 'catalog', resources: natives.map(([, s]) => s), exports: [], edges: [], collect: [] };
  for (const d of checkSpec(registry, spec)) {
    // A name two Puppet resources share is the translator's own error (translateCatalog names both).
    if (d.severity !== 'error' || d.where === undefined || d.message.startsWith('declared twice')) continue;
    const list = byId.get(d.where) ?? [];
    // Two resources managing one path: the later one (in catalog order) goes to the fallback.
    const which = d.message.startsWith('manages ') ? list.slice(-1) : list;
    for (const i of which)
      out.set(i, [...(out.get(i) ?? []), { attribute: 'validation', message: `our ${d.where.slice(0, d.where.indexOf('['))} kind refuses it: ${d.message}` }]);
  }
  return out;
}

/** `registry`: the kinds the translation targets (their parameter tables order the output, and say which react to refreshes). */
export function translateCatalog(registry: Registry, catalog: Catalog, opts: TranslateOptions = {}): Translation {
  const runinterval = opts.runinterval ?? DEFAULT_RUNINTERVAL_S;
  const rs = catalog.resources;
  const concat = groupConcat(rs, (r) => !exportedOnly(r));
  const done = new Array<Translated | undefined>(rs.length);
  const get = (i: number): Translated =>
    (done[i] ??= translateOne(
      registry,
      rs[i]!,
      runinterval,
      concat.partsOf.get(i)?.map((j) => rs[j]!),
    ));
  // Every catalog Puppet can apply becomes a graph that validates: a native resource that our kind refuses (a value
  // Puppet accepts and the kind does not) goes to the fallback with the kind's reason, before edges are made.
  const candidates = rs.flatMap((r, i) => (typeRules.get(r.type)?.kind ? [i] : []));
  for (const [i, why] of refusedByKinds(
    registry,
    candidates.map((i) => [i, get(i).spec] as const),
    catalog.node,
  )) {
    done[i] = translateOne(
      registry,
      rs[i]!,
      runinterval,
      concat.partsOf.get(i)?.map((j) => rs[j]!),
      why,
    );
  }
  const automatic = autoRelations(
    catalog,
    (type) => typeRules.get(type),
    (r) => !exportedOnly(r),
  );
  const flatOptions = {
    local: (r: CatalogResource) => !exportedOnly(r),
    automatic,
    refreshable: (i: number) => refreshable(registry, get(i).spec),
  };
  // A relationship to a fragment stands for its file (an exec after a fragment sees the assembled file, which a
  // parallel engine needs said; Puppet gets it from manifest order). Where that contradicts the file's own order
  // and makes a cycle, fragments are bridged as Puppet sees them (they do nothing), so the graph still validates.
  let flat = flattenRelationships(catalog, { ...flatOptions, standsFor: (i) => concat.filesOf.get(i) });
  if (concat.filesOf.size > 0 && hasCycle(rs.length, flat.edges)) {
    flat = flattenRelationships(catalog, { ...flatOptions, standsFor: (i) => (concat.filesOf.has(i) ? [] : undefined) });
  }

  const resources: Translated[] = [];
  const exports: Translated[] = [];
  const merged: ResourceReport[] = [];
  /** Exported and collected on this node (the face's `virtual: false`): applied here and exported too. */
  const alsoExported: Translated[] = [];
  const byId = new Map<string, CatalogResource>();
  let containers = 0;
  rs.forEach((r, i) => {
    const files = concat.filesOf.get(i);
    if (files) {
      const first = files[0];
      merged.push(fragmentReport(r, first === undefined ? undefined : get(first)));
      return;
    }
    if (flat.container[i]) {
      containers++;
      return;
    }
    const t = get(i);
    if (exportedOnly(r)) {
      exports.push(t);
      return;
    }
    const id = `${t.spec.kind}[${t.spec.name}]`;
    const first = byId.get(id);
    if (first) {
      const at = (x: CatalogResource) => `${refOf(x)} (${x.file ? `${x.file}:${x.line ?? '?'}` : x.line !== undefined ? `line ${x.line}` : catalog.source})`;
      throw new CatalogError(`${catalog.source}: ${at(r)} and ${at(first)} both become ${id}; vertex names must be unique per kind`);
    }
    byId.set(id, r);
    resources.push(t);
    if (r.exported) alsoExported.push(t);
  });

  // Each resource's endpoint is made once and shared by its edges (100,000 edges over 10,000 resources); its ref is
  // the one its translation already holds.
  const ends = new Array<{ readonly kind: string; readonly name: string } | undefined>(rs.length);
  const refAt = (i: number) => get(i).spec.origin!.ref;
  const endAt = (i: number) => {
    let end = ends[i];
    if (!end) {
      const t = get(i).spec;
      ends[i] = end = { kind: t.kind, name: t.name };
    }
    return end;
  };
  const edges: EdgeSpec[] = flat.edges.map((e) => ({
    name: `${refAt(e.from)} -> ${refAt(e.to)}`,
    from: endAt(e.from),
    to: endAt(e.to),
    notify: e.notify,
  }));
  edges.sort((a, b) => cmp(a.name, b.name));

  const collect: CollectSpec[] = catalog.collectors.map((c) => {
    const rules = typeRules.get(c.type);
    return { kind: rules?.kind ?? FALLBACK_KIND, pattern: '', query: c.query, type: c.type };
  });

  const bySpec = (a: Translated, b: Translated) => cmp(a.spec.kind, b.spec.kind) || cmp(a.spec.name, b.spec.name);
  resources.sort(bySpec);
  exports.sort(bySpec);
  const spec: GraphSpec = {
    graph: opts.graphName ?? catalog.node,
    // Puppet's automatic relationships are explicit edges here; the engine's own would order differently.
    autoedges: false,
    resources: resources.map((t) => t.spec),
    exports: [...exports, ...alsoExported].sort(bySpec).map((t) => t.spec),
    edges,
    collect,
    source: catalog.source,
  };
  const report = buildReport(catalog.node, catalog.source, [...[...resources, ...exports].map((t) => t.report), ...merged], containers, edges.length);
  return { spec, report };
}
