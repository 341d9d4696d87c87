/**
 * The authorized_keys format (sshd(8)): `[options] <type> <base64 key> [comment]`. Options are comma-separated,
 * `name` or `name="value"` (a quoted value may hold blanks and commas, `\"` escapes a quote). Lines starting with
 * `#` and blank lines are ignored by sshd. Pure functions: parsing and formatting a line, and planning the edit
 * that makes a file hold the wanted key for one comment (Puppet's identity of an ssh_authorized_key). Lines are
 * written as Puppet writes them (`options type key comment`, single spaces); every other line is kept byte for byte.
 */
import { findEntries, LineEdits, sameStrings } from './line-table.js';

/** Key types Puppet's ssh_authorized_key knows; other `ssh-`, `ecdsa-` and `sk-` types are recognised too. */
export const KEY_TYPES: readonly string[] = [
  'ssh-dss',
  'ssh-rsa',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
];

/** A key type word: one of KEY_TYPES, or shaped like one. */
export const KEY_TYPE_PATTERN = '^(?:ssh|ecdsa|sk)-[A-Za-z0-9@._+-]+$';
const KEY_TYPE = new RegExp(KEY_TYPE_PATTERN);
/** One option: `name` or `name="value"`. */
export const OPTION_PATTERN = '^[-a-zA-Z0-9_]+(?:="(?:[^"\\\\\\n]|\\\\.)*")?$';

export interface KeyEntry {
  readonly options: readonly string[];
  readonly type: string;
  readonly key: string;
  /** '' when there is none. */
  readonly comment: string;
}

export interface KeyWant {
  readonly type: string;
  readonly key: string;
  readonly options: readonly string[];
}

export interface KeysPlan {
  readonly text: string;
  readonly changes: readonly string[];
}

/** Reads the options field at the start of `s`: returns the options and the rest after the blanks that end it. */
function splitOptions(s: string): { options: string[]; rest: string } | undefined {
  const options: string[] = [];
  let cur = '';
  let quoted = false;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < s.length) {
        cur += c + s[++i]!;
        continue;
      }
      if (c === '"') quoted = false;
      cur += c;
      continue;
    }
    if (c === '"') {
      quoted = true;
      cur += c;
    } else if (c === ',') {
      options.push(cur);
      cur = '';
    } else if (c === ' ' || c === '\t') break;
    else cur += c;
  }
  if (quoted || cur === '') return undefined;
  options.push(cur);
  return { options, rest: s.slice(i).replace(/^[ \t]+/, '') };
}

/** The key on a line, or undefined for a comment, a blank line, or a line that is not a key. */
export function parseKeyLine(line: string): KeyEntry | undefined {
  const t = line.replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  if (t === '' || t.startsWith('#')) return undefined;
  let options: string[] = [];
  let rest = t;
  const first = t.split(/[ \t]/, 1)[0]!;
  if (!KEY_TYPE.test(first)) {
    const o = splitOptions(t);
    if (!o) return undefined;
    options = o.options;
    rest = o.rest;
  }
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(rest);
  if (!m || !KEY_TYPE.test(m[1]!)) return undefined;
  return { options, type: m[1]!, key: m[2]!, comment: m[3] ?? '' };
}

export function formatKeyLine(e: KeyEntry): string {
  const parts = [e.type, e.key];
  if (e.options.length > 0) parts.unshift(e.options.join(','));
  if (e.comment !== '') parts.push(e.comment);
  return parts.join(' ');
}

/**
 * Plans the edit that makes the file hold `want` as the key commented `name` (null: no key with that comment).
 * When several keys carry the comment, the one with the wanted type and key is managed if there is one, else the
 * last (the one Puppet edits); the others are left alone. Absent removes every key with that comment.
 */
export function planKeys(text: string, name: string, want: KeyWant | null, file = 'the authorized_keys file'): KeysPlan {
  const edits = new LineEdits(text);
  const { lines: l, changes, remove, replace, append } = edits;
  const matches = findEntries(l, parseKeyLine, (e) => e.comment === name);
  if (want === null) {
    for (const m of matches) {
      remove.add(m.index);
      changes.push(`remove the key "${name}" from ${file} (line ${m.index + 1})`);
    }
  } else {
    const line = formatKeyLine({ ...want, comment: name });
    if (matches.length === 0) {
      append.push(line);
      changes.push(`add the key "${name}" to ${file}`);
    } else {
      const m = matches.find((x) => x.entry.type === want.type && x.entry.key === want.key) ?? matches[matches.length - 1]!;
      const cur = m.entry;
      const diffs: string[] = [];
      if (cur.type !== want.type) diffs.push(`type ${cur.type} → ${want.type}`);
      if (cur.key !== want.key) diffs.push('key');
      if (!sameStrings(cur.options, want.options)) diffs.push(`options [${cur.options.join(',')}] → [${want.options.join(',')}]`);
      if (diffs.length > 0) {
        replace.set(m.index, line);
        changes.push(`update the key "${name}" in ${file} (line ${m.index + 1}): ${diffs.join(', ')}`);
      }
    }
  }
  return edits.result();
}
