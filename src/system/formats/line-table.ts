/**
 * Line-oriented text files (fstab, hosts, authorized_keys): split into lines and joined back byte for byte, so an
 * edit that touches one line leaves every other line, and a missing final newline, exactly as they were.
 * Pure: reading and writing such files is fs/text-file.ts.
 */
export interface Lines {
  /** The lines without their `\n` (a `\r` of a CRLF file stays part of its line). */
  readonly lines: string[];
  /** Whether the last line ended with a newline (true for an empty text). */
  readonly eol: boolean;
}

export function splitLines(text: string): Lines {
  if (text === '') return { lines: [], eol: true };
  const lines = text.split('\n');
  const eol = lines[lines.length - 1] === '';
  if (eol) lines.pop();
  return { lines, eol };
}

/** The inverse of splitLines; an empty list is the empty text. */
export function joinLines(l: Lines): string {
  if (l.lines.length === 0) return '';
  return l.lines.join('\n') + (l.eol ? '\n' : '');
}

/** The lines that parse as an entry of the table and satisfy `match`, with their indices, in file order. */
export function findEntries<E>(l: Lines, parse: (line: string) => E | undefined, match: (entry: E) => boolean): { index: number; entry: E }[] {
  const found: { index: number; entry: E }[] = [];
  l.lines.forEach((line, index) => {
    const entry = parse(line);
    if (entry && match(entry)) found.push({ index, entry });
  });
  return found;
}

/** Equal string lists, in order (aliases, key options). */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Replaces, removes and appends lines by index. `replace` maps an index to its new text; `remove` lists indices;
 * `append` lines go at the end, and the text then ends with a newline.
 */
export function editLines(l: Lines, edits: { replace?: ReadonlyMap<number, string>; remove?: ReadonlySet<number>; append?: readonly string[] }): Lines {
  const out: string[] = [];
  l.lines.forEach((line, i) => {
    if (edits.remove?.has(i)) return;
    out.push(edits.replace?.get(i) ?? line);
  });
  const append = edits.append ?? [];
  out.push(...append);
  return { lines: out, eol: append.length > 0 ? true : l.eol };
}

/**
 * One plan's edits of a text's lines, with one log line per change. `result()` is the edited text, or the text
 * itself, byte for byte, when nothing changes.
 */
export class LineEdits {
  readonly lines: Lines;
  readonly changes: string[] = [];
  readonly remove = new Set<number>();
  readonly replace = new Map<number, string>();
  readonly append: string[] = [];

  constructor(private readonly text: string) {
    this.lines = splitLines(text);
  }

  result(): { text: string; changes: string[] } {
    if (this.changes.length === 0) return { text: this.text, changes: this.changes };
    return { text: joinLines(editLines(this.lines, this)), changes: this.changes };
  }
}
