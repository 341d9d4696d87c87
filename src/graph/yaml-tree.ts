/**
 * Reads YAML into a tree of nodes that keep their source offsets and, for scalars, their raw text.
 *
 * js-yaml's FAILSAFE schema reads every scalar as a string, so `mode: 0644` stays "0644" and `1e3` stays
 * "1e3"; the loader then types each value by its parameter's schema. js-yaml's parse listener reports where
 * each node opens and closes, which gives every node its position without a slower parser.
 */
import yaml, { type Schema } from 'js-yaml';
import { DEFAULT_LIMITS, type GraphLimits, grouped, tooManyBytes } from './limits.js';

export type YNode =
  | { readonly kind: 'scalar'; readonly start: number; readonly value: string | null; readonly plain: boolean }
  | { readonly kind: 'map'; readonly start: number; readonly entries: ReadonlyMap<string, YEntry> }
  | { readonly kind: 'seq'; readonly start: number; readonly items: readonly YNode[] };

export interface YEntry {
  readonly keyStart: number;
  readonly value: YNode;
}

export class YamlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

interface Frame {
  start: number;
  end: number;
  result: unknown;
  children: Frame[];
  /** Nodes under this one (itself included) once aliases are expanded. */
  size: number;
  /** Levels from this node down to its deepest descendant once aliases are expanded (a leaf: 1). */
  height: number;
}

/** A graph past one of the bounds of `GraphLimits` (too big, too deep, too many aliases, an alias cycle). */
export class YamlLimitError extends YamlSyntaxError {}

/**
 * Loads one YAML document with js-yaml while counting what it costs: every node, alias uses, and the size and
 * depth of what each alias stands for, so that a document whose expansion passes `limits` is refused while it is
 * read, at the alias (or node) that passes the bound, before anything is expanded. js-yaml itself keeps an alias
 * as a reference to its anchor's value, so the value returned is a graph of shared nodes no larger than the text;
 * it is checked to have no cycle (`&a [*a]`), so every walk over it ends. Returns the value and the tree of
 * frames (source offsets) that `parseYamlTree` uses.
 */
function loadCounted(text: string, schema: Schema, limits: GraphLimits): { result: unknown; root: Frame } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new YamlLimitError(`the graph is ${tooManyBytes(bytes, limits.maxBytes)}`, 1, 1);
  }
  const root: Frame = { start: 0, end: text.length, result: undefined, children: [], size: 0, height: 0 };
  const stack: Frame[] = [root];
  const sizes = new WeakMap<object, { size: number; height: number }>();
  /** Where each collection starts, to place a cycle found after loading. */
  const starts = new WeakMap<object, number>();
  let nodes = 0;
  let aliases = 0;
  let aliasNodes = 0;
  /** Set from the listener: a collection that may be an alias the listener did not recognise (see below). */
  const seen = { suspect: false };
  const fail = (offset: number, message: string): never => {
    const at = new LineIndex(text).at(nodeStart(text, offset));
    throw new YamlLimitError(message, at.line, at.col);
  };
  let result: unknown;
  // Without an anchor (`&`) there can be no alias: each node is counted once and nothing is shared, so the cheaper
  // listener (depth and node count only) bounds the document as well. Most generated graphs take this path.
  /** A node opens: its depth and the node count are checked (stack[0] is the document, so stack.length is its level). */
  const open = (state: yaml.State): void => {
    if (stack.length > limits.maxDepth) fail(state.position, `nested more than ${limits.maxDepth} levels deep (the most a graph may nest)`);
    if (++nodes > limits.maxNodes) fail(state.position, `more than ${grouped(limits.maxNodes)} YAML nodes (the most a graph may have)`);
    stack.push({ start: state.position, end: state.position, result: undefined, children: [], size: 1, height: 1 });
  };
  const plainListener = (event: 'open' | 'close', state: yaml.State): void => {
    if (event === 'open') {
      open(state);
      return;
    }
    const f = stack.pop()!;
    f.end = state.position;
    f.result = state.result;
    stack[stack.length - 1]!.children.push(f);
  };
  try {
    result = yaml.load(text, {
      schema,
      listener: !text.includes('&')
        ? plainListener
        : function (event, state) {
            if (event === 'open') {
              open(state);
              return;
            }
            const f = stack.pop()!;
            f.end = state.position;
            f.result = state.result;
            const value: unknown = state.result;
            const isCollection = typeof value === 'object' && value !== null;
            const known = isCollection ? sizes.get(value) : undefined;
            const first = f.children.length === 0 ? text[nodeStart(text, f.start)] : undefined;
            if (first === '*' || (first !== undefined && known !== undefined)) {
              // An alias: it stands for the whole node it names.
              if (++aliases > limits.maxAliases) fail(f.start, `more than ${grouped(limits.maxAliases)} aliases (the most a graph may use)`);
              // its anchor still open: the alias is inside the node it names
              if (isCollection && !known) fail(f.start, CYCLE);
              if (known) {
                f.size = known.size;
                f.height = known.height;
                nodes += known.size - 1;
                aliasNodes += known.size - 1;
                if (aliasNodes > limits.maxAliasNodes) {
                  fail(
                    f.start,
                    `with this alias, aliases add more than ${grouped(limits.maxAliasNodes)} YAML nodes to the graph (the most they may add); an alias stands for a copy of everything under its anchor`,
                  );
                }
                if (nodes > limits.maxNodes) {
                  fail(
                    f.start,
                    `this alias expands the graph past ${grouped(limits.maxNodes)} YAML nodes (the most a graph may have); an alias stands for a copy of everything under its anchor`,
                  );
                }
              }
            } else {
              for (const c of f.children) {
                f.size += c.size;
                if (c.height + 1 > f.height) f.height = c.height + 1;
              }
              if (isCollection) {
                // An empty collection is written `[]` or `{}` (after its properties); anything else may be an alias
                // the check above did not see: the value is then checked for cycles once loaded.
                if (first !== undefined && !'[{&!'.includes(first)) seen.suspect = true;
                sizes.set(value, { size: f.size, height: f.height });
                if (!starts.has(value)) starts.set(value, f.start);
              }
            }
            const parent = stack[stack.length - 1]!;
            // parent's level is stack.length - 1; this node's deepest descendant sits f.height levels below it
            if (stack.length - 1 + f.height > limits.maxDepth) {
              fail(f.start, `nested more than ${limits.maxDepth} levels deep once its aliases are expanded (the most a graph may nest)`);
            }
            parent.children.push(f);
          },
    });
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw e;
    if (e instanceof yaml.YAMLException) {
      const mark = e.mark as { line?: number; column?: number } | undefined;
      throw new YamlSyntaxError(e.reason || e.message, (mark?.line ?? 0) + 1, (mark?.column ?? 0) + 1);
    }
    throw e;
  }
  const cycle = seen.suspect ? findCycle(result) : undefined;
  if (cycle !== undefined) fail(starts.get(cycle) ?? 0, CYCLE);
  return { result, root };
}

