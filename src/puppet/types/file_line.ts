/**
 * stdlib's `file_line` → `line`. The vertex is `line[<title>]` (file_line titles are arbitrary) with an explicit
 * `path`. The Ruby regexes `match` and `after` are converted to JavaScript (ruby-regexp.ts) or sent to the
 * fallback. Combinations that make file_line itself fail (no `line`, `replace => false` without `match`,
 * `replace_all_matches_not_matching_line` with `multiple => false` or `replace => false`) go to the fallback too,
 * so that Puppet reports its own error.
 */
import type { LineParams } from '../../resources/line.js';
import { textOf } from '../catalog.js';
import { type Derivation, refused, type RuleContext, sourced, truthy, type TypeRules } from '../rules.js';
import { rubyRegexpToJs } from '../ruby-regexp.js';
import { absolutePath } from './ini_setting.js';
import { str } from './auto.js';

const isFalse = (v: unknown) => v === false || v === 'false';
const absent = (ctx: RuleContext) => ctx.value('ensure') === 'absent';

/** Ruby encoding names → the line kind's encodings. */
function encodingOf(v: unknown): 'utf-8' | 'latin1' | undefined {
  const s = textOf(v).toLowerCase();
  if (s === 'utf-8' || s === 'utf8') return 'utf-8';
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'ascii-8bit', 'binary'].includes(s)) return 'latin1';
  return undefined;
}

/** A Ruby regex attribute converted to JavaScript, when `applies`. */
const regex = (attr: string, applies: (ctx: RuleContext) => boolean): Derivation => ({
  doc: `\`${attr}\`, the Ruby regex converted to JavaScript (unsupported syntax → fallback)`,
  derive: (ctx) => {
    if (!ctx.has(attr) || !applies(ctx)) return undefined;
    const v = ctx.value(attr);
    if (typeof v !== 'string') return refused('the pattern is not a string');
    const c = rubyRegexpToJs(v);
    return c.ok ? sourced(c.source, attr) : refused(`this Ruby regular expression is not converted: ${c.reason}`);
  },
});

const theLine: Derivation = {
  doc: '`line`; a line with a newline → fallback; required, except to remove lines by `match` (ensure absent, match_for_absence)',
  derive: (ctx) => {
    const line = ctx.value('line');
    if (line === undefined) {
      if (!(absent(ctx) && truthy(ctx.value('match_for_absence')) && ctx.has('match'))) return refused('file_line needs line (Puppet fails without it)');
      return undefined;
    }
    if (typeof line !== 'string') return refused('line is not a string');
    if (line.includes('\n') || line.endsWith('\r'))
      return refused('a line with a newline (or ending with a carriage return) is never found again: not supported');
    return sourced(line, 'line');
  },
};

const lineEncoding: Derivation = {
  doc: 'UTF-8 → utf-8 (the default: unset); ISO-8859-1/latin1/binary → latin1',
  derive: (ctx) => {
    const enc = ctx.has('encoding') ? encodingOf(ctx.value('encoding')) : undefined;
    return enc === 'latin1' ? sourced(enc, 'encoding') : undefined;
  },
};

export const fileLineRules: TypeRules<LineParams> = {
  type: 'File_line',
  kind: 'line',
  doc: 'One line of an existing file. The vertex is `line[<title>]` with an explicit `path`. A missing file is an error for `ensure => present` (as in Puppet); for `ensure => absent` it is in sync (Puppet fails).',
  name: (r) => r.title,
  attributes: {
    name: { do: 'drop', doc: 'the vertex is named after the title' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    multiple: { do: 'carry', to: 'multiple', as: 'boolean' },
    replace: { do: 'carry', to: 'replace', as: 'boolean' },
    replace_all_matches_not_matching_line: { do: 'carry', to: 'replaceall', as: 'boolean' },
    append_on_no_match: { do: 'carry', to: 'appendonnomatch', as: 'boolean' },
    provider: { do: 'refuse', reason: 'only the ruby provider is supported', accept: ['ruby'] },
  },
  derive: {
    path: { from: ['path'], by: absolutePath },
    line: { from: ['line', 'ensure', 'match_for_absence', 'match'], by: theLine },
    match: { from: ['match', 'ensure', 'match_for_absence'], by: regex('match', (ctx) => !absent(ctx) || truthy(ctx.value('match_for_absence'))) },
    after: { from: ['after', 'ensure'], by: regex('after', (ctx) => !absent(ctx)) },
    encoding: { from: ['encoding'], by: lineEncoding },
  },
  checks: [
    {
      attribute: 'replace',
      outcome: 'fallback',
      message: 'replace => false without match fails in Puppet',
      when: (ctx) => isFalse(ctx.value('replace')) && !ctx.has('match') && !absent(ctx),
    },
    {
      attribute: 'multiple',
      outcome: 'fallback',
      message: 'Puppet refuses replace_all_matches_not_matching_line with multiple => false',
      when: (ctx) => truthy(ctx.value('replace_all_matches_not_matching_line')) && isFalse(ctx.value('multiple')),
    },
    {
      attribute: 'replace',
      outcome: 'fallback',
      message: 'Puppet refuses replace_all_matches_not_matching_line with replace => false',
      when: (ctx) => truthy(ctx.value('replace_all_matches_not_matching_line')) && isFalse(ctx.value('replace')),
    },
    {
      attribute: 'encoding',
      outcome: 'fallback',
      message: 'only UTF-8 and ISO-8859-1 are supported',
      when: (ctx) => ctx.has('encoding') && encodingOf(ctx.value('encoding')) === undefined,
    },
    {
      attribute: 'encoding',
      outcome: 'fallback',
      message: 'with ISO-8859-1, line and patterns must be ASCII (Puppet writes the line as UTF-8)',
      when: (ctx) =>
        ctx.has('encoding') &&
        encodingOf(ctx.value('encoding')) === 'latin1' &&
        ['line', 'match', 'after'].some((a) => {
          const v = ctx.value(a);
          return typeof v === 'string' && /[^\0-\x7f]/.test(v);
        }),
    },
  ],
  autorelations: [{ relation: 'require', type: 'File', doc: 'its `path`', names: (r) => str(r.parameters.path) }],
};
