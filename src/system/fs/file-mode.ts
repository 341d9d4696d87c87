/**
 * File modes as users write them: octal strings (`644`, `0644`, `1777`, `4755`) or chmod-style symbolic clauses
 * (`u=rw,go=r`, `a+x`, `o-w`, `u+s`, `+t`). A symbolic mode is relative to the current mode, so it is parsed
 * once and applied against what is on disk.
 */

/** One symbolic clause: the classes it touches, the operator and the permission letters. */
export interface ModeClause {
  /** Mask of the bits the `who` part may touch (`u` = 04700, `g` = 02070, `o` = 01007, all = 07777). */
  readonly who: number;
  readonly op: '=' | '+' | '-';
  /** The permission letters, a subset of `rwxXst`. */
  readonly perms: string;
}

export type ModeSpec = { readonly kind: 'octal'; readonly mode: number } | { readonly kind: 'symbolic'; readonly clauses: readonly ModeClause[] };

const WHO_BITS: Readonly<Record<string, number>> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
const CLAUSE = /^([ugoa]*)([=+-])([^,]*)$/;
const HELP = 'use octal like "0644" or symbolic clauses like "u=rw,go=r" (who: u g o a; op: = + -; perms: r w x X s t)';

/** Parses a mode string. Returns the spec, or an error message that says what is wrong and how to write it. */
export function parseMode(s: string): ModeSpec | string {
  const text = s.trim();
  if (text === '') return `empty mode; ${HELP}`;
  if (/^[0-9]+$/.test(text)) {
    if (!/^0?[0-7]{1,4}$/.test(text)) {
      return /[89]/.test(text) ? `invalid mode "${s}": 8 and 9 are not octal digits; ${HELP}` : `invalid mode "${s}": at most 4 octal digits (07777); ${HELP}`;
    }
    return { kind: 'octal', mode: parseInt(text, 8) };
  }
  const clauses: ModeClause[] = [];
  for (const part of text.split(',')) {
    const m = CLAUSE.exec(part);
    if (!m) {
      return part === ''
        ? `invalid mode "${s}": empty clause (stray comma); ${HELP}`
        : `invalid mode "${s}": clause "${part}" needs an operator (=, + or -) after the classes; ${HELP}`;
    }
    const whoText = m[1] ?? '';
    const op = m[2] === '+' ? '+' : m[2] === '-' ? '-' : '=';
    const perms = m[3] ?? '';
    const bad = Array.from(perms).find((c) => !'rwxXst'.includes(c));
    if (bad !== undefined) {
      return `invalid mode "${s}": clause "${part}" has unknown permission "${bad}" (allowed: r w x X s t); ${HELP}`;
    }
    let who = 0;
    for (const c of whoText === '' ? 'a' : whoText) who |= WHO_BITS[c] ?? 0;
    clauses.push({ who, op, perms });
  }
  return { kind: 'symbolic', clauses };
}

/**
 * The 12-bit mode that `spec` asks for, given the current mode (only its low 12 bits are used) and whether the
 * path is a directory. Symbolic rules follow GNU chmod: an empty `who` means `a` (no umask is applied), `X` means
 * execute if the path is a directory or already has an execute bit, `s` touches set-uid/set-gid through `u`/`g`,
 * `t` touches the sticky bit through `o`, and `=` keeps a directory's set-uid/set-gid bits unless the clause names
 * `s`.
 */
export function applyMode(spec: ModeSpec, currentMode: number, isDir: boolean): number {
  if (spec.kind === 'octal') return spec.mode & 0o7777;
  let mode = currentMode & 0o7777;
  for (const c of spec.clauses) {
    let bits = 0;
    for (const p of c.perms) {
      if (p === 'r') bits |= 0o444;
      else if (p === 'w') bits |= 0o222;
      else if (p === 'x') bits |= 0o111;
      else if (p === 'X') bits |= isDir || (mode & 0o111) !== 0 ? 0o111 : 0;
      else if (p === 's') bits |= 0o6000;
      else if (p === 't') bits |= 0o1000;
    }
    const value = bits & c.who;
    if (c.op === '+') mode |= value;
    else if (c.op === '-') mode &= ~value;
    else {
      let clear = c.who;
      if (isDir && !c.perms.includes('s')) clear &= ~0o6000;
      mode = (mode & ~clear) | value;
    }
  }
  return mode & 0o7777;
}

/** Formats a mode as 4 octal digits (`0644`, `1777`), the way the logs and messages show modes. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
