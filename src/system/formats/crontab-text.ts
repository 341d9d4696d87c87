/**
 * The crontab text format as Puppet's crontab provider (cron_core 1.1, a parsed-file provider) reads and writes
 * it. Pure functions: classifying lines, validating time fields, and planning the edit that makes a user's crontab
 * hold the wanted entry for one name.
 *
 * Puppet's records, in the order it tries them on each line:
 * - comment `^\s*#`; one containing `Puppet Name: <name>` (anywhere, the name runs to the end of the line) names
 *   the next entry;
 * - blank `^\s*$`;
 * - environment `^\s*\w+\s*=`: after a `Puppet Name` comment and before its entry, it belongs to that entry;
 * - entry `^\s*(@\w+|\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.+)$`: a special (`@daily`) or five time fields, then
 *   the command (the rest of the line).
 * An entry Puppet manages is written as
 *
 *     # Puppet Name: <name>
 *     NAME=value            (one line per environment setting, in order)
 *     <minute> <hour> <monthday> <month> <weekday> <command>      or      @<special> <command>
 *
 * fields joined by one space, a list joined by commas. Blank lines and other comments between the name and its
 * entry are not part of it. Puppet also removes every `# HEADER` line when it reads and writes its own four
 * `# HEADER:` lines (with a time stamp) at the top of the file when it writes; we write no header and leave any
 * existing one alone, as we leave every line that is not part of the managed entry.
 *
 * Change messages name schedules and line numbers but never commands or environment values (they may hold
 * secrets, Sensitive in Puppet).
 *
 * Entries without a `Puppet Name` comment are not ours, with one exception that Puppet makes too: when no entry
 * has the name, an unnamed entry with exactly the wanted schedule and command is taken as this one (it is right
 * as it is; a change rewrites it with the name), so that a job created by hand, or adopted by Puppet that way, is
 * not run twice.
 */
import { LineEdits } from './line-table.js';

export const TIME_FIELDS = ['minute', 'hour', 'monthday', 'month', 'weekday'] as const;
export type TimeField = (typeof TIME_FIELDS)[number];

/** `@reboot`... as Puppet's `special` accepts them (without the `@`). */
export const SPECIALS = ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'midnight', 'hourly'] as const;

const BOUNDS: Readonly<Record<TimeField, readonly [number, number]>> = {
  minute: [0, 59],
  hour: [0, 23],
  monthday: [1, 31],
  month: [1, 12],
  weekday: [0, 7],
};

/** Names Puppet turns into numbers: the full name or its first three letters, in any case. */
const NAMES: Readonly<Partial<Record<TimeField, { readonly names: readonly string[]; readonly first: number }>>> = {
  month: { names: ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'], first: 1 },
  weekday: { names: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'], first: 0 },
};

const HINT: Readonly<Record<TimeField, string>> = {
  minute: 'a number 0-59',
  hour: 'a number 0-23',
  monthday: 'a number 1-31',
  month: 'a number 1-12 or a month name (jan, january)',
  weekday: 'a number 0-7 (0 and 7 are Sunday) or a day name (mon, monday)',
};

/** The field's text as it is written in the crontab (`0,30`, `*`, `1` for `mon`), or the reason it is invalid. */
export type FieldResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

function inBounds(field: TimeField, n: string): boolean {
  const [lo, hi] = BOUNDS[field];
  const v = Number(n);
  return v >= lo && v <= hi;
}

/** One element of a field (no commas), as Puppet's cron type munges it; undefined when invalid. */
function normalizeElement(field: TimeField, v: string): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^\*\/([0-9]+)$/.exec(v))) return Number(m[1]) >= 1 ? v : undefined;
  if ((m = /^([0-9]+)-([0-9]+)(?:\/([0-9]+))?$/.exec(v))) {
    if (!inBounds(field, m[1]!) || !inBounds(field, m[2]!)) return undefined;
    return m[3] === undefined || Number(m[3]) >= 1 ? v : undefined;
  }
  if (/^[0-9]+$/.test(v)) return inBounds(field, v) ? v : undefined;
  const named = NAMES[field];
  if (named && /^[A-Za-z]+$/.test(v)) {
    const low = v.toLowerCase();
    const i = low.length === 3 ? named.names.findIndex((n) => n.startsWith(low)) : named.names.indexOf(low);
    if (i >= 0) return String(i + named.first);
  }
  return undefined;
}

