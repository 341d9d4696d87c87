/**
 * puppetlabs-inifile's `ini_setting` → `ini`. The vertex is `ini[<title>]` (titles are arbitrary) with an
 * explicit `path`. Values are munged as inifile does: `value` is stripped, booleans and integers become strings. A setting that would not read back as written (inifile would rewrite it on every run), a bare
 * section (no `setting`) and `refreshonly` go to the fallback.
 */
import type { IniParams } from '../../resources/ini.js';
import { iniProblems, rubyStrip } from '../../system/formats/ini-text.js';
import { type Converter, type Derivation, IS_FALSE, refused, type RuleContext, type TypeRules } from '../rules.js';
import { parentDir } from './auto.js';

/** A required absolute `path` (file_line and ini_setting edit an existing file by its path). */
export const absolutePath: Derivation = {
  doc: '`path`; required, absolute',
  derive: (ctx) => {
    const path = ctx.value('path');
    return typeof path === 'string' && path.startsWith('/') ? path : refused('path is required and must be absolute');
  },
};

/** inifile's munge of `value`: booleans and numbers as Ruby prints them, strings stripped. */
const iniValue: Converter = {
  doc: 'stripped; booleans and numbers to strings',
  refuses: 'only a string, number or boolean value is supported; a number Ruby prints differently → fallback',
  convert: (v) => {
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') {
      // Ruby prints integers the same way; floats only agree in plain decimal notation.
      if (Number.isInteger(v) || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e16)) return String(v);
      return refused('this number prints differently in Ruby');
    }
    if (typeof v === 'string') return rubyStrip(v);
    return refused('only a string, number or boolean value is supported');
  },
};

const iniSetting: Derivation = {
  doc: '`setting`; without it (a bare section), or with whitespace around it (inifile 5.4 fails on it) → fallback',
  derive: (ctx) => {
    const setting = ctx.value('setting');
    if (setting === undefined) return refused('an ini_setting without setting (a bare section) is not supported');
    if (typeof setting !== 'string') return refused('setting is not a string');
    if (rubyStrip(setting) !== setting) return refused('a setting with whitespace around it makes inifile fail');
    return setting;
  },
};

/** The setting as our ini kind would write it does not read back the same (inifile would rewrite it on every run). */
function unstable(ctx: RuleContext): boolean {
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
  return problems.length > 0;
}

export const iniSettingRules: TypeRules<IniParams> = {
  type: 'Ini_setting',
  kind: 'ini',
  doc: 'One setting of an INI file. The vertex is `ini[<title>]` with an explicit `path`.',
  name: (r) => r.title,
  attributes: {
    name: { do: 'drop', doc: 'the vertex is named after the title' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    section: { do: 'carry', to: 'section', as: 'text', doc: 'a non-string section is never found again by inifile' },
    value: { do: 'carry', to: 'value', as: iniValue },
    key_val_separator: { do: 'carry', to: 'separator', as: 'text' },
    section_prefix: { do: 'carry', to: 'sectionprefix', as: 'text' },
    section_suffix: { do: 'carry', to: 'sectionsuffix', as: 'text' },
    indent_char: { do: 'carry', to: 'indentchar', as: 'text' },
    indent_width: { do: 'carry', to: 'indentwidth', as: 'wholeNumber' },
    force_new_section_creation: { do: 'carry', to: 'createsection', as: 'boolean' },
    show_diff: { do: 'info', message: 'only shapes output: values are never shown' },
    refreshonly: { do: 'refuse', reason: 'refreshonly is not supported natively', accept: IS_FALSE },
    provider: { do: 'refuse', reason: 'only the ruby provider is supported', accept: ['ruby'] },
  },
  derive: {
    path: { from: ['path'], by: absolutePath },
    setting: { from: ['setting'], by: iniSetting },
  },
  checks: [
    {
      attribute: 'setting',
      outcome: 'fallback',
      message: 'this setting would not read back as written (inifile rewrites it on every run)',
      when: unstable,
    },
  ],
  autorelations: [
    {
      relation: 'require',
      type: 'File',
      doc: 'the directory of its `path` (inifile 5; not the file itself)',
      names: (r) => (typeof r.parameters.path === 'string' ? [parentDir(r.parameters.path)].filter((d) => d !== undefined) : []),
    },
  ],
};
