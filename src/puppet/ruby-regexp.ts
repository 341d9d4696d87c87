/**
 * Ruby regular expressions (what Puppet types build with `Regexp.new(string)`) → JavaScript regular expression
 * source with the same meaning, for the `line` kind (flag `s`, tested against a line without its "\n").
 *
 * Only a known subset is converted; anything else returns an error text and the resource goes to the fallback,
 * where Ruby itself applies it. What changes:
 * - Ruby's `\s` is ASCII whitespace and JavaScript's is Unicode: `\s` → `[\t-\r ]`, `\S` → `[^\t-\r ]`;
 * - `\h` / `\H` (hex digits) → classes; `\A` → `^`, `\Z` → `$`; `\e` → `\x1b`, `\a` → `\x07`; `{,n}` → `{0,n}`;
 * - `[[:space:]]`-style POSIX classes that are ASCII in Ruby (digit, xdigit, blank, space...) → ranges;
 * - `^`, `$` and `.` are kept: on one line without its "\n", Ruby's line anchors mean start and end, and its `.`
 *   (anything but "\n") is JavaScript's `.` with flag `s`.
 * Refused: inline options and atomic groups (`(?i)`, `(?>...)`), possessive quantifiers, `\z`, `\G`, `\K`, `\R`,
 * `\X`, `\p{...}`, `\g<...>`, octal escapes, nested classes and `&&` in classes, and POSIX classes whose Ruby
 * meaning is Unicode (alpha, alnum, upper, lower, punct, word...).
 *
 * Known difference: Ruby tests the line with its "\n", so a pattern that can only match by consuming it (`\s$`
 * on a line ending "x\n") matches there in Ruby and not here.
 */

/** POSIX bracket classes whose Ruby meaning is ASCII-only (inside a class). */
const POSIX: Readonly<Record<string, string>> = {
  digit: '0-9',
  xdigit: '0-9A-Fa-f',
  blank: ' \\t',
  space: '\\t-\\r ',
  cntrl: '\\x00-\\x1f\\x7f',
  ascii: '\\x00-\\x7f',
};

export type Converted = { readonly ok: true; readonly source: string } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): Converted => ({ ok: false, reason });

/** Escapes that mean the same in both (outside and inside classes). */
const SAME = new Set(['d', 'D', 'w', 'W', 'n', 't', 'r', 'f', 'v']);

export function rubyRegexpToJs(src: string): Converted {
  let out = '';
  let i = 0;
  const n = src.length;
  let groups = 0;

  /** One escape at src[i] === '\\'; `inClass`: inside [...]. Returns the JS text or a refusal. */
  const escape = (inClass: boolean): string | Converted => {
    const c = src[i + 1];
    if (c === undefined) return fail('the pattern ends with a lone backslash');
    i += 2;
    if (SAME.has(c)) return `\\${c}`;
    if (c === 's') return inClass ? '\\t-\\r ' : '[\\t-\\r ]';
    if (c === 'h') return inClass ? '0-9A-Fa-f' : '[0-9A-Fa-f]';
    if (c === 'S') return inClass ? fail('\\S inside a character class is not supported') : '[^\\t-\\r ]';
    if (c === 'H') return inClass ? fail('\\H inside a character class is not supported') : '[^0-9A-Fa-f]';
    if (c === 'e') return '\\x1b';
    if (c === 'a') return '\\x07';
    if (!inClass && c === 'A') return '^';
    if (!inClass && c === 'Z') return '$';
    if (!inClass && (c === 'b' || c === 'B')) return `\\${c}`;
    if (inClass && c === 'b') return '\\x08';
    if (c === 'x') {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(src.slice(i));
      if (!m) return fail('\\x needs hex digits');
      i += m[0].length;
      return `\\x${m[0].padStart(2, '0')}`;
    }
    if (c === 'u') {
      const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(i));
      if (!m) return fail('\\u{...} and short \\u escapes are not supported');
      i += 4;
      return `\\u${m[0]}`;
    }
    if (c === '0') {
      if (/[0-7]/.test(src[i] ?? '')) return fail('octal escapes are not supported');
      return '\\x00';
    }
    if (/[1-9]/.test(c)) {
      if (inClass) return fail('octal escapes are not supported');
      if (/[0-9]/.test(src[i] ?? '')) return fail('backreferences above \\9 are not supported');
      if (Number(c) > groups) return fail('a backreference to a group that is not (yet) defined');
      return `\\${c}`;
    }
    if (!inClass && c === 'k') {
      const m = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(src.slice(i));
      if (!m) return fail('only \\k<name> backreferences are supported');
      i += m[0].length;
      return `\\k<${m[1]}>`;
    }
    if (/[A-Za-z]/.test(c)) return fail('escapes without a JavaScript equivalent (\\z, \\G, \\K, \\R, \\X, \\p...) are not supported');
    // An escaped punctuation or space character: a literal in both.
    return `\\${c}`;
  };

  while (i < n) {
    const c = src[i]!;
    if (c === '\\') {
      const e = escape(false);
      if (typeof e !== 'string') return e;
      out += e;
      continue;
    }
    if (c === '[') {
      let cls = '[';
      i++;
      if (src[i] === '^') {
        cls += '^';
        i++;
      }
      if (src[i] === ']') {
        cls += '\\]';
        i++;
      }
      let closed = false;
      while (i < n) {
        const d = src[i]!;
        if (d === ']') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\') {
          const e = escape(true);
          if (typeof e !== 'string') return e;
          cls += e;
          continue;
        }
        if (d === '[') {
          const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
          if (!m) return fail('nested character classes are not supported');
          if (m[1]) return fail('negated POSIX classes are not supported');
          const range = POSIX[m[2]!];
          if (range === undefined) return fail('POSIX classes with a Unicode meaning in Ruby (alpha, alnum, word, upper, lower, punct...) are not supported');
          cls += range;
          i += m[0].length;
          continue;
        }
        if (d === '&' && src[i + 1] === '&') return fail('class intersections (&&) are not supported');
        cls += d;
        i++;
      }
      if (!closed) return fail('a character class is not closed');
      out += `${cls}]`;
      continue;
    }
    if (c === '(') {
      const rest = src.slice(i);
      if (rest.startsWith('(?')) {
        const m = /^\(\?(?::|=|!|<=|<!|<([A-Za-z_][A-Za-z0-9_]*)>)/.exec(rest);
        if (!m) return fail('inline options, atomic groups, comments and conditionals in groups are not supported');
        if (m[1] !== undefined) groups++;
        out += m[0];
        i += m[0].length;
        continue;
      }
      groups++;
      out += '(';
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      i++;
      if (src[i] === '+') return fail('possessive quantifiers are not supported');
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(src.slice(i));
      if (m && (m[1] !== '' || m[3] !== '')) {
        // {,n} is {0,n} in Ruby (JavaScript would read it literally).
        out += m[1] === '' ? `{0,${m[3]}}` : m[0];
        i += m[0].length;
        if (src[i] === '+') return fail('possessive quantifiers are not supported');
        continue;
      }
      out += '\\{';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  try {
    new RegExp(out, 's');
  } catch {
    return fail('the converted pattern is not a valid JavaScript regular expression');
  }
  return { ok: true, source: out };
}