/**
 * Validates a time field (one string or a list; a string may hold a comma-separated list) the way Puppet's cron
 * type accepts its values, and renders it: numbers in range, `*`, steps `*\/N`, ranges `N-M` and `N-M/S`, and for
 * month and weekday names (turned into numbers, as Puppet writes them). Stricter than Puppet where crontab(1)
 * would refuse the line anyway: range ends must be in range and steps at least 1.
 */
export function normalizeField(field: TimeField, value: string | readonly string[]): FieldResult {
  const parts = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(','));
  if (parts.length === 0) return { ok: false, message: `${field} is an empty list; use "*" for every ${field}` };
  if (parts.includes('*')) {
    return parts.length === 1 ? { ok: true, text: '*' } : { ok: false, message: `${field} "${parts.join(',')}": "*" cannot be combined with other values` };
  }
  const out: string[] = [];
  for (const p of parts) {
    const n = normalizeElement(field, p);
    if (n !== undefined) {
      out.push(n);
      continue;
    }
    if (NAMES[field] && /^[A-Za-z]+-/.test(p))
      return { ok: false, message: `${field} "${p}": names cannot be used in ranges (Puppet refuses them); use numbers, such as 1-5` };
    return { ok: false, message: `${field} "${p}" is not valid: use ${HINT[field]}, a range such as 1-5, a step such as */15, or *` };
  }
  return { ok: true, text: out.join(',') };
}

/** Problems of a command line as the crontab must hold it; undefined when fine. */
export function commandProblem(command: string): string | undefined {
  if (command.trim() === '') return 'the command is empty';
  if (/[\r\n]/.test(command)) return 'the command contains a line break';
  if (command.trim() !== command) return 'the command starts or ends with blanks (Puppet strips them; remove them)';
  return undefined;
}

/** An environment line must read back as one (`NAME=value`, Puppet's rule). */
export function environmentProblem(line: string): string | undefined {
  if (/[\r\n]/.test(line)) return `environment line ${JSON.stringify(line)} contains a line break`;
  if (!/^\s*\w+\s*=/.test(line)) return `environment line ${JSON.stringify(line)} is not NAME=value`;
  return undefined;
}

/** Problems of an entry name (the `# Puppet Name:` comment); undefined when fine. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (/[\r\n]/.test(name)) return 'the name contains a line break';
  return undefined;
}

/** A schedule: `@special`, or the five fields as written (`*`, `0,30`). */
export type Schedule = { readonly special: string } | { readonly time: readonly string[] };

export interface CronEntry {
  readonly schedule: Schedule;
  readonly command: string;
  /** Environment lines, in order. */
  readonly environment: readonly string[];
}

// Ruby's \s and \S (what Puppet's expressions mean), not JavaScript's Unicode ones.
const SP = '[ \\t\\n\\v\\f\\r]';
const NS = '[^ \\t\\n\\v\\f\\r]';
const COMMENT = new RegExp(`^${SP}*#`);
const PUPPET_NAME = /Puppet Name: ([^\n]+)$/;
const BLANK = new RegExp(`^${SP}*$`);
const ENVIRONMENT = new RegExp(`^${SP}*\\w+${SP}*=`);
const ENTRY = new RegExp(`^${SP}*(@\\w+|${NS}+${SP}+${NS}+${SP}+${NS}+${SP}+${NS}+${SP}+${NS}+)${SP}+([^\\n]+)$`);

export type CronLine =
  | { readonly type: 'comment'; readonly name?: string }
  | { readonly type: 'blank' }
  | { readonly type: 'environment' }
  | { readonly type: 'entry'; readonly schedule: Schedule; readonly command: string }
  /** A line Puppet cannot parse (crontab(1) would not install it either); left alone. */
  | { readonly type: 'other' };

export function parseCronLine(line: string): CronLine {
  if (COMMENT.test(line)) {
    const m = PUPPET_NAME.exec(line);
    return m ? { type: 'comment', name: m[1]! } : { type: 'comment' };
  }
  if (BLANK.test(line)) return { type: 'blank' };
  if (ENVIRONMENT.test(line)) return { type: 'environment' };
  const m = ENTRY.exec(line);
  if (!m) return { type: 'other' };
  const time = m[1]!;
  const schedule: Schedule = time.startsWith('@') ? { special: time.slice(1) } : { time: time.split(new RegExp(`${SP}+`)) };
  return { type: 'entry', schedule, command: m[2]! };
}

