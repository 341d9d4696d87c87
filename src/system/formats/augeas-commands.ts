/**
 * The command language of Puppet's `augeas` type, pure: a change (`set /files/etc/hosts/1/ipaddr 127.0.0.1`) or an
 * `onlyif` condition (`get ... == value`, `match ... size > 0`) split into its words, relative paths joined to the
 * context as Puppet's provider does, and written back as augtool commands with every word double-quoted (so a value
 * with spaces or quotes reaches Augeas as it was written).
 *
 * Words are separated by blanks, except inside `[...]` (a path's predicate: `*[canonical = 'db']` is one word); a
 * word wholly inside '...' or "..." loses its quotes (a double-quoted one also its backslash escapes); quotes
 * inside a word stay as they are.
 */

/** What each change command takes, in order: a path (joined to the context when relative) or a plain word. */
type Arg = 'path' | 'word';

const CHANGES: Readonly<Record<string, readonly Arg[]>> = {
  set: ['path', 'word'],
  setm: ['path', 'word', 'word'],
  rm: ['path'],
  remove: ['path'],
  clear: ['path'],
  clearm: ['path', 'word'],
  touch: ['path'],
  mv: ['path', 'path'],
  move: ['path', 'path'],
  rename: ['path', 'word'],
  insert: ['word', 'word', 'path'],
  ins: ['word', 'word', 'path'],
  defvar: ['word', 'path'],
  defnode: ['word', 'path', 'word'],
};

/** The change commands, for messages and docs. */
export const CHANGE_COMMANDS = Object.keys(CHANGES).join(', ');

/** The words of one command line, or an error message. */
export function splitWords(line: string): string[] | string {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    let word = '';
    let raw = '';
    let whole: '"' | "'" | undefined;
    const start = i;
    let depth = 0;
    while (i < n && (depth > 0 || !/\s/.test(line[i]!))) {
      const c = line[i]!;
      if (c === '[') depth++;
      else if (c === ']' && depth > 0) depth--;
      if (c === '"' || c === "'") {
        const end = findClose(line, i);
        if (end < 0) return `unterminated ${c === '"' ? 'double' : 'single'} quote`;
        if (i === start && depth === 0 && (end + 1 >= n || /\s/.test(line[end + 1]!))) whole = c;
        raw += line.slice(i, end + 1);
        i = end + 1;
      } else {
        raw += c;
        i++;
      }
    }
    if (whole === '"') word = raw.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (whole === "'") word = raw.slice(1, -1);
    else word = raw;
    words.push(word);
  }
  return words;
}

function findClose(line: string, open: number): number {
  const q = line[open];
  for (let j = open + 1; j < line.length; j++) {
    if (q === '"' && line[j] === '\\') {
      j++;
      continue;
    }
    if (line[j] === q) return j;
  }
  return -1;
}

/** A relative path joined to the context, as Puppet's provider does (a `$variable` path stays as it is). */
export function inContext(path: string, context: string): string {
  if (context === '' || path.startsWith('/') || path.startsWith('$')) return path;
  return `${context.replace(/\/+$/, '')}/${path}`;
}

/** One word for augtool, double-quoted with `\` and `"` escaped. */
export const quoted = (w: string): string => `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** One change as an augtool command (paths joined to the context), or an error message naming what is wrong. */
export function changeCommand(line: string, context: string): string | { readonly error: string } {
  const words = splitWords(line);
  if (typeof words === 'string') return { error: words };
  const [cmd, ...args] = words;
  if (cmd === undefined) return { error: 'empty command' };
  const shape = CHANGES[cmd];
  if (shape === undefined) return { error: `unknown command '${cmd}' (the commands are ${CHANGE_COMMANDS})` };
  if (args.length !== shape.length) return { error: `'${cmd}' takes ${shape.length} argument${shape.length === 1 ? '' : 's'}, got ${args.length}` };
  if ((cmd === 'insert' || cmd === 'ins') && args[1] !== 'before' && args[1] !== 'after')
    return { error: `'${cmd}' needs 'before' or 'after' as its second argument` };
  const out = args.map((a, i) => quoted(shape[i] === 'path' ? inContext(a, context) : a));
  return [cmd === 'remove' ? 'rm' : cmd === 'move' ? 'mv' : cmd === 'insert' ? 'ins' : cmd, ...out].join(' ');
}

/** An `onlyif` condition, parsed. */
export type Condition =
  | { readonly kind: 'get'; readonly path: string; readonly op: '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~'; readonly value: string }
  | { readonly kind: 'size'; readonly path: string; readonly op: '==' | '!=' | '<' | '<=' | '>' | '>='; readonly count: number }
  | { readonly kind: 'include' | 'not_include'; readonly path: string; readonly value: string };

const GET_OPS = ['==', '!=', '<', '<=', '>', '>=', '=~'] as const;
const SIZE_OPS = ['==', '!=', '<', '<=', '>', '>='] as const;

const USAGE =
  'only `get PATH OP VALUE` (OP: == != < <= > >= =~) and `match PATH size OP N`, `match PATH include VALUE`, `match PATH not_include VALUE` are supported';

/** The condition (paths joined to the context), or an error message. */
export function parseCondition(line: string, context: string): Condition | { readonly error: string } {
  const words = splitWords(line);
  if (typeof words === 'string') return { error: words };
  const [cmd, path, a, b, n] = words;
  if (path === undefined || a === undefined || b === undefined) return { error: USAGE };
  const p = inContext(path, context);
  if (cmd === 'get' && words.length === 4 && (GET_OPS as readonly string[]).includes(a)) {
    if (a === '=~') {
      try {
        new RegExp(b);
      } catch {
        return { error: 'the regular expression after =~ is not valid' };
      }
    }
    return { kind: 'get', path: p, op: a as (typeof GET_OPS)[number], value: b };
  }
  if (cmd === 'match' && a === 'size' && words.length === 5 && (SIZE_OPS as readonly string[]).includes(b) && /^[0-9]+$/.test(n!)) {
    return { kind: 'size', path: p, op: b as (typeof SIZE_OPS)[number], count: Number(n) };
  }
  if (cmd === 'match' && (a === 'include' || a === 'not_include') && words.length === 4) return { kind: a, path: p, value: b };
  return { error: USAGE };
}

/** Whether a condition holds, given what augtool answered: the value of `get` (undefined: no node or no value), or the paths `match` found. */
export function conditionHolds(c: Condition, answer: { readonly value?: string | undefined; readonly paths?: readonly string[] }): boolean {
  const cmp = (x: number, op: string): boolean =>
    op === '==' ? x === 0 : op === '!=' ? x !== 0 : op === '<' ? x < 0 : op === '<=' ? x <= 0 : op === '>' ? x > 0 : x >= 0;
  switch (c.kind) {
    case 'get': {
      const v = answer.value;
      if (c.op === '=~') return v !== undefined && new RegExp(c.value).test(v);
      if (c.op === '==') return v === c.value;
      if (c.op === '!=') return v !== c.value;
      if (v === undefined) return false;
      return cmp(v < c.value ? -1 : v > c.value ? 1 : 0, c.op);
    }
    case 'size': {
      const n = answer.paths?.length ?? 0;
      return cmp(n - c.count, c.op);
    }
    case 'include':
      return (answer.paths ?? []).includes(c.value);
    case 'not_include':
      return !(answer.paths ?? []).includes(c.value);
  }
}
