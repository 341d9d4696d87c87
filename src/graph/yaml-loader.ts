/**
 * The YAML front door: text -> typed document -> JSON Schema validation -> GraphSpec, with every problem
 * reported at once and placed at file:line:col. mgmt's graph format, with the compatibility it needs (empty
 * strings as "unset", obsolete exec parameters, `res:` in edges) and without its silence about typos.
 */
import type { ErrorObject } from 'ajv';
import { isUnsetValue } from '../resources/normalize.js';
import type { ParamDef, ParamTable } from '../resources/params.js';
import type { Registry } from '../resources/registry.js';
import { coerce, isNullScalar, toPlain, UNSET } from './coerce.js';
import { type Diagnostic, suggest } from './diagnostics.js';
import { metaParams } from './metaparams.js';
import { validateDocument } from './schema.js';
import { valueMessage } from './schema-messages.js';
import { COLLECT_ALLOWANCES, type CollectAllowance, type CollectSpec, type EdgeSpec, type GraphSpec, type Pos, type ResourceSpec } from './spec.js';
import { DEFAULT_LIMITS, type GraphLimits } from './limits.js';
import { LineIndex, parseYamlTree, YamlLimitError, YamlSyntaxError, type YNode } from './yaml-tree.js';

export interface Loaded {
  /** Present when the text could be read as a graph; check the diagnostics for errors before using it. */
  readonly spec?: GraphSpec;
  readonly diagnostics: Diagnostic[];
  /** `kind[name]` of resources left out of the spec because of their errors (edges to them are not flagged again). */
  readonly invalid?: ReadonlySet<string>;
}

type Doc = Record<string, unknown>;

/** `limits`: what reading the graph may cost (limits.ts); a graph past one is refused with its position. */
export function loadYamlGraph(registry: Registry, text: string, file: string, limits: GraphLimits = DEFAULT_LIMITS): Loaded {
  const diagnostics: Diagnostic[] = [];
  let root: YNode | undefined;
  try {
    root = parseYamlTree(text, limits);
  } catch (e) {
    if (e instanceof YamlLimitError) {
      diagnostics.push({ severity: 'error', message: `${e.message}; the graph was not read further`, pos: { file, line: e.line, col: e.col } });
      return { diagnostics };
    }
    if (e instanceof YamlSyntaxError) {
      diagnostics.push({ severity: 'error', message: `invalid YAML: ${e.message}`, pos: { file, line: e.line, col: e.col } });
      return { diagnostics };
    }
    throw e;
  }
  const lines = new LineIndex(text);
  const at = (offset: number): Pos => ({ file, ...lines.at(offset) });
  if (root?.kind !== 'map') {
    diagnostics.push({
      severity: 'error',
      message: 'a graph is a YAML map with at least `graph:` (its name) and `resources:`',
      pos: at(root?.start ?? 0),
    });
    return { diagnostics };
  }

  const obsolete = new Map<string, { pos: Pos; count: number; text: string }>();
  const doc = typeDocument(registry, root, at, diagnostics, obsolete);
  for (const [what, o] of obsolete) {
    diagnostics.push({
      severity: 'warning',
      message: `${what} is obsolete${o.count > 1 ? ` (${o.count} resources)` : ''}: ${o.text}`,
      pos: o.pos,
    });
  }

  const badResources = new Set<string>();
  for (const err of validateDocument(registry, doc)) {
    // A missing `graph:` is reported once, by validateGraph, at the top of the file.
    if (err.keyword === 'required' && err.instancePath === '') continue;
    const d = describeSchemaError(registry, err, root, doc, at);
    diagnostics.push(d);
    const m = /^\/resources\/([^/]+)\/(\d+)/.exec(err.instancePath);
    if (m) badResources.add(`${m[1]}/${m[2]}`);
  }
  const invalid = new Set<string>();
  const spec = buildSpec(registry, doc, root, at, file, badResources, invalid);
  return { spec, diagnostics, invalid };
}

