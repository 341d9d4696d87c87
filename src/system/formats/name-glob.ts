/**
 * Glob patterns matched against one directory entry's name, with the rules of Ruby's `File.fnmatch?` without flags
 * (what Puppet's File `ignore` uses): `*` any run of characters, `?` one character, `[...]` a class (`[a-z]`,
 * negated by `!` or `^`), `\` makes the next character literal, anything else matches itself. A name starting
 * with `.` is matched only by a pattern whose first character is a literal `.` (`*` and `?` do not match a leading
 * dot: `*.conf` leaves `.hidden.conf` alone). No braces and no `**` (names have no `/`). An unclosed `[` matches
 * nothing, as in Ruby. Pure.
 */

/** One piece of a compiled pattern. */
type Piece =
  { readonly t: 'lit'; readonly c: string } | { readonly t: 'any' } | { readonly t: 'star' } | { readonly t: 'class'; readonly test: (c: string) => boolean };

/** A compiled pattern: `matches(name)` says whether the entry name matches. */
export interface NameGlob {
  readonly pattern: string;
  matches(name: string): boolean;
}

/** Compiles `pattern`. */
export function nameGlob(pattern: string): NameGlob {
  // By code point, as Ruby matches a UTF-8 string by character.
  const pieces = compile(Array.from(pattern));
  return { pattern, matches: (name) => match(pieces, 0, Array.from(name), 0) };
}

/** Whether any of `globs` matches `name`. */
export function anyGlobMatches(globs: readonly NameGlob[], name: string): boolean {
  for (const g of globs) if (g.matches(name)) return true;
  return false;
}

function compile(p: readonly string[]): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (out[out.length - 1]?.t !== 'star') out.push({ t: 'star' });
    } else if (c === '?') out.push({ t: 'any' });
    else if (c === '\\' && i + 1 < p.length) out.push({ t: 'lit', c: p[++i]! });
    else if (c === '[') {
      const cls = compileClass(p, i + 1);
      if (!cls) return [{ t: 'class', test: () => false }]; // unclosed: never matches
      out.push({ t: 'class', test: cls.test });
      i = cls.end;
    } else out.push({ t: 'lit', c });
  }
  return out;
}

/** A class starting after `[` at `start`: its test and the index of its `]`, or undefined when it is not closed. */
function compileClass(p: readonly string[], start: number): { test: (c: string) => boolean; end: number } | undefined {
  let i = start;
  const negate = p[i] === '!' || p[i] === '^';
  if (negate) i++;
  const ranges: [string, string][] = [];
  for (; i < p.length; i++) {
    let c = p[i]!;
    if (c === ']') {
      const test = (ch: string) => ranges.some(([lo, hi]) => ch >= lo && ch <= hi) !== negate;
      return { test, end: i };
    }
    if (c === '\\' && i + 1 < p.length) c = p[++i]!;
    if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
      let hi = p[i + 2]!;
      i += 2;
      if (hi === '\\' && i + 1 < p.length) hi = p[++i]!;
      ranges.push([c, hi]);
    } else ranges.push([c, c]);
  }
  return undefined;
}

/** Backtracking match of `pieces[pi..]` against `name[ni..]`; a leading dot needs a literal dot. */
function match(pieces: readonly Piece[], pi: number, name: readonly string[], ni: number): boolean {
  for (; pi < pieces.length; pi++) {
    const piece = pieces[pi]!;
    const atLeadingDot = ni === 0 && name[0] === '.';
    if (piece.t === 'star') {
      if (atLeadingDot) return false;
      if (pi === pieces.length - 1) return true;
      for (let k = ni; k <= name.length; k++) if (match(pieces, pi + 1, name, k)) return true;
      return false;
    }
    if (ni >= name.length) return false;
    const c = name[ni]!;
    if (piece.t === 'lit') {
      if (piece.c !== c) return false;
    } else if (atLeadingDot) return false;
    else if (piece.t === 'class' && !piece.test(c)) return false;
    ni++;
  }
  return ni === name.length;
}
