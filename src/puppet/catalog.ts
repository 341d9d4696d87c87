/**
 * The catalog model: what the translator reads. Four input shapes map onto it: our face's document
 * (`format: "mgmtgraph-catalog"`), Puppet's catalog JSON (`catalog_format` 1/2), the old wrapped
 * `{document_type: "Catalog", data}`, PuppetDB's wire format (v8, v9) and the catalog PuppetDB's query API v4 answers
 * (`/pdb/query/v4/catalogs/NODE`). PuppetDB never holds Sensitive parameters: Puppet's PuppetDB terminus removes
 * them before it stores a catalog, so a resource read from PuppetDB lacks them.
 */
import yaml from 'js-yaml';
import { DEFAULT_LIMITS, tooManyBytes } from '../graph/limits.js';
import { loadYamlBounded, YamlLimitError, YamlSyntaxError } from '../graph/yaml-tree.js';

export interface CatalogResource {
  /** Capitalised per segment: `File`, `Mgmt::Vhost`, `Class`, `Stage`. */
  readonly type: string;
  readonly title: string;
  readonly file?: string;
  readonly line?: number;
  readonly tags: readonly string[];
  readonly exported: boolean;
  /** Exported only (not collected on this node): not applied here. */
  readonly virtual: boolean;
  /** Only what the manifest set explicitly, relationship metaparams included. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Names of parameters whose values are Sensitive (the values sit in clear text in `parameters`). */
  readonly sensitive: readonly string[];
  /** Puppet's `compilable_type`, `defined_type`, `class` or `unknown` (classes), when known. */
  readonly kind?: string;
  /**
   * Files only, from the face: where its `puppet:///modules/...` sources are on the host that compiled the catalog
   * (source URI → absolute path), for the sources that resolved there.
   */
  readonly sourcePaths?: Readonly<Record<string, string>>;
}

/** `source` contains `target` (refs as `Type[title]`). */
export interface ContainmentEdge {
  readonly source: string;
  readonly target: string;
}

export interface Collector {
  readonly type: string;
  /** Puppet's infix query, e.g. `["tag","==","shared"]`; null for `<<| |>>`. */
  readonly query: unknown;
}

export interface Catalog {
  readonly node: string;
  readonly environment?: string;
  readonly resources: readonly CatalogResource[];
  readonly edges: readonly ContainmentEdge[];
  readonly collectors: readonly Collector[];
  /** Where the catalog was read from, for messages. */
  readonly source: string;
}

export class CatalogError extends Error {}

/**
 * A catalog value as text, as String() gives it, without its exceptions: an object whose `toString` is not a
 * function (`{"toString": 1}` in a catalog's JSON) has no String(), and gets its JSON instead.
 */