/** Types every value by its schema; keeps the document's shape so schema errors map back to nodes. */
function typeDocument(
  registry: Registry,
  root: YNode & { kind: 'map' },
  at: (o: number) => Pos,
  diagnostics: Diagnostic[],
  obsolete: Map<string, { pos: Pos; count: number; text: string }>,
): Doc {
  const doc: Doc = {};
  for (const [key, entry] of root.entries) {
    const n = entry.value;
    if (key === 'resources' && n.kind === 'map') {
      const resources: Doc = {};
      for (const [kind, e] of n.entries) {
        const k = registry.get(kind);
        resources[kind] = k && e.value.kind === 'seq' ? e.value.items.map((item) => typeResource(kind, k.params, item, at, obsolete)) : toPlain(e.value);
      }
      doc.resources = resources;
    } else if (key === 'edges' && n.kind === 'seq') {
      doc.edges = n.items.map((item) => typeEdge(item, at, diagnostics));
    } else if (key === 'autoedges') {
      const v = coerce(n, 'boolean');
      if (v !== UNSET) doc.autoedges = v;
    } else if (key === 'remote') {
      diagnostics.push({ severity: 'warning', message: '`remote` is obsolete (mgmt <= 0.0.12) and ignored', pos: at(entry.keyStart) });
      doc.remote = toPlain(n);
    } else {
      doc[key] = toPlain(n);
    }
  }
  return doc;
}

function typeResource(
  kind: string,
  table: ParamTable,
  node: YNode,
  at: (o: number) => Pos,
  obsolete: Map<string, { pos: Pos; count: number; text: string }>,
): unknown {
  if (node.kind !== 'map') return toPlain(node);
  const out: Doc = {};
  let legacyMeta: Doc = {};
  for (const [key, e] of node.entries) {
    if (key === 'name') {
      out.name = toPlain(e.value);
    } else if (key === 'meta') {
      out.meta = e.value.kind === 'map' ? typeMap(metaParams, e.value) : toPlain(e.value);
    } else {
      const def = table[key];
      if (!def) {
        out[key] = toPlain(e.value);
        continue;
      }
      const v = coerce(e.value, def.type);
      // empty-is-unset before the schema sees the value (normalize applies the same rule to every other front door)
      if (v === UNSET || isUnsetValue(def, v) || unlimited(def, v)) continue;
      // An obsolete spelling out of its range stays where it was written, so that the schema reports it there.
      if (def.deprecated && !(typeof v === 'number' && def.maximum !== undefined && v > def.maximum)) {
        const what = `${kind} parameter \`${key}\``;
        const o = obsolete.get(what);
        if (o) o.count++;
        else obsolete.set(what, { pos: at(e.keyStart), count: 1, text: def.deprecated });
        legacyMeta = { ...legacyMeta, ...(def.toMeta?.(v) ?? {}) };
        continue;
      }
      out[key] = v;
    }
  }
  if (Object.keys(legacyMeta).length > 0) {
    const explicit = out.meta && typeof out.meta === 'object' ? (out.meta as Doc) : {};
    out.meta = { ...legacyMeta, ...explicit };
  }
  return out;
}

function typeMap(table: ParamTable, node: YNode & { kind: 'map' }): Doc {
  const out: Doc = {};
  for (const [key, e] of node.entries) {
    const def = table[key];
    const v = def ? coerce(e.value, def.type) : toPlain(e.value);
    if (v !== UNSET && !(def && unlimited(def, v))) out[key] = v;
  }
  return out;
}

/**
 * YAML's `.inf` for a number whose absence means "no bound" (`limit`, whose unset value is unlimited): the value is
 * left unset, which means what was written. (JSON, and so the schema, has no infinity.)
 */
function unlimited(def: ParamDef, v: unknown): boolean {
  return v === Infinity && def.type === 'number' && def.default === undefined && def.required === undefined;
}