const CYCLE = 'an alias here names a node that contains it, which would make the graph infinite';

/** A collection that contains itself through aliases, if any (each shared node is walked once). */
function findCycle(value: unknown): object | undefined {
  const done = new WeakSet();
  const onPath = new WeakSet();
  const walk = (v: unknown): object | undefined => {
    if (typeof v !== 'object' || v === null || done.has(v)) return undefined;
    if (onPath.has(v)) return v;
    onPath.add(v);
    for (const c of Array.isArray(v) ? v : Object.values(v)) {
      const found = walk(c);
      if (found) return found;
    }
    onPath.delete(v);
    done.add(v);
    return undefined;
  };
  return walk(value);
}

/**
 * Loads YAML text as plain data under `schema` (a catalog written by hand), within `limits`: the same counting as
 * graphs get, so an alias bomb or a cycle is refused, not expanded. Throws YamlSyntaxError (YamlLimitError for a
 * bound) with a 1-based line and column.
 */
export function loadYamlBounded(text: string, schema: Schema, limits: GraphLimits = DEFAULT_LIMITS): unknown {
  return loadCounted(text, schema, limits).result;
}

/**
 * Parses one YAML document within `limits`. Throws YamlSyntaxError with a 1-based line and column, or
 * YamlLimitError when the document passes one of the bounds.
 */
export function parseYamlTree(text: string, limits: GraphLimits = DEFAULT_LIMITS): YNode | undefined {
  const { result, root } = loadCounted(text, yaml.FAILSAFE_SCHEMA, limits);
  if (result === undefined || result === null) return undefined;
  const top = root.children.find((f) => f.result === result) ?? root.children[root.children.length - 1];
  return top ? build(top, result, text) : undefined;
}

function build(frame: Frame | undefined, value: unknown, text: string): YNode {
  // js-yaml reports some nodes twice (a flow collection inside a block one): unwrap to the innermost frame.
  while (frame?.children.length === 1 && frame.children[0]!.result === frame.result && isObject(frame.result)) {
    frame = frame.children[0];
  }
  const start = frame ? skipSpace(text, frame.start, frame.end) : 0;
  if (Array.isArray(value)) {
    const kids = frame?.children.length === value.length ? frame.children : undefined;
    return { kind: 'seq', start, items: value.map((v, i) => build(kids?.[i] ?? inherit(start), v, text)) };
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    const kids = frame?.children.length === keys.length * 2 ? frame.children : undefined;
    const entries = new Map<string, YEntry>();
    keys.forEach((k, i) => {
      const kf = kids?.[2 * i];
      entries.set(k, {
        keyStart: kf ? skipSpace(text, kf.start, kf.end) : start,
        value: build(kids?.[2 * i + 1] ?? inherit(start), value[k], text),
      });
    });
    return { kind: 'map', start, entries };
  }
  const raw = frame ? text.slice(start, frame.end) : '';
  const first = raw[0];
  const plain = !(first === '"' || first === "'" || first === '|' || first === '>');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from JSON, D-Bus or a manifest; String() keeps its text whatever its shape
  return { kind: 'scalar', start, value: value === null || value === undefined ? null : String(value), plain };
}

/** A frame-less child (aliases, merge keys) takes its parent's position. */
function inherit(start: number): Frame {
  return { start, end: start, result: undefined, children: [], size: 1, height: 1 };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where the node whose frame opens at `offset` starts: past white space, a block entry's `- ` and comments. */
function nodeStart(text: string, offset: number): number {
  let i = offset;
  for (;;) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\n'))) i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else return i < text.length ? i : offset;
  }
}

function skipSpace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t' || text[i] === '-')) {
    if (text[i] === '-' && !(text[i + 1] === ' ' || text[i + 1] === '\n')) break;
    i++;
  }
  return i < to ? i : from;
}

/** Converts offsets to 1-based line and column. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  at(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}
