/**
 * The hosts format (hosts(5)): `<ip> <canonical name> [aliases...] [# comment]`, fields separated by blanks;
 * a line starting with `#` is a comment. Pure functions: parsing and formatting a line, and planning the edit that
 * makes a table hold the wanted entry for one canonical name. Lines are written as Puppet's host provider writes
 * them (`ip<TAB>name[<TAB>aliases joined by spaces][<TAB># comment]`); every other line is kept byte for byte.
 */
import { findEntries, LineEdits, sameStrings } from './line-table.js';

export interface HostEntry {
  readonly ip: string;
  readonly name: string;
  readonly aliases: readonly string[];
  /** '' when there is none. */
  readonly comment: string;
}

/** What a managed entry must hold; unset fields keep what the line has. */
export interface HostWant {
  readonly ip?: string | undefined;
  readonly aliases?: readonly string[] | undefined;
  readonly comment?: string | undefined;
}

export interface HostsPlan {
  readonly text: string;
  /** One line per change, for the log; empty when the table is already right. */
  readonly changes: readonly string[];
}

/** The entry on a line, or undefined for a comment, a blank line, or a line with fewer than two fields. */
export function parseHostsLine(line: string): HostEntry | undefined {
  const hash = line.indexOf('#');
  const body = (hash < 0 ? line : line.slice(0, hash)).trim();
  if (body === '') return undefined;
  const f = body.split(/[ \t]+/);
  if (f.length < 2) return undefined;
  return { ip: f[0]!, name: f[1]!, aliases: f.slice(2), comment: hash < 0 ? '' : line.slice(hash + 1).trim() };
}

export function formatHostsLine(e: HostEntry): string {
  let s = `${e.ip}\t${e.name}`;
  if (e.aliases.length > 0) s += `\t${e.aliases.join(' ')}`;
  if (e.comment !== '') s += `\t# ${e.comment}`;
  return s;
}

/**
 * Plans the edit that makes the table's entry for the canonical `name` match `want` (null: no entry with that
 * name). Several lines may name the same host (an IPv4 and an IPv6 line for `localhost`): the one with the wanted
 * ip is managed if there is one, else the last (the one Puppet edits); the others are left alone. Absent removes
 * every line with that canonical name. Throws when an entry must be created but `want` has no ip.
 */
export function planHosts(text: string, name: string, want: HostWant | null, file = 'the hosts file'): HostsPlan {
  const edits = new LineEdits(text);
  const { lines: l, changes, remove, replace, append } = edits;
  const matches = findEntries(l, parseHostsLine, (e) => e.name === name);
  if (want === null) {
    for (const m of matches) {
      remove.add(m.index);
      changes.push(`remove the entry for ${name} from ${file} (line ${m.index + 1})`);
    }
  } else if (matches.length === 0) {
    if (want.ip === undefined) throw new Error(`${file} has no entry for ${name}, and \`ip\` must be set to create one`);
    const line = formatHostsLine({ ip: want.ip, name, aliases: want.aliases ?? [], comment: want.comment ?? '' });
    append.push(line);
    changes.push(`add "${line.replace(/\t/g, ' ')}" to ${file}`);
  } else {
    const m = matches.find((x) => x.entry.ip === want.ip) ?? matches[matches.length - 1]!;
    const cur = m.entry;
    const next: HostEntry = { ip: want.ip ?? cur.ip, name, aliases: want.aliases ?? cur.aliases, comment: want.comment ?? cur.comment };
    const diffs: string[] = [];
    if (next.ip !== cur.ip) diffs.push(`ip ${cur.ip} → ${next.ip}`);
    if (!sameStrings(next.aliases, cur.aliases)) diffs.push(`aliases [${cur.aliases.join(' ')}] → [${next.aliases.join(' ')}]`);
    if (next.comment !== cur.comment) diffs.push(`comment ${JSON.stringify(cur.comment)} → ${JSON.stringify(next.comment)}`);
    if (diffs.length > 0) {
      replace.set(m.index, formatHostsLine(next));
      changes.push(`update the entry for ${name} in ${file} (line ${m.index + 1}): ${diffs.join(', ')}`);
    }
  }
  return edits.result();
}
