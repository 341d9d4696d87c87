/**
 * The ini:subsetting resource: one item inside the value of an INI setting (`JAVA_ARGS="-Xmx512m -Xms256m"`),
 * present with a value or absent, with the rules of puppetlabs-inifile's `ini_subsetting`
 * (src/system/formats/ini-subsetting-text.ts); the setting is read and written as the `ini` kind does
 * (src/system/formats/ini-text.ts), and everything else in the file is kept byte for byte. Event-driven: the file
 * is watched, and edits are written atomically with the file's mode and owner kept. Like `ini`, the file is
 * handled as bytes (ISO-8859-1, one character per byte) and the wanted strings as their UTF-8 bytes.
 */
import type { ParamsOf } from './params.js';
import { editedPathProblem } from './edited-path.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { DEFAULT_INI_FORMAT, iniProblems, type IniFormat } from '../system/formats/ini-text.js';
import { subsettingProblems, type SubsettingWant } from '../system/formats/ini-subsetting-text.js';

const params = {
  path: {
    type: 'string',
    required: 'the absolute path of the INI file',
    doc: 'Absolute path of the INI file. A missing file is created (mode 0644); a symlink is followed.',
  },
  section: { type: 'string', default: '', doc: 'The section; `""` means the top of the file, before the first section header.' },
  setting: { type: 'string', required: 'the key of the setting whose value holds the item', doc: 'The key of the setting whose value holds the item.' },
  subsetting: { type: 'string', required: 'the name of the item in the value', doc: 'The name of the item (`-Xmx`).' },
  value: {
    type: 'string',
    doc: 'The item’s value, written after its name and `kvseparator`; unset leaves the value of an existing item alone. Never logged.',
  },
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    default: 'exists',
    doc: '`exists`: the item is in the value (with `value`); `absent`: it is not (a setting left empty is removed).',
  },
  separator: {
    type: 'string',
    default: ' = ',
    doc: "Between the setting's key and its value (Puppet's `key_val_separator`), as in `ini`.",
  },
  subsettingseparator: {
    type: 'string',
    default: ' ',
    doc: 'Between items; every character of it separates items when the value is read.',
  },
  kvseparator: { type: 'string', default: '', doc: 'Between an item’s name and its value (Puppet’s `subsetting_key_val_separator`).' },
  quotechar: {
    type: 'string',
    enum: ['', '"', "'"],
    default: '',
    doc: 'Quotes a value written anew; a value already quoted keeps its own quote.',
  },
  exactmatch: {
    type: 'boolean',
    default: false,
    doc: 'An item matches when it equals `subsetting` (false: when it starts with `subsetting` + `kvseparator`).',
  },
  insert: {
    type: 'string',
    enum: ['start', 'end', 'before', 'after', 'index'],
    default: 'end',
    doc: 'Where a new item goes: at the start, the end, before or after the item `insertvalue` names (the end if it is missing), or at index `insertvalue`.',
  },
  insertvalue: { type: 'string', doc: 'The item `insert: before/after` looks for, or the index for `insert: index`.' },
} as const;

export type IniSubsettingParams = ParamsOf<typeof params>;

/** A string as the characters of its UTF-8 bytes (one per byte), to meet the file decoded the same way. */
export const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export const formatOf = (p: IniSubsettingParams): IniFormat => ({ ...DEFAULT_INI_FORMAT, separator: bytes(p.separator) });

export function wantOf(p: IniSubsettingParams): SubsettingWant {
  return {
    subsetting: bytes(p.subsetting),
    ...(p.value !== undefined ? { value: bytes(p.value) } : {}),
    state: p.state === 'absent' ? 'absent' : 'exists',
    separator: bytes(p.subsettingseparator),
    kvseparator: bytes(p.kvseparator),
    quotechar: p.quotechar,
    exactmatch: p.exactmatch,
    insert: p.insert as SubsettingWant['insert'],
    ...(p.insertvalue !== undefined ? { insertvalue: bytes(p.insertvalue) } : {}),
  };
}

function validate(_name: string, p: IniSubsettingParams): Problem[] {
  const out: Problem[] = [];
  const pathBad = editedPathProblem(p.path, 'an INI file is a file');
  if (pathBad) out.push(pathBad);
  for (const message of iniProblems({ section: bytes(p.section), setting: bytes(p.setting), state: 'exists', createsection: true }, formatOf(p)))
    out.push({ param: 'setting', message });
  for (const message of subsettingProblems(wantOf(p))) out.push({ param: 'subsetting', message });
  return out;
}

export const iniSubsettingKind = defineKind({
  kind: 'ini:subsetting',
  doc: 'Ensures one item inside the value of an INI setting (`JAVA_ARGS="-Xmx512m -Xms256m"`) is present with a value, or absent, with the rules of puppetlabs-inifile\'s `ini_subsetting`: items are cut at the characters of `subsettingseparator`, a quoted value keeps its quote, a new item goes where `insert` says, and a setting left empty is removed. The setting itself is read and written as `ini` does; every other byte of the file is kept. A missing file is created. The file is watched; edits are written atomically and keep its mode and owner; a symlink is followed. Values are never logged.',
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, { path }) => (path ? { afterPath: [path], afterNearestAncestor: [path] } : {}),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./ini-subsetting-resource.js'),
      (m) => m.iniSubsettingResource(name, p, ctx),
    ),
});