export function formatSchedule(s: Schedule): string {
  return 'special' in s ? `@${s.special}` : s.time.join(' ');
}

/** The lines Puppet writes for a named entry. */
export function formatEntry(name: string, e: CronEntry): string[] {
  return [`# Puppet Name: ${name}`, ...e.environment, `${formatSchedule(e.schedule)} ${e.command}`];
}

/** An entry found in a crontab: its line, its name comment and environment lines (indices), if named. */
export interface FoundEntry {
  readonly index: number;
  readonly name?: string;
  readonly header?: number;
  readonly environment: readonly number[];
  readonly schedule: Schedule;
  readonly command: string;
}

export interface CronTable {
  readonly entries: readonly FoundEntry[];
  /** `Puppet Name` comments followed by no entry (another name comes first, or the file ends). */
  readonly orphans: readonly { readonly index: number; readonly name: string }[];
}

/** Reads the entries and their names as Puppet pairs them. */
export function readTable(lines: readonly string[]): CronTable {
  const entries: FoundEntry[] = [];
  const orphans: { index: number; name: string }[] = [];
  let pending: { name: string; header: number; environment: number[] } | undefined;
  lines.forEach((line, index) => {
    const p = parseCronLine(line);
    if (p.type === 'comment' && p.name !== undefined) {
      if (pending) orphans.push({ index: pending.header, name: pending.name });
      pending = { name: p.name, header: index, environment: [] };
    } else if (p.type === 'environment') {
      pending?.environment.push(index);
    } else if (p.type === 'entry') {
      entries.push({
        index,
        schedule: p.schedule,
        command: p.command,
        environment: pending?.environment ?? [],
        ...(pending ? { name: pending.name, header: pending.header } : {}),
      });
      pending = undefined;
    }
  });
  if (pending) orphans.push({ index: pending.header, name: pending.name });
  return { entries, orphans };
}

function sameSchedule(a: Schedule, b: Schedule): boolean {
  return formatSchedule(a) === formatSchedule(b);
}

export interface CrontabPlan {
  readonly text: string;
  /** One line per change, for the log; empty when the crontab is already right. */
  readonly changes: readonly string[];
}

/**
 * A schedule as a resource asks for it: a time field left undefined is not managed, as in Puppet ("the cron type
 * will not reset parameters that are removed from a manifest"): an existing entry keeps it, a new one gets `*`.
 */
export type WantSchedule = { readonly special: string } | { readonly time: readonly (string | undefined)[] };

/** An entry as a resource asks for it; `environment` undefined is not managed (kept; none for a new entry). */
export interface WantEntry {
  readonly schedule: WantSchedule;
  readonly command: string;
  readonly environment?: readonly string[];
}

/** What the crontab must hold for one name: the entry, or none (`match`: also an unnamed entry like this one). */
export type CronWant =
  | { readonly state: 'exists'; readonly entry: WantEntry }
  | { readonly state: 'absent'; readonly match?: { readonly schedule: WantSchedule; readonly command: string } };

/**
 * The entry `want` makes of the current one (`cur`; undefined for a new entry). A special wins; with no time field
 * managed the current schedule stays (special or not); otherwise the managed fields replace the current entry's
 * (whose special, if it had one, is gone: the resource asks for a time), and the others stay or are `*`.
 */
export function resolveEntry(want: WantEntry, cur?: { readonly schedule: Schedule; readonly environment: readonly string[] }): CronEntry {
  const environment = want.environment ?? cur?.environment ?? [];
  const s = want.schedule;
  if ('special' in s) return { schedule: s, command: want.command, environment };
  if (cur && s.time.every((t) => t === undefined)) return { schedule: cur.schedule, command: want.command, environment };
  const base = cur && 'time' in cur.schedule ? cur.schedule.time : [];
  return { schedule: { time: TIME_FIELDS.map((_, i) => s.time[i] ?? base[i] ?? '*') }, command: want.command, environment };
}

/** Whether a schedule is what `want` asks for, on the fields it manages. */
function scheduleMatches(have: Schedule, want: WantSchedule): boolean {
  if ('special' in want) return 'special' in have && have.special === want.special;
  if (want.time.every((t) => t === undefined)) return true;
  return 'time' in have && want.time.every((t, i) => t === undefined || t === have.time[i]);
}

const quote = (s: string) => JSON.stringify(s);
const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;