function typeEdge(node: YNode, at: (o: number) => Pos, diagnostics: Diagnostic[]): unknown {
  if (node.kind !== 'map') return toPlain(node);
  const out: Doc = {};
  for (const [key, e] of node.entries) {
    if ((key === 'from' || key === 'to') && e.value.kind === 'map') {
      const ref: Doc = {};
      for (const [rk, re] of e.value.entries) {
        if (rk === 'res') {
          diagnostics.push({ severity: 'warning', message: 'edge endpoint `res:` is obsolete: write `kind:`', pos: at(re.keyStart) });
          ref.kind = toPlain(re.value);
        } else ref[rk] = toPlain(re.value);
      }
      if (typeof ref.kind === 'string') ref.kind = ref.kind.toLowerCase();
      out[key] = ref;
    } else if (key === 'notify') {
      const v = coerce(e.value, 'boolean');
      if (v !== UNSET) out.notify = v;
    } else out[key] = toPlain(e.value);
  }
  return out;
}

function buildSpec(registry: Registry, doc: Doc, root: YNode, at: (o: number) => Pos, file: string, bad: ReadonlySet<string>, invalid: Set<string>): GraphSpec {
  const resources: ResourceSpec[] = [];
  const exports: ResourceSpec[] = [];
  const resNode = child(root, 'resources');
  const resDoc = (doc.resources ?? {}) as Doc;
  for (const [kind, list] of Object.entries(resDoc)) {
    if (!registry.get(kind) || !Array.isArray(list)) continue;
    const listNode = child(resNode, kind);
    list.forEach((r: unknown, i) => {
      if (bad.has(`${kind}/${i}`)) {
        const name = (r as Doc | null)?.name;
        if (typeof name === 'string') invalid.add(`${kind}[${name.startsWith('@@') ? name.slice(2) : name}]`);
        return;
      }
      const node = listNode?.kind === 'seq' ? listNode.items[i] : undefined;
      const { name, meta, ...params } = r as Doc & { name: string; meta?: Doc };
      const paramPos: Record<string, Pos> = {};
      if (node?.kind === 'map') {
        for (const [key, e] of node.entries) paramPos[key] = at(e.keyStart);
        const metaNode = node.entries.get('meta')?.value;
        if (metaNode?.kind === 'map') for (const [key, e] of metaNode.entries) paramPos[`meta.${key}`] = at(e.keyStart);
      }
      const exported = name.startsWith('@@');
      const spec: ResourceSpec = {
        kind,
        name: exported ? name.slice(2) : name,
        params,
        meta: meta ?? {},
        pos: at(node?.start ?? 0),
        paramPos,
      };
      (exported ? exports : resources).push(spec);
    });
  }
  const edges: EdgeSpec[] = [];
  const edgeNode = child(root, 'edges');
  ((Array.isArray(doc.edges) ? doc.edges : []) as unknown[]).forEach((item, i) => {
    // a list item that is no map (`- null`) was reported by the schema
    if (typeof item !== 'object' || item === null) return;
    const e = item as Doc;
    const from = e.from as { kind: string; name: string } | undefined;
    const to = e.to as { kind: string; name: string } | undefined;
    if (!from || !to || typeof from.name !== 'string' || typeof to.name !== 'string') return;
    const node = edgeNode?.kind === 'seq' ? edgeNode.items[i] : undefined;
    edges.push({
      name: typeof e.name === 'string' && e.name ? e.name : `${from.kind}[${from.name}] -> ${to.kind}[${to.name}]`,
      from: { kind: from.kind, name: from.name },
      to: { kind: to.kind, name: to.name },
      notify: e.notify === true,
      pos: at(node?.start ?? 0),
    });
  });
  const collect: CollectSpec[] = ((Array.isArray(doc.collect) ? doc.collect : []) as (Doc | null)[])
    .filter((c): c is Doc => typeof c?.kind === 'string')
    .map((c) => ({
      kind: c.kind as string,
      pattern: typeof c.pattern === 'string' ? c.pattern : '',
      ...(Array.isArray(c.allow) ? { allow: c.allow.filter((a): a is CollectAllowance => (COLLECT_ALLOWANCES as readonly unknown[]).includes(a)) } : {}),
    }));
  return {
    graph: typeof doc.graph === 'string' ? doc.graph : '',
    ...(typeof doc.comment === 'string' ? { comment: doc.comment } : {}),
    ...(typeof doc.autoedges === 'boolean' ? { autoedges: doc.autoedges } : {}),
    resources,
    exports,
    edges,
    collect,
    source: file,
  };
}

