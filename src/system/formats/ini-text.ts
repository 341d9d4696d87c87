/**
 * Editing one setting of an INI file with the rules of puppetlabs-inifile's `ini_setting` (its ruby provider and
 * IniFile), as a pure function from the current text to the wanted text. The `ini` resource
 * (src/resources/ini.ts) uses it.
 *
 * Reading. The text is cut into lines after each "\n". Lines before the first section header belong to the
 * top-of-file section `''`. A header is a line `<prefix>NAME<suffix>` (default `[NAME]`) with optional whitespace
 * around it; a setting is `KEY<sep>VALUE` where KEY starts with neither `#` nor `;` and the separator is the
 * stripped `separator` with any whitespace around it (so `a=1`, `a = 1` and `  a= 1` are all the setting `a`).
 * A commented setting is the same after one or more `#`/`;`. A section named twice is edited in its last copy
 * (the one whose values inifile reads).
 *
 * Writing (only when something changes), as inifile does:
 * - an existing setting keeps its indentation and separator; every line of that key in the section gets the value;
 * - a new setting goes right after a commented-out copy of it in the section (`# key = old`), else at the end
 *   of the section, before its trailing blank lines, indented like the section's settings (or `indentwidth`
 *   times `indentchar`), written `KEY<separator>VALUE`;
 * - a missing section is added at the end of the file, after a blank line;
 * - removing the last setting of a section that has nothing else (no comment, no blank line) removes its header;
 * - every other line is kept byte for byte; lines written end with "\n" (a last line without one gains it).
 *
 * Deliberate difference: inifile rewrites a file with a repeated section header by writing the last copy twice
 * and dropping the first (data loss); here every line is kept and only the last copy is edited.
 */
import { readlines } from './file-line-text.js';

export interface IniFormat {
  /** Written between a new setting's key and value; its stripped form separates keys from values when reading. */
  readonly separator: string;
  readonly sectionprefix: string;
  readonly sectionsuffix: string;
  /** Indents new settings: `indentwidth` times this; without `indentwidth`, the section's smallest indentation. */
  readonly indentchar: string;
  readonly indentwidth?: number;
}

export const DEFAULT_INI_FORMAT: IniFormat = { separator: ' = ', sectionprefix: '[', sectionsuffix: ']', indentchar: ' ' };

export interface IniWant {
  /** '' is the top of the file, before the first section header. */
  readonly section: string;
  readonly setting: string;
  /** The value; unset: any value is fine (a new setting is written with an empty value). */
  readonly value?: string | undefined;
  readonly state: 'exists' | 'absent';
  /** Add the section when it is missing (inifile's force_new_section_creation); false: then do nothing. */
  readonly createsection: boolean;
}

export type IniEdit =
  | { readonly inSync: true }
  /** `text` is the new content; `what` says what changes (`key added in section main`), without the value (values may be secrets). */
  | { readonly inSync: false; readonly text: string; readonly what: string };

/** Ruby's String#strip: whitespace and NUL at both ends. */
export function rubyStrip(s: string): string {
  return s.replace(/^[\0\t-\r ]+|[\0\t-\r ]+$/g, '');
}

const escapeRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

interface Syntax {
  readonly setting: RegExp;
  readonly commented: RegExp;
  readonly header: RegExp;
}

/** The three line shapes of IniFile, for lines without their "\n" (Ruby's `\s` is ASCII whitespace). */
function syntaxOf(f: IniFormat): Syntax {
  const sep = /^[\t-\r ]+$/.test(f.separator) ? ' ' : rubyStrip(f.separator);
  const s = '[\\t-\\r ]';
  const e = escapeRe(sep);
  const notSep = `[^\\t-\\r ${escapeRe(sep)}]`;
  return {
    setting: new RegExp(`^(${s}*)([^#;\\t-\\r ]|[^#;\\t-\\r ][^\\n]*?${notSep})(${s}*${e}[ \\t]*)([^\\n]*)$`),
    commented: new RegExp(`^(${s}*)[#;]+(${s}*)([^\\n]*?${notSep})(${s}*${e}[ \\t]*)([^\\n]*?)$`),
    header: new RegExp(`^${s}*${escapeRe(f.sectionprefix)}([^\\n]*)${escapeRe(f.sectionsuffix)}${s}*$`),
  };
}

