/**
 * Line editing with the rules of Puppet stdlib's `file_line` (its ruby provider), as a pure function from the
 * current text to the wanted text. The `line` resource (src/resources/line.ts) uses it.
 *
 * The text is cut into lines after each "\n" (the last line may have none). A line equals `line` when it does
 * once its ending is removed ("\r\n", "\n" or a lone "\r", like Ruby's chomp); `match` and `after` are tested
 * against each line without its "\n" (a "\r" before it stays: Ruby's `$` does not match before it either). When the file is rewritten, every line written ends with "\n" (a
 * last line without one gains it), except when lines are only removed.
 *
 * In sync or not is decided first, by file_line's rules (a present `line` with no `match` is in sync wherever it
 * is; a `match` that matches while `line` is somewhere in the file is in sync unless `replaceall`), and only then
 * is the new text built, so that lines this resource does not own are never touched. A rewrite that would give
 * the same text is reported as in sync.
 */

export interface LineRules {
  /** The whole line, without its line ending; may be unset only for `absent` with `match`. */
  readonly line?: string;
  readonly state: 'exists' | 'absent';
  /** Lines to replace (exists) or to remove (absent). */
  readonly match?: RegExp;
  /** Where a new line goes: after the first line this matches (every one with `multiple`). */
  readonly after?: RegExp;
  /** Allow `match` (or `after`) to match more than one line. */
  readonly multiple: boolean;
  /** Replace a line that `match` finds; false: a match means "in sync". */
  readonly replace: boolean;
  /** Replace every line `match` finds that is not `line`, even when `line` is already in the file. */
  readonly replaceall: boolean;
  /** Append `line` when `match` finds nothing; false: then leave the file alone. */
  readonly appendonnomatch: boolean;
}

export type LineEdit =
  | { readonly inSync: true }
  /** `text` is the new content; `what` says what changes (`line appended`), without any value (values may be secrets). */
  | { readonly inSync: false; readonly text: string; readonly what: string };

/** Ruby's File.readlines: pieces that end after each "\n"; an empty text has no lines. */
export function readlines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** Ruby's String#chomp with no argument: removes one "\r\n", "\n" or "\r" at the end. */
export function chomp(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n') || s.endsWith('\r')) return s.slice(0, -1);
  return s;
}

/** What Ruby's IO#puts writes for one string: the string, plus "\n" unless it already ends with one. */
function puts(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Tests a line without its "\n" (a "\r" before it stays). */
function test(re: RegExp, line: string): boolean {
  re.lastIndex = 0;
  return re.test(line.endsWith('\n') ? line.slice(0, -1) : line);
}

/** Problems in the rules themselves (the same checks file_line makes before it runs). */
export function lineRulesProblems(r: LineRules): string[] {
  const out: string[] = [];
  if (r.line === undefined && !(r.state === 'absent' && r.match)) out.push('`line` is required (except with state: absent and `match`)');
  if (r.line !== undefined && /[\n]/.test(r.line)) out.push('`line` must be one line: it contains a newline');
  if (r.line?.endsWith('\r')) out.push('`line` must not end with a carriage return');
  if (r.replaceall && !r.replace) out.push('`replaceall` needs `replace: true`');
  return out;
}

/**
 * The edit `rules` make to `text`. Throws an Error when more lines match than allowed (`multiple` unset), as
 * file_line fails then; `path` is only used in that message.
 */
export function editFileLine(text: string, rules: LineRules, path: string): LineEdit {
  const lines = readlines(text);
  const want = rules.line;
  const isLine = (l: string) => want !== undefined && chomp(l) === want;
  const countMatches = (re: RegExp) => lines.filter((l) => test(re, l) && !(rules.replaceall && isLine(l))).length;
  const lineCount = lines.filter(isLine).length;
  const match = rules.match;

  let out: string;
  let what: string;
  if (rules.state === 'exists') {
    // file_line's exists?: a line already there, or a match it may not replace, means in sync.
    if (!match) {
      if (lineCount > 0) return { inSync: true };
    } else {
      const matchCount = countMatches(match);
      if (matchCount === 0 ? lineCount > 0 || !rules.appendonnomatch : !rules.replaceall && (lineCount > 0 || !rules.replace)) {
        return { inSync: true };
      }
    }
    const line = want ?? '';
    if (match) {
      let matchCount = countMatches(match);
      if (matchCount > 1 && !rules.multiple) throw new Error(`more than one line in ${path} matches \`match\`; set multiple: true to replace them all`);
      const after = rules.after;
      let replaced = 0;
      let inserted = false;
      out = '';
      for (const l of lines) {
        if (test(match, l)) {
          out += puts(line);
          replaced++;
        } else out += puts(l);
        if (matchCount === 0 && after && test(after, l)) {
          out += puts(line);
          matchCount++;
          inserted = true;
        }
      }
      if (matchCount === 0) out += puts(line);
      what = replaced > 0 ? `${replaced} matching line${replaced === 1 ? '' : 's'} replaced` : inserted ? 'line inserted after `after`' : 'line appended';
    } else if (rules.after) {
      const after = rules.after;
      const afterCount = countMatches(after);
      if (afterCount > 1 && !rules.multiple) {
        throw new Error(`${afterCount} lines in ${path} match \`after\`; one or no line must match it, or set multiple: true`);
      }
      out = '';
      for (const l of lines) {
        out += puts(l);
        if (test(after, l)) out += puts(line);
      }
      if (afterCount === 0) out += puts(line);
      what = afterCount === 0 ? 'line appended' : 'line inserted after `after`';
    } else {
      out = lines.map(puts).join('') + puts(line);
      what = 'line appended';
    }
  } else if (match) {
    // Every line `match` finds goes (file_line's match_for_absence); none found: nothing to do.
    const n = countMatches(match);
    if (n === 0) return { inSync: true };
    if (n > 1 && !rules.multiple) throw new Error(`more than one line in ${path} matches \`match\`; set multiple: true to remove them all`);
    const kept = lines.filter((l) => !test(match, l));
    out = kept.join('');
    what = `${lines.length - kept.length} matching line${lines.length - kept.length === 1 ? '' : 's'} removed`;
  } else {
    if (lineCount === 0) return { inSync: true };
    const kept = lines.filter((l) => !isLine(l));
    out = kept.join('');
    const n = lines.length - kept.length;
    what = `${n} line${n === 1 ? '' : 's'} removed`;
  }
  return out === text ? { inSync: true } : { inSync: false, text: out, what };
}