function describeDiff(cur: FoundEntry, curEnv: readonly string[], want: CronEntry): string[] {
  const out: string[] = [];
  if (!sameSchedule(cur.schedule, want.schedule)) {
    const c = cur.schedule;
    const w = want.schedule;
    if ('time' in c && 'time' in w && c.time.length === w.time.length) {
      TIME_FIELDS.forEach((f, i) => {
        if (c.time[i] !== w.time[i]) out.push(`${f} ${quote(c.time[i] ?? '')} → ${quote(w.time[i] ?? '')}`);
      });
    } else out.push(`schedule ${quote(formatSchedule(c))} → ${quote(formatSchedule(w))}`);
  }
  if (cur.command !== want.command) out.push('command changed');
  if (curEnv.length !== want.environment.length || curEnv.some((l, i) => l !== want.environment[i])) {
    out.push(`environment changed (${lines(curEnv.length)} → ${lines(want.environment.length)})`);
  }
  return out;
}

/**
 * Plans the edit that makes the crontab text hold `want` for the entry called `name`. Several entries with the
 * name: the last is managed and the others are removed (a name is one job); a `Puppet Name` comment of this name
 * with no entry is removed. A rewritten entry takes the place of its entry line (where Puppet writes it), its old
 * name comment and environment lines are removed; a new entry is appended. Every other line stays byte for byte.
 */
export function planCrontab(text: string, name: string, want: CronWant, where = 'the crontab'): CrontabPlan {
  const edits = new LineEdits(text);
  const { lines: l, changes, remove, replace, append } = edits;
  const table = readTable(l.lines);
  const mine = table.entries.filter((e) => e.name === name);
  const removeEntry = (e: FoundEntry) => {
    if (e.header !== undefined) remove.add(e.header);
    for (const i of e.environment) remove.add(i);
    remove.add(e.index);
  };
  const envOf = (e: FoundEntry) => e.environment.map((i) => l.lines[i]!);
  for (const o of table.orphans) {
    if (o.name !== name) continue;
    remove.add(o.index);
    changes.push(`remove the comment "# Puppet Name: ${name}" without an entry from ${where} (line ${o.index + 1})`);
  }

  if (want.state === 'absent') {
    for (const e of mine) {
      removeEntry(e);
      changes.push(`remove the entry "${name}" from ${where} (line ${e.index + 1})`);
    }
    const m = want.match;
    if (m) {
      for (const e of table.entries) {
        if (e.name !== undefined || e.command !== m.command || !scheduleMatches(e.schedule, m.schedule)) continue;
        remove.add(e.index);
        changes.push(`remove the unnamed entry with this schedule and command from ${where} (line ${e.index + 1}): it is the entry "${name}"`);
      }
    }
  } else {
    const asked = want.entry;
    const keep = mine[mine.length - 1];
    for (const e of mine.slice(0, -1)) {
      removeEntry(e);
      changes.push(`remove a second entry named "${name}" from ${where} (line ${e.index + 1})`);
    }
    if (keep) {
      const w = resolveEntry(asked, { schedule: keep.schedule, environment: envOf(keep) });
      const diffs = describeDiff(keep, envOf(keep), w);
      if (diffs.length > 0) {
        removeEntry(keep);
        remove.delete(keep.index);
        replace.set(keep.index, formatEntry(name, w).join('\n'));
        changes.push(`update the entry "${name}" in ${where} (line ${keep.index + 1}): ${diffs.join(', ')}`);
      }
    } else {
      const adopt = table.entries.find((e) => e.name === undefined && e.command === asked.command && scheduleMatches(e.schedule, asked.schedule));
      const w = resolveEntry(asked, adopt && { schedule: adopt.schedule, environment: [] });
      if (adopt && w.environment.length === 0) {
        // right as it is: Puppet leaves such an entry unnamed too
      } else if (adopt) {
        replace.set(adopt.index, formatEntry(name, w).join('\n'));
        changes.push(
          `write the unnamed entry with this schedule and command in ${where} (line ${adopt.index + 1}) as the entry "${name}", with its environment (${lines(w.environment.length)})`,
        );
      } else {
        append.push(...formatEntry(name, w));
        changes.push(
          `add the entry "${name}" to ${where}: ${formatSchedule(w.schedule)}${w.environment.length ? ` (and ${lines(w.environment.length)} of environment)` : ''}`,
        );
      }
    }
  }
  return edits.result();
}
