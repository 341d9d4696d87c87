/**
 * Reads YAML into a tree of nodes that keep their source offsets and, for scalars, their raw text.
 *
 * js-yaml's FAILSAFE schema reads every scalar as a string, so `mode: 0644` stays "0644" and `1e3` stays
 * "1e3"; the loader then types each value by its parameter's schema. js-yaml's parse listener reports where
 * each node opens and closes, which gives every node its position without a slower parser.
 */
import yaml from 'js-yaml';

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
}

/** Parses one YAML document. Throws YamlSyntaxError with a 1-based line and column. */
export function parseYamlTree(text: string): YNode | undefined {
  const root: Frame = { start: 0, end: text.length, result: undefined, children: [] };
  const stack: Frame[] = [root];
  let result: unknown;
  try {
    result = yaml.load(text, {
      schema: yaml.FAILSAFE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          stack.push({ start: state.position, end: state.position, result: undefined, children: [] });
        } else {
          const f = stack.pop()!;
          f.end = state.position;
          f.result = state.result;
          stack[stack.length - 1]!.children.push(f);
        }
      },
    });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const mark = e.mark as { line?: number; column?: number } | undefined;
      throw new YamlSyntaxError(e.reason || e.message, (mark?.line ?? 0) + 1, (mark?.column ?? 0) + 1);
    }
    throw e;
  }
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
  return { start, end: start, result: undefined, children: [] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
