/**
 * The ini resource: one setting of an INI file, present with a value or absent, with the rules of
 * puppetlabs-inifile's `ini_setting` (src/system/formats/ini-text.ts). Everything else in the file is kept byte for byte.
 * Event-driven: the file is watched, and edits are written atomically with the file's mode and owner kept.
 *
 * The file is handled as bytes (decoded as ISO-8859-1, one character per byte) and the wanted strings as their
 * UTF-8 bytes: INI syntax is ASCII, so a file in any ASCII-compatible encoding is edited without touching the
 * bytes it does not change.
 */
import type { ParamsOf } from './params.js';
import { editedPathProblem } from './edited-path.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { iniProblems, type IniFormat, type IniWant } from '../system/formats/ini-text.js';

const params = {
  path: {
    type: 'string',
    required: 'the absolute path of the INI file',
    doc: 'Absolute path of the INI file. A missing file is created (mode 0644); a symlink is followed.',
  },
  section: { type: 'string', default: '', doc: 'The section; `""` means the top of the file, before the first section header.' },
  setting: { type: 'string', required: 'the key of the setting to manage', doc: 'The key of the setting.' },
  value: {
    type: 'string',
    doc: 'The value; unset leaves the value of an existing setting alone (a new one gets an empty value). Never logged.',
  },
  state: { type: 'string', enum: ['exists', 'absent'], default: 'exists', doc: '`exists`: the setting is there (with `value`); `absent`: it is not.' },
  separator: {
    type: 'string',
    default: ' = ',
    doc: "Written between key and value of a new setting; stripped of whitespace, it is what separates keys from values when reading (Puppet's `key_val_separator`).",
  },
  sectionprefix: { type: 'string', default: '[', doc: 'What starts a section header.' },
  sectionsuffix: { type: 'string', default: ']', doc: 'What ends a section header.' },
  indentchar: { type: 'string', default: ' ', doc: 'Indents a new setting, `indentwidth` times.' },
  indentwidth: {
    type: 'integer',
    minimum: 0,
    doc: 'How many `indentchar` indent a new setting; unset: as much as the least indented setting of its section (none in a new section).',
  },
  createsection: {
    type: 'boolean',
    default: true,
    doc: "Add the section when it is missing; false: a missing section means there is nothing to do (Puppet's `force_new_section_creation`).",
  },
} as const;

export type IniParams = ParamsOf<typeof params>;

/** A string as the characters of its UTF-8 bytes (one per byte), to meet the file decoded the same way. */
const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export function formatOf(p: IniParams): IniFormat {
  return {
    separator: bytes(p.separator),
    sectionprefix: bytes(p.sectionprefix),
    sectionsuffix: bytes(p.sectionsuffix),
    indentchar: bytes(p.indentchar),
    ...(p.indentwidth !== undefined ? { indentwidth: p.indentwidth } : {}),
  };
}

export function wantOf(p: IniParams): IniWant {
  return {
    section: bytes(p.section),
    setting: bytes(p.setting),
    ...(p.value !== undefined ? { value: bytes(p.value) } : {}),
    state: p.state === 'absent' ? 'absent' : 'exists',
    createsection: p.createsection,
  };
}

function validate(_name: string, p: IniParams): Problem[] {
  const out: Problem[] = [];
  const pathBad = editedPathProblem(p.path, 'an INI file is a file');
  if (pathBad) out.push(pathBad);
  for (const message of iniProblems(wantOf(p), formatOf(p))) out.push({ param: 'setting', message });
  return out;
}

export const iniKind = defineKind({
  kind: 'ini',
  doc: "Ensures one setting of an INI file is present with a value, or absent, with the rules of puppetlabs-inifile's `ini_setting`: an existing setting keeps its place, indentation and separator; a new one goes after its commented-out copy (`# key = ...`) or at the end of its section; a missing section is added at the end of the file. Every other byte of the file is kept. A missing file is created. The file is watched; edits are written atomically and keep its mode and owner; a symlink is followed. Values are never logged. The name is free: `path`, `section` and `setting` say what is managed.",
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, { path }) => (path ? { afterPath: [path], afterNearestAncestor: [path] } : {}),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./ini-resource.js'),
      (m) => m.iniResource(name, p, ctx),
    ),
});