function child(n: YNode | undefined, key: string): YNode | undefined {
  return n?.kind === 'map' ? n.entries.get(key)?.value : undefined;
}

/** Turns one ajv error into a message a user can act on, placed at the offending key or value. */
function describeSchemaError(registry: Registry, err: ErrorObject, root: YNode, doc: Doc, at: (o: number) => Pos): Diagnostic {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Walk down the YAML tree as far as the path goes; remember the key position of the last map entry.
  let node: YNode = root;
  let offset = root.start;
  for (const seg of path) {
    if (node.kind === 'map') {
      const e = node.entries.get(seg);
      if (!e) break;
      offset = e.keyStart;
      node = e.value;
    } else if (node.kind === 'seq') {
      const item: YNode | undefined = node.items[Number(seg)];
      if (!item) break;
      offset = item.start;
      node = item;
    } else break;
  }
  let where: string | undefined;
  let subject = '';
  let secret = false;
  if (path[0] === 'resources' && path.length >= 3) {
    const kind = path[1]!;
    const r = ((doc.resources as Doc)[kind] as unknown[])[Number(path[2])] as Doc | undefined;
    where = `${kind}[${typeof r?.name === 'string' ? r.name : `#${Number(path[2]) + 1}`}]`;
    const rest = path.slice(3);
    if (rest.length) subject = rest[0] === 'meta' && rest.length > 1 ? `metaparam \`${rest[1]}\`` : `parameter \`${rest.join('.')}\``;
    // The value of a parameter marked sensitive is not quoted (docs/security.md).
    const sensitive = (r?.meta as Doc | undefined)?.sensitive;
    secret = Array.isArray(sensitive) && sensitive.some((s) => typeof s === 'string' && s.split('.')[0] === rest[0]);
  } else if (path.length) {
    subject = `\`${path.join('.')}\``;
  }
  const prefix = subject ? `${subject}: ` : '';
  const got = !secret && node.kind === 'scalar' && !isNullScalar(node) ? ` (got ${JSON.stringify(node.value)})` : '';
  let message: string;
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      const e = node.kind === 'map' ? node.entries.get(extra) : undefined;
      if (e) offset = e.keyStart;
      if (path.length === 1 && path[0] === 'resources') {
        const hint = suggest(
          extra,
          registry.all().map((k) => k.kind),
        );
        message = `unknown resource kind \`${extra}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}; known kinds: ${registry
          .all()
          .map((k) => k.kind)
          .join(', ')}`;
      } else if (path.length === 0) {
        message = `unknown top-level key \`${extra}\`; expected graph, comment, autoedges, resources, edges or collect`;
      } else {
        const isMeta = path[path.length - 1] === 'meta';
        const kind = path[0] === 'resources' ? registry.get(path[1] ?? '') : undefined;
        const known = isMeta ? Object.keys(metaParams) : kind && path.length === 3 ? ['name', 'meta', ...Object.keys(kind.params)] : [];
        const hint = suggest(extra, known);
        const what = isMeta ? 'unknown metaparam' : kind && path.length === 3 ? 'unknown parameter' : `${prefix}unknown key`;
        message = `${what} \`${extra}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}`;
      }
      break;
    }
    default:
      message = valueMessage(err, prefix, got);
  }
  return { severity: 'error', message, pos: at(offset), ...(where ? { where } : {}) };
}