/** `(.*)\s*$` in Ruby: the value is everything up to the end of the line, trailing whitespace included. */
function settingOf(syn: Syntax, line: string): { indent: string; key: string; sep: string; value: string } | undefined {
  const m = syn.setting.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
  return m ? { indent: m[1]!, key: m[2]!, sep: m[3]!, value: m[4]! } : undefined;
}

function headerOf(syn: Syntax, line: string): string | undefined {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return syn.header.exec(body)?.[1];
}

function commentedKeyOf(syn: Syntax, line: string): string | undefined {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return syn.commented.exec(body)?.[3];
}

interface Section {
  readonly name: string;
  /** Named sections: lines[0] is the header. The top-of-file section has no header. */
  readonly lines: string[];
  /** A section added now, or the top-of-file section when the file starts with a header (or is empty). */
  isNew: boolean;
  readonly values: Map<string, string>;
  /** The smallest indentation of the section's settings, as read. */
  readonly indentation?: number;
  readonly added: [string, string][];
}

function parse(text: string, syn: Syntax): Section[] {
  const sections: Section[] = [];
  let cur: { name: string; lines: string[]; values: Map<string, string>; indentation?: number } = { name: '', lines: [], values: new Map() };
  const close = () =>
    sections.push({
      name: cur.name,
      lines: cur.lines,
      isNew: cur.name === '' && cur.lines.length === 0,
      values: cur.values,
      ...(cur.indentation !== undefined ? { indentation: cur.indentation } : {}),
      added: [],
    });
  for (const line of readlines(text)) {
    const name = headerOf(syn, line);
    if (name !== undefined) {
      close();
      cur = { name, lines: [line], values: new Map() };
      continue;
    }
    cur.lines.push(line);
    const s = settingOf(syn, line);
    if (s) {
      cur.values.set(s.key, s.value);
      cur.indentation = Math.min(s.indent.length, cur.indentation ?? s.indent.length);
    }
  }
  close();
  return sections;
}

const isBlank = (line: string) => /^[\t-\r ]*$/.test(line);
const puts = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

function render(sections: readonly Section[], f: IniFormat): string {
  const top = sections[0]!;
  const topEmpty = top.isNew && top.added.length === 0;
  let out = '';
  sections.forEach((sec, index) => {
    let blanks: string[] = [];
    const flush = () => {
      for (const b of blanks) out += puts(b);
      blanks = [];
    };
    if (sec.isNew && sec.name !== '') {
      if ((index === 1 && !topEmpty) || index > 1) out += '\n';
      out += `${f.sectionprefix}${sec.name}${f.sectionsuffix}\n`;
    }
    if (!sec.isNew) {
      for (const line of sec.lines) {
        if (isBlank(line)) blanks.push(line);
        else {
          flush();
          out += puts(line);
        }
      }
    }
    for (const [k, v] of sec.added) out += puts(`${indentOf(sec, f)}${k}${f.separator}${v}`);
    if (blanks.length) flush();
    else if (sec.isNew && sec.added.length > 0 && index < sections.length - 1) out += '\n';
  });
  return out;
}

function indentOf(sec: Section, f: IniFormat): string {
  return f.indentchar.repeat(f.indentwidth ?? sec.indentation ?? 0);
}

/** The widest indentation of a new setting (a bound on what an input may cost). */
export const MAX_INDENT = 256;