export function textOf(v: unknown): string {
  try {
    return String(v);
  } catch {
    try {
      return JSON.stringify(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
}

export function refOf(r: { readonly type: string; readonly title: string }): string {
  return `${r.type}[${r.title}]`;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses catalog text (JSON, or YAML for hand-written input) and recognises its shape. A catalog is bounded as a
 * graph is (graph/limits.ts): its size in bytes, and for YAML its nodes once aliases are expanded, so an alias
 * bomb is refused, not expanded.
 */
export function readCatalog(text: string, sourceName: string): Catalog {
  return catalogFromData(parseCatalogText(text, sourceName), sourceName);
}

/** readCatalog's first half: the document, parsed within the bounds, its shape not yet looked at. */
export function parseCatalogText(text: string, sourceName: string): unknown {
  let doc: unknown;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > DEFAULT_LIMITS.maxBytes) {
    throw new CatalogError(`${sourceName}: the catalog is ${tooManyBytes(bytes, DEFAULT_LIMITS.maxBytes)}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new CatalogError(`${sourceName}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    // Strict YAML 1.2 (JSON schema) so that "1e3" and "0o17" written unquoted are at least typed predictably.
    try {
      doc = loadYamlBounded(text, yaml.JSON_SCHEMA);
    } catch (e) {
      if (e instanceof YamlLimitError) throw new CatalogError(`${sourceName}:${e.line}:${e.col}: ${e.message}`);
      if (e instanceof YamlSyntaxError) throw new CatalogError(`${sourceName}:${e.line}:${e.col}: not valid JSON or YAML: ${e.message}`);
      throw e;
    }
  }
  return doc;
}

/** Recognises the shape of an already parsed catalog document. */
export function catalogFromData(doc: unknown, sourceName: string): Catalog {
  const depth = deeperThan(doc, DEFAULT_LIMITS.maxDepth);
  if (depth) throw new CatalogError(`${sourceName}: ${depth} nests more than ${DEFAULT_LIMITS.maxDepth} levels deep (the most a graph may nest)`);
  if (!isObj(doc)) throw new CatalogError(`${sourceName}: a catalog is a JSON object; got ${describe(doc)}`);
  if (doc.format === 'mgmtgraph-catalog') return fromFace(doc, sourceName);
  if (doc.document_type === 'Catalog' && isObj(doc.data)) return fromPuppet(doc.data, sourceName);
  if ('catalog_format' in doc || ('resources' in doc && 'name' in doc && Array.isArray(doc.resources) && !('certname' in doc))) {
    return fromPuppet(doc, sourceName);
  }
  if ('certname' in doc && Array.isArray(doc.resources)) return fromPuppetDb(doc, sourceName);
  if ('certname' in doc && isObj(doc.resources)) return fromPuppetDb(fromPuppetDbQuery(doc, sourceName), sourceName);
  if (typeof doc.format === 'string') {
    throw new CatalogError(`${sourceName}: unknown catalog format ${JSON.stringify(doc.format)} (expected "mgmtgraph-catalog")`);
  }
  throw new CatalogError(
    `${sourceName}: not a catalog: expected the face's document (format: "mgmtgraph-catalog"), Puppet's catalog JSON ` +
      '(catalog_format), a {document_type: "Catalog"} wrapper or a PuppetDB catalog (certname, resources, edges)',
  );
}

/**
 * The path (`resources[3].parameters.x`) of a value nested deeper than `max`, if any. Recursion is bounded by `max`
 * (it stops there), and nothing is allocated per value: a 10,000-resource catalog is walked in a few milliseconds.
 */
function deeperThan(doc: unknown, max: number): string | undefined {
  const path: (string | number)[] = [];
  return tooDeep(doc, max, path) ? pathText(path) : undefined;
}

/** Whether `v` nests more than `left` levels; on true, `path` holds the keys down to the first such value. */
function tooDeep(v: unknown, left: number, path: (string | number)[]): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (left <= 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (tooDeep(v[i], left - 1, path)) {
        path.unshift(i);
        return true;
      }
    }
    return false;
  }
  const o = v as Json;
  for (const k of Object.keys(o)) {
    if (tooDeep(o[k], left - 1, path)) {
      path.unshift(k);
      return true;
    }
  }
  return false;
}

function pathText(path: readonly (string | number)[]): string {
  let out = '';
  path.forEach((k, i) => (out += typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`));
  return out || 'the catalog';
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

function resourceList(doc: Json, src: string): Json[] {
  if (!Array.isArray(doc.resources)) throw new CatalogError(`${src}: \`resources\` must be a list`);
  return doc.resources.map((r, i) => {
    if (!isObj(r) || typeof r.type !== 'string' || (typeof r.title !== 'string' && typeof r.title !== 'number')) {
      throw new CatalogError(`${src}: resources[${i}] needs a string \`type\` and \`title\``);
    }
    return r;
  });
}

function resource(r: Json, sensitiveKey: string, src: string, i: number): CatalogResource {
  const params = r.parameters ?? {};
  if (!isObj(params)) throw new CatalogError(`${src}: resources[${i}] (${textOf(r.type)}[${textOf(r.title)}]): \`parameters\` must be a map`);
  const sens = r[sensitiveKey];
  const file = typeof r.file === 'string' && r.file !== '' ? r.file : undefined;
  const line = typeof r.line === 'number' ? r.line : undefined;
  return {
    type: r.type as string,
    title: textOf(r.title),
    ...(file !== undefined ? { file } : {}),
    ...(line !== undefined ? { line } : {}),
    tags: Array.isArray(r.tags) ? r.tags.map(textOf) : [],
    exported: r.exported === true,
    // Puppet's own formats cannot tell "export only" from "exported and collected here": exported means not local.
    virtual: typeof r.virtual === 'boolean' ? r.virtual : r.exported === true,
    parameters: params,
    sensitive: Array.isArray(sens) ? sens.map(textOf) : [],
    ...(typeof r.kind === 'string' ? { kind: r.kind } : {}),
    ...(isObj(r.source_paths) ? { sourcePaths: stringsOf(r.source_paths) } : {}),
  };
}

const stringsOf = (o: Json): Record<string, string> => Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));

function containment(doc: Json, src: string): ContainmentEdge[] {
  const edges = doc.edges ?? [];
  if (!Array.isArray(edges)) throw new CatalogError(`${src}: \`edges\` must be a list`);
  return edges.map((e, i) => {
    if (!isObj(e) || typeof e.source !== 'string' || typeof e.target !== 'string') {
      throw new CatalogError(`${src}: edges[${i}] must be {source: "Type[title]", target: "Type[title]"}`);
    }
    return { source: e.source, target: e.target };
  });
}

function fromFace(doc: Json, src: string): Catalog {
  if (doc.version !== 1) throw new CatalogError(`${src}: unsupported mgmtgraph-catalog version ${JSON.stringify(doc.version)} (expected 1)`);
  const collectors = Array.isArray(doc.collectors) ? doc.collectors : [];
  return {
    node: typeof doc.node === 'string' ? doc.node : 'puppet',
    ...(typeof doc.environment === 'string' ? { environment: doc.environment } : {}),
    resources: resourceList(doc, src).map((r, i) => resource(r, 'sensitive', src, i)),
    edges: containment(doc, src),
    collectors: collectors.filter(isObj).map((c) => ({ type: textOf(c.type), query: c.query ?? null })),
    source: src,
  };
}

function fromPuppet(doc: Json, src: string): Catalog {
  return {
    node: typeof doc.name === 'string' ? doc.name : 'puppet',
    ...(typeof doc.environment === 'string' ? { environment: doc.environment } : {}),
    resources: resourceList(doc, src).map((r, i) => resource(r, 'sensitive_parameters', src, i)),
    edges: containment(doc, src),
    collectors: [],
    source: src,
  };
}

/** PuppetDB relationship names → the metaparam set on the edge's source (source comes first in every case). */
const PDB_RELATIONSHIP: Readonly<Record<string, 'before' | 'notify'>> = {
  before: 'before',
  'required-by': 'before',
  notifies: 'notify',
  'subscription-of': 'notify',
};

/**
 * The query API's catalog (`resources` and `edges` as `{data, href}`, edges as `source_type`, `source_title`...)
 * in the wire format's terms.
 */
function fromPuppetDbQuery(doc: Json, src: string): Json {
  const list = (field: 'resources' | 'edges'): unknown[] => {
    const v = doc[field] ?? { data: [] };
    if (isObj(v) && Array.isArray(v.data)) return v.data;
    throw new CatalogError(
      `${src}: \`${field}\` holds no \`data\` list (only a link): read the catalog with mgmt puppet translate --puppetdb, which follows it`,
    );
  };
  const edges = list('edges').map((e, i) => {
    if (!isObj(e) || !['source_type', 'source_title', 'target_type', 'target_title', 'relationship'].every((k) => typeof e[k] === 'string'))
      throw new CatalogError(`${src}: edges[${i}] must be {source_type, source_title, target_type, target_title, relationship} (strings)`);
    return { source: { type: e.source_type, title: e.source_title }, target: { type: e.target_type, title: e.target_title }, relationship: e.relationship };
  });
  return { ...doc, resources: list('resources'), edges };
}

function fromPuppetDb(doc: Json, src: string): Catalog {
  const resources = resourceList(doc, src).map((r, i) => resource(r, 'sensitive_parameters', src, i));
  const byRef = new Map(resources.map((r, i) => [refOf(r), i] as const));
  const extra = new Map<number, Record<string, string[]>>();
  const edges: ContainmentEdge[] = [];
  const list = Array.isArray(doc.edges) ? doc.edges : [];
  list.forEach((e, i) => {
    const s = isObj(e) && isObj(e.source) ? e.source : undefined;
    const t = isObj(e) && isObj(e.target) ? e.target : undefined;
    if (!s || !t || !isObj(e)) throw new CatalogError(`${src}: edges[${i}] must be {source: {type, title}, target: {type, title}, relationship}`);
    const source = `${textOf(s.type)}[${textOf(s.title)}]`;
    const target = `${textOf(t.type)}[${textOf(t.title)}]`;
    if (e.relationship === 'contains') {
      edges.push({ source, target });
      return;
    }
    const meta = PDB_RELATIONSHIP[textOf(e.relationship)];
    if (!meta) throw new CatalogError(`${src}: edges[${i}]: unknown relationship ${JSON.stringify(e.relationship)}`);
    const idx = byRef.get(source);
    if (idx === undefined) throw new CatalogError(`${src}: edges[${i}]: ${source} is not in the catalog`);
    const m = extra.get(idx) ?? {};
    (m[meta] ??= []).push(target);
    extra.set(idx, m);
  });
  const merged = resources.map((r, i) => {
    const m = extra.get(i);
    if (!m) return r;
    const parameters: Record<string, unknown> = { ...r.parameters };
    for (const [k, refs] of Object.entries(m)) {
      const have = parameters[k];
      parameters[k] = [...(have === undefined ? [] : Array.isArray(have) ? (have as unknown[]) : [have]), ...refs];
    }
    return { ...r, parameters };
  });
  return {
    node: typeof doc.certname === 'string' ? doc.certname : 'puppet',
    ...(typeof doc.environment === 'string' ? { environment: doc.environment } : {}),
    resources: merged,
    edges,
    collectors: [],
    source: src,
  };
}
