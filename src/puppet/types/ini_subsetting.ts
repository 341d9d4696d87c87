/**
 * puppetlabs-inifile's `ini_subsetting` → `ini:subsetting`. The vertex is `ini:subsetting[<title>]` (titles are
 * arbitrary) with an explicit `path`. Facts from inifile 6 (`lib/puppet/type/ini_subsetting.rb`, its ruby
 * provider and `Puppet::Util::SettingValue`); the kind follows them (src/system/formats/ini-subsetting-text.ts).
 */
import type { IniSubsettingParams } from '../../resources/ini-subsetting.js';
import { type Converter, refused, type TypeRules } from '../rules.js';
import { absolutePath } from './ini_setting.js';

/** A string, or a number or boolean as Ruby prints it (`value => 512` is the item `-Xmx512`). */
const scalar: Converter = {
  doc: 'a string; an integer or boolean as Ruby prints it',
  refuses: 'only a string, integer or boolean is supported',
  convert: (v) =>
    typeof v === 'string' ? v : typeof v === 'boolean' || Number.isInteger(v) ? String(v) : refused('only a string, integer or boolean is supported'),
};

/** inifile's `use_exact_match` / `delete_if_empty`: true/false, as booleans or strings. */
const flag: Converter = {
  doc: 'true or false (booleans or strings)',
  refuses: 'not true or false',
  convert: (v) => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : refused('not true or false')),
};

export const iniSubsettingRules: TypeRules<IniSubsettingParams> = {
  type: 'Ini_subsetting',
  kind: 'ini:subsetting',
  doc: 'One item inside the value of an INI setting. The vertex is `ini:subsetting[<title>]` with an explicit `path`.',
  name: (r) => r.title,
  attributes: {
    name: { do: 'use', doc: 'the vertex is named after the title' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' } },
    section: { do: 'carry', to: 'section', as: 'text' },
    setting: { do: 'carry', to: 'setting', as: 'text' },
    subsetting: { do: 'carry', to: 'subsetting', as: 'text' },
    value: { do: 'carry', to: 'value', as: scalar },
    key_val_separator: { do: 'carry', to: 'separator', as: 'text' },
    subsetting_separator: { do: 'carry', to: 'subsettingseparator', as: 'text' },
    subsetting_key_val_separator: { do: 'carry', to: 'kvseparator', as: 'text' },
    quote_char: { do: 'carry', to: 'quotechar', as: 'text' },
    use_exact_match: { do: 'carry', to: 'exactmatch', as: flag },
    insert_type: {
      do: 'map',
      to: 'insert',
      values: { start: 'start', end: 'end', before: 'before', after: 'after', index: 'index' },
    },
    insert_value: { do: 'carry', to: 'insertvalue', as: 'string' },
    delete_if_empty: {
      do: 'info',
      message: 'a setting left empty is removed whatever its value: inifile reads the parameter as a Ruby symbol, which is always true',
    },
    show_diff: { do: 'info', message: 'only shapes output: values are never shown' },
    provider: { do: 'refuse', reason: 'only the ruby provider is supported', accept: ['ruby'] },
  },
  derive: {
    path: { from: ['path'], by: absolutePath },
  },
  checks: [
    {
      attribute: ['setting', 'subsetting'],
      outcome: 'fallback',
      message: 'setting and subsetting are needed (inifile fails without them)',
      when: (ctx, a) => !ctx.has(a),
    },
  ],
  // inifile's ini_subsetting declares no automatic relationship.
  autorelations: [],
};