/** Problems with a setting that could never be read back as written (it would be rewritten on every check). */
export function iniProblems(want: IniWant, f: IniFormat): string[] {
  const out: string[] = [];
  const syn = syntaxOf(f);
  if (f.indentwidth !== undefined && f.indentwidth > MAX_INDENT) {
    return [`\`indentwidth\` ${f.indentwidth} is more than ${MAX_INDENT}: an indentation that wide is a mistake`];
  }
  if (want.setting === '') out.push('`setting` is empty');
  else {
    const line = `${f.indentchar.repeat(f.indentwidth ?? 1)}${want.setting}${f.separator}${want.value ?? ''}`;
    const s = line.includes('\n') ? undefined : settingOf(syn, line);
    if (headerOf(syn, line) !== undefined || s?.key !== want.setting || (want.value !== undefined && s.value !== want.value)) {
      out.push(
        `the line \`${want.setting}${f.separator}…\` would not read back as setting \`${want.setting}\`${want.value !== undefined ? ' with this value' : ''}: ` +
          'a setting cannot start or end with whitespace, start with # or ;, contain the separator or a newline; a value cannot start with whitespace or contain a newline; `indentchar` must be whitespace',
      );
    }
  }
  if (want.section !== '') {
    const header = `${f.sectionprefix}${want.section}${f.sectionsuffix}`;
    if (want.section.includes('\n') || headerOf(syn, header) !== want.section) {
      out.push(`the header \`${header}\` would not read back as section \`${want.section}\` (no newline; no leading or trailing whitespace problems)`);
    }
  }
  if (f.sectionprefix === '' && f.sectionsuffix === '')
    out.push('`sectionprefix` and `sectionsuffix` cannot both be empty: every line would be a section header');
  if (f.indentchar.includes('\n')) out.push('`indentchar` cannot contain a newline');
  return out;
}

/** The value of `setting` in `section` (its last copy, as inifile reads it); undefined: no such setting. */
export function iniValue(text: string, section: string, setting: string, f: IniFormat = DEFAULT_INI_FORMAT): string | undefined {
  let found: string | undefined;
  for (const s of parse(text, syntaxOf(f))) if (s.name === section) found = s.values.get(setting);
  return found;
}

/** The edit that makes `text` hold `want`. */
export function editIni(text: string, want: IniWant, f: IniFormat = DEFAULT_INI_FORMAT): IniEdit {
  const syn = syntaxOf(f);
  const sections = parse(text, syn);
  let sec: Section | undefined;
  for (const s of sections) if (s.name === want.section) sec = s; // the last copy, as inifile reads it
  const where = want.section === '' ? 'at the top of the file' : `in section ${want.section}`;
  let what: string;
  if (want.state === 'absent') {
    if (!sec?.values.has(want.setting)) return { inSync: true };
    const first = sec.name === '' ? 0 : 1;
    for (let i = sec.lines.length - 1; i >= first; i--) {
      if (settingOf(syn, sec.lines[i]!)?.key === want.setting) sec.lines.splice(i, 1);
    }
    what = `${want.setting} removed ${where}`;
    if (sec.name !== '' && sec.lines.length === 1) {
      sections.splice(sections.indexOf(sec), 1);
      what += ', and the section, now empty';
    }
  } else if (sec?.values.has(want.setting)) {
    if (want.value === undefined || sec.values.get(want.setting) === want.value) return { inSync: true };
    const first = sec.name === '' ? 0 : 1;
    for (let i = first; i < sec.lines.length; i++) {
      const s = settingOf(syn, sec.lines[i]!);
      if (s?.key === want.setting) sec.lines[i] = `${s.indent}${s.key}${s.sep}${want.value}`;
    }
    what = `value of ${want.setting} changed ${where}`;
  } else {
    if (!sec && !want.createsection) return { inSync: true };
    const value = want.value ?? '';
    if (!sec) {
      sec = { name: want.section, lines: [], isNew: true, values: new Map(), added: [] };
      sections.push(sec);
      what = `${want.setting} added in a new section ${want.section}`;
    } else what = `${want.setting} added ${where}`;
    const first = sec.name === '' ? 0 : 1;
    const commented = sec.isNew ? -1 : sec.lines.findIndex((l, i) => i >= first && commentedKeyOf(syn, l) === want.setting);
    if (commented >= 0) {
      sec.lines.splice(commented + 1, 0, `${indentOf(sec, f)}${want.setting}${f.separator}${value}`);
      what += ', after its commented-out line';
    } else sec.added.push([want.setting, value]);
  }
  const out = render(sections, f);
  return out === text ? { inSync: true } : { inSync: false, text: out, what };
}
