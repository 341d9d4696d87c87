/**
 * stdlib's `file_line` → `line`. The vertex is `line[<title>]` (file_line titles are arbitrary) with an explicit
 * `path`. The Ruby regexes `match` and `after` are converted to JavaScript (ruby-regexp.ts) or sent to the
 * fallback. Combinations that make file_line itself fail (no `line`, `replace => false` without `match`,
 * `replace_all_matches_not_matching_line` with `multiple => false` or `replace => false`) go to the fallback too,
 * so that Puppet reports its own error.
 */
import { REFUSED, type RuleContext, type TypeRules, truthy } from '../rules.js';
import { rubyRegexpToJs } from '../ruby-regexp.js';

const bool = (v: unknown) => truthy(v);
const isFalse = (v: unknown) => v === false || v === 'false';

/** Ruby encoding names → the line kind's encodings. */
function encodingOf(v: unknown): 'utf-8' | 'latin1' | undefined {
  const s = String(v).toLowerCase();
  if (s === 'utf-8' || s === 'utf8') return 'utf-8';
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'ascii-8bit', 'binary'].includes(s)) return 'latin1';
  return undefined;
}

function regex(attr: string, ctx: RuleContext): string | typeof REFUSED {
  const v = ctx.value(attr);
  if (typeof v !== 'string') {
    ctx.refuse(attr, 'the pattern is not a string');
    return REFUSED;
  }
  const c = rubyRegexpToJs(v);
  if (!c.ok) {
    ctx.refuse(attr, `this Ruby regular expression is not converted: ${c.reason}`);
    return REFUSED;
  }
  return c.source;
}

export const fileLineRules: TypeRules = {
  type: 'File_line',
  kind: 'line',
  doc: 'One line of an existing file. The vertex is `line[<title>]` with an explicit `path`. A missing file is an error for `ensure => present` (as in Puppet); for `ensure => absent` it is in sync (Puppet fails).',
  name: (r) => r.title,
  attributes: {
    name: { do: 'drop', doc: 'the vertex is named after the title' },
    path: { do: 'use', doc: '`path`; required' },
    line: { do: 'use', doc: '`line`; a line with a newline → fallback' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    match: {
      do: 'use',
      doc: '`match`, the Ruby regex converted to JavaScript (unsupported syntax → fallback); with ensure absent only when match_for_absence is true',
    },
    match_for_absence: { do: 'use', doc: 'with ensure absent: keeps `match` (remove the lines it finds); otherwise `match` is ignored, as in Puppet' },
    after: { do: 'use', doc: '`after`, converted like `match`' },
    multiple: { do: 'map', to: 'multiple', fn: bool },
    replace: { do: 'map', to: 'replace', fn: bool, doc: 'false without `match` fails in Puppet → fallback' },
    replace_all_matches_not_matching_line: { do: 'map', to: 'replaceall', fn: bool },
    append_on_no_match: { do: 'map', to: 'appendonnomatch', fn: bool },
    encoding: { do: 'use', doc: '`encoding`: UTF-8 → utf-8; ISO-8859-1/latin1/binary → latin1 (then line and patterns must be ASCII); others → fallback' },
    provider: { do: 'refuse', reason: 'only the ruby provider is supported', accept: (v) => v === 'ruby' },
  },
  finish: (ctx) => {
    const path = ctx.value('path');
    if (typeof path !== 'string' || !path.startsWith('/')) ctx.refuse('path', 'path is required and must be absolute');
    else ctx.set('path', path, 'path');
    const absent = ctx.value('ensure') === 'absent';
    const line = ctx.value('line');
    const matchForAbsence = truthy(ctx.value('match_for_absence'));
    if (line !== undefined) {
      if (typeof line !== 'string') ctx.refuse('line', 'line is not a string');
      else if (line.includes('\n') || line.endsWith('\r'))
        ctx.refuse('line', 'a line with a newline (or ending with a carriage return) is never found again: not supported');
      else ctx.set('line', line, 'line');
    } else if (!(absent && matchForAbsence && ctx.has('match'))) ctx.refuse('line', 'file_line needs line (Puppet fails without it)');

    if (ctx.has('match') && (!absent || matchForAbsence)) {
      const m = regex('match', ctx);
      if (m !== REFUSED) ctx.set('match', m, 'match');
    }
    if (ctx.has('after') && !absent) {
      const a = regex('after', ctx);
      if (a !== REFUSED) ctx.set('after', a, 'after');
    }
    if (isFalse(ctx.value('replace')) && !ctx.has('match') && !absent) ctx.refuse('replace', 'replace => false without match fails in Puppet');
    if (truthy(ctx.value('replace_all_matches_not_matching_line'))) {
      if (isFalse(ctx.value('multiple'))) ctx.refuse('multiple', 'Puppet refuses replace_all_matches_not_matching_line with multiple => false');
      if (isFalse(ctx.value('replace'))) ctx.refuse('replace', 'Puppet refuses replace_all_matches_not_matching_line with replace => false');
    }
    if (ctx.has('encoding')) {
      const enc = encodingOf(ctx.value('encoding'));
      if (!enc) ctx.refuse('encoding', 'only UTF-8 and ISO-8859-1 are supported');
      else {
        if (enc === 'latin1') {
          const texts = ['line', 'match', 'after'].map((a) => ctx.value(a)).filter((v): v is string => typeof v === 'string');
          if (texts.some((t) => /[^\0-\x7f]/.test(t)))
            ctx.refuse('encoding', 'with ISO-8859-1, line and patterns must be ASCII (Puppet writes the line as UTF-8)');
        }
        if (enc !== 'utf-8') ctx.set('encoding', enc, 'encoding');
      }
    }
  },
};
