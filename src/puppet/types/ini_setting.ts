/**
 * puppetlabs-inifile's `ini_setting` → `ini`. The vertex is `ini[<title>]` (titles are arbitrary) with an
 * explicit `path`. Values are munged as inifile does: `value` is stripped, booleans and integers become strings. A setting that would not read back as written (inifile would rewrite it on every run), a bare
 * section (no `setting`) and `refreshonly` go to the fallback.
 */
import { iniProblems, rubyStrip } from '../../system/formats/ini-text.js';
import { REFUSED, type RuleContext, type TypeRules, truthy } from '../rules.js';

const text = (attr: string) => (v: unknown, ctx: RuleContext) => {
  if (typeof v === 'string') return v;
  ctx.refuse(attr, 'the value is not a string');
  return REFUSED;
};

/** inifile's munge of `value`: booleans and numbers as Ruby prints them, strings stripped. */
function iniValue(v: unknown, ctx: RuleContext): unknown {
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    // Ruby prints integers the same way; floats only agree in plain decimal notation.
    if (Number.isInteger(v) || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e16)) return String(v);
    ctx.refuse('value', 'this number prints differently in Ruby');
    return REFUSED;
  }
  if (typeof v === 'string') return rubyStrip(v);
  ctx.refuse('value', 'only a string, number or boolean value is supported');
  return REFUSED;
}

export const iniSettingRules: TypeRules = {
  type: 'Ini_setting',
  kind: 'ini',
  doc: 'One setting of an INI file. The vertex is `ini[<title>]` with an explicit `path`.',
  name: (r) => r.title,
  attributes: {
    name: { do: 'drop', doc: 'the vertex is named after the title' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    path: { do: 'use', doc: '`path`; required' },
    section: { do: 'map', to: 'section', fn: text('section'), doc: '(a non-string section is never found again by inifile → fallback)' },
    setting: { do: 'use', doc: '`setting`; without it (a bare section), or with whitespace around it (inifile 5.4 fails on it) → fallback' },
    value: { do: 'map', to: 'value', fn: iniValue, doc: 'stripped; booleans and numbers as strings' },
    key_val_separator: { do: 'map', to: 'separator', fn: text('key_val_separator') },
    section_prefix: { do: 'map', to: 'sectionprefix', fn: text('section_prefix') },
    section_suffix: { do: 'map', to: 'sectionsuffix', fn: text('section_suffix') },
    indent_char: { do: 'map', to: 'indentchar', fn: text('indent_char') },
    indent_width: {
      do: 'map',
      to: 'indentwidth',
      fn: (v, ctx) => {
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
        if (Number.isInteger(n) && n >= 0) return n;
        ctx.refuse('indent_width', 'not a whole number');
        return REFUSED;
      },
    },
    force_new_section_creation: { do: 'map', to: 'createsection', fn: (v) => truthy(v) },
    show_diff: { do: 'drop', doc: 'values are never shown' },
    refreshonly: { do: 'refuse', reason: 'refreshonly is not supported natively', accept: (v) => v === false || v === 'false' },
    provider: { do: 'refuse', reason: 'only the ruby provider is supported', accept: (v) => v === 'ruby' },
  },
  finish: (ctx) => {
    const path = ctx.value('path');
    if (typeof path !== 'string' || !path.startsWith('/')) ctx.refuse('path', 'path is required and must be absolute');
    else ctx.set('path', path, 'path');
    const setting = ctx.value('setting');
    if (setting === undefined) ctx.refuse('setting', 'an ini_setting without setting (a bare section) is not supported');
    else if (typeof setting !== 'string') ctx.refuse('setting', 'setting is not a string');
    else if (rubyStrip(setting) !== setting) ctx.refuse('setting', 'a setting with whitespace around it makes inifile fail');
    else ctx.set('setting', setting, 'setting');
    const str = (k: string) => (typeof ctx.get(k) === 'string' ? (ctx.get(k) as string) : undefined);
    const state = ctx.get('state') === 'absent' ? 'absent' : 'exists';
    const problems = iniProblems(
      {
        section: str('section') ?? '',
        setting: str('setting') ?? 'x',
        ...(str('value') !== undefined ? { value: str('value')! } : {}),
        state,
        createsection: true,
      },
      {
        separator: str('separator') ?? ' = ',
        sectionprefix: str('sectionprefix') ?? '[',
        sectionsuffix: str('sectionsuffix') ?? ']',
        indentchar: str('indentchar') ?? ' ',
        ...(typeof ctx.get('indentwidth') === 'number' ? { indentwidth: ctx.get('indentwidth') as number } : {}),
      },
    );
    if (problems.length) ctx.refuse('setting', 'this setting would not read back as written (inifile rewrites it on every run)');
  },
};
