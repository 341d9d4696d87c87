/**
 * The crontab:entry resource: one entry of a user's crontab, run by cron(8), as Puppet's `cron` type (cron_core,
 * crontab provider) manages it. Not mgmt's `cron` kind, which is a systemd timer.
 *
 * The resource name is the entry's identity: it is written as the comment `# Puppet Name: <name>` above the entry,
 * the marker Puppet's provider writes and looks for, so an entry a Puppet agent created is found and taken over
 * (no duplicate), and Puppet can take ours back. The entry is laid out as Puppet writes it (crontab-text.ts);
 * every other line of the crontab is kept byte for byte.
 *
 * The crontab is read with `crontab -l -u USER` and installed with `crontab -u USER -` from stdin (crontab.ts), under one
 * lock per user crontab so that the entries of one user take turns. The user's spool file is watched, so an entry
 * deleted by `crontab -e` is put back; our own install is seen there too and costs one more check, which finds
 * the entry right and writes nothing. /etc/passwd is watched as well, for a user created after a failed check.
 * Logs never show the command or the environment (they may hold secrets).
 */
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { commandProblem, environmentProblem, nameProblem, normalizeField, SPECIALS, TIME_FIELDS, type WantSchedule } from '../system/formats/crontab-text.js';

const field = (what: string, names = '') =>
  ({
    type: 'string|string[]',
    doc: `The ${what}: a number${names}, a range \`1-5\`, a step \`*/15\` or \`1-9/2\`, \`*\`, or a list of these (\`[0, 30]\` or \`"0,30"\`). Unset: not managed (an existing entry keeps its value, a new one gets \`*\`), as in Puppet.`,
  }) as const;

const params = {
  state: { type: 'string', enum: ['exists', 'absent'], default: 'exists', doc: '`exists` adds or updates the entry; `absent` removes it.' },
  user: { type: 'string', default: 'root', doc: 'Whose crontab holds the entry (a user name, as `crontab -u` takes it).' },
  command: {
    type: 'string',
    doc: 'The command line, written as is: an unescaped `%` is a newline to cron (crontab(5)). Required with state exists; with absent, an unnamed entry with this command and schedule is removed too.',
  },
  minute: field('minute, 0-59'),
  hour: field('hour, 0-23'),
  monthday: field('day of the month, 1-31'),
  month: field('month, 1-12', ' or a name (`jan`, `january`)'),
  weekday: field('day of the week, 0-7 (0 and 7 are Sunday)', ' or a name (`mon`, `monday`)'),
  special: {
    type: 'string',
    enum: [...SPECIALS],
    doc: 'A schedule written `@<special>` instead of the five time fields (`daily` is `@daily`); the time fields must then be unset or `*`.',
  },
  environment: {
    type: 'string[]',
    doc: 'Lines `NAME=value` written between the name comment and the entry, in order (cron applies them to the entries below them too). `[]` means none; unset: not managed (an existing entry keeps its lines, a new one has none).',
  },
} as const;

export type CrontabEntryParams = ParamsOf<typeof params>;

/** The fields as written in the crontab (undefined: not managed), or a problem per invalid field. */
export function schedule(p: CrontabEntryParams): { schedule: WantSchedule; problems: Problem[] } {
  const problems: Problem[] = [];
  const time = TIME_FIELDS.map((f) => {
    const v = p[f];
    if (v === undefined) return undefined;
    const r = normalizeField(f, v);
    if (r.ok) return r.text;
    problems.push({ param: f, message: r.message });
    return '';
  });
  if (p.special === undefined) return { schedule: { time }, problems };
  TIME_FIELDS.forEach((f, i) => {
    if (time[i] !== undefined && time[i] !== '*') {
      problems.push({ param: f, message: `\`special: ${p.special}\` replaces the time fields: unset \`${f}\` (or make it "*")` });
    }
  });
  return { schedule: { special: p.special }, problems };
}

function validate(name: string, p: CrontabEntryParams): Problem[] {
  const out: Problem[] = [];
  const n = nameProblem(name);
  if (n) out.push({ message: `${n} (the name is written as "# Puppet Name: <name>" above the entry)` });
  if (p.user === '' || p.user.startsWith('-') || /[\s/:]/.test(p.user)) out.push({ param: 'user', message: `"${p.user}" is not a user name` });
  if (p.command !== undefined) {
    const c = commandProblem(p.command);
    if (c) out.push({ param: 'command', message: c });
  } else if (p.state !== 'absent') out.push({ param: 'command', message: '`command` is required (the command line cron runs)' });
  out.push(...schedule(p).problems);
  for (const line of p.environment ?? []) {
    const e = environmentProblem(line);
    if (e) out.push({ param: 'environment', message: e });
  }
  return out;
}

export const crontabEntryKind = defineKind({
  kind: 'crontab:entry',
  doc: 'One entry of a user’s crontab, run by cron(8), as Puppet’s `cron` type manages it (not mgmt’s `cron` kind, which is a systemd timer). The name is the entry’s identity, written as the comment `# Puppet Name: <name>` above it, so entries Puppet created are found and taken over. The entry is written as Puppet writes it (name comment, environment lines, then the schedule and command); every other line of the crontab is kept byte for byte. The crontab is read with `crontab -l -u` and installed with `crontab -u USER -` (the text on its stdin, no temp file); the user’s spool file is watched. When no entry has the name, an unnamed entry with the same schedule and command is taken as this one (as Puppet does), so a job is never run twice.',
  params,
  refreshable: false,
  reach: { touches: ['commands'], collect: 'explicit' },
  validate,
  autoEdges: (_name, p) => ({ afterVertex: [{ kind: 'user', name: p.user }] }),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./crontab-entry-resource.js'),
      (m) => m.crontabEntryResource(name, p, ctx),
    ),
});
