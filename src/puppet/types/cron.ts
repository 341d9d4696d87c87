/**
 * Puppet `cron` (cron_core, crontab provider) → `crontab:entry` (not mgmt's `cron` kind, a systemd timer). The
 * vertex is `crontab:entry[<name>]`: the namevar (default the title), which Puppet writes as `# Puppet Name:`.
 * - ensure present (the default) → exists, absent → absent; command (stripped, as Puppet munges it), user carried.
 * - minute, hour, monthday, month, weekday: numbers become strings, a list stays a list, `absent` is `*`; a value
 *   Puppet or crontab(1) refuses goes to the fallback (where Puppet reports it). An attribute left out is left out:
 *   our kind then leaves that part of an existing entry alone, as Puppet does ("the cron type will not reset
 *   parameters that are removed from a manifest"), and a new entry gets `*` / no environment.
 * - special `absent` with a time field: no special (the time fields make the entry numeric); alone (revert an
 *   @special entry to a numeric one) → fallback.
 * - environment: a string is one line, `absent` is none (Puppet writes a literal `absent` line, which crontab(1)
 *   refuses).
 * - target is the crontab's user for this provider: equal to user (or alone: then it is the user) it is consumed;
 *   different from user → fallback (Puppet documents that combination as undefined behaviour).
 */
import type { CrontabEntryParams } from '../../resources/crontab-entry.js';
import { textOf } from '../catalog.js';
import { commandProblem, environmentProblem, nameProblem, normalizeField, SPECIALS, TIME_FIELDS, type TimeField } from '../../system/formats/crontab-text.js';
import { type Converter, type Derivation, refused, type Rule, sourced, type TypeRules } from '../rules.js';
import { requiresItsUser } from './auto.js';

const scalar = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' && Number.isInteger(x) ? String(x) : undefined);

const MSG_TIME_FIELD = 'not a valid value for this field (Puppet or crontab refuses it)';

/** A time field as our kind takes it: one string or a list, `absent` spelled `*`. */
const timeField = (field: TimeField): Converter => ({
  doc: 'to a string or a list of strings; `absent` → `*`',
  refuses: MSG_TIME_FIELD,
  convert: (v) => {
    const list = (Array.isArray(v) ? v : [v]).map(scalar).map((s) => (s === 'absent' ? '*' : s));
    if (list.length === 0 || list.some((s) => s === undefined) || !normalizeField(field, list as string[]).ok) return refused(MSG_TIME_FIELD);
    return list.length === 1 ? list[0]! : list;
  },
});

const timeRule = (field: TimeField): Rule<CrontabEntryParams> => ({
  do: 'carry',
  to: field,
  as: timeField(field),
  doc: 'unset: not managed (an existing entry keeps it; `*` for a new one)',
});

const cronCommand: Converter = {
  doc: 'blanks around it stripped, as Puppet does',
  refuses: 'command is not a one-line string',
  convert: (v) => (typeof v === 'string' && commandProblem(v.trim()) === undefined ? v.trim() : refused('command is not a one-line string')),
};

const cronSpecial: Converter = {
  doc: 'a special schedule Puppet knows; `absent` → unset (with a time field; alone → fallback)',
  refuses: 'not a special schedule Puppet knows',
  convert: (v) => {
    if (v === 'absent') return undefined;
    if (typeof v === 'string' && (SPECIALS as readonly string[]).includes(v)) return v;
    return refused('not a special schedule Puppet knows');
  },
};

const cronEnvironment: Converter = {
  doc: 'to a list (a string is one line); `absent` is none',
  refuses: 'environment is not a list of NAME=value lines',
  convert: (v) => {
    const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== 'absent');
    return list.every((x) => typeof x === 'string' && environmentProblem(x) === undefined) ? list : refused('environment is not a list of NAME=value lines');
  },
};

/** For the crontab provider, target is the crontab's user: it may only repeat user, or stand for it. */
const crontabUser: Derivation = {
  doc: '`user` as a string; without user, `target`',
  derive: (ctx) => {
    if (!ctx.has('user')) return ctx.has('target') ? sourced(textOf(ctx.value('target')), 'target') : undefined;
    return sourced(textOf(ctx.value('user')), 'user');
  },
};

const entryName = (r: { readonly title: string; readonly parameters: Readonly<Record<string, unknown>> }): string =>
  typeof r.parameters.name === 'string' ? r.parameters.name : r.title;

export const cronRules: TypeRules<CrontabEntryParams> = {
  type: 'Cron',
  kind: 'crontab:entry',
  doc: 'One entry of a user’s crontab, run by cron(8) (not mgmt’s `cron` kind, a systemd timer). The vertex is `crontab:entry[<name>]` (the namevar, default the title: the `# Puppet Name:` comment). An attribute left out is not managed: an existing entry keeps that part, as with Puppet.',
  name: entryName,
  attributes: {
    name: { do: 'use', doc: 'the vertex name and the `# Puppet Name:` comment (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, default: 'present' },
    command: { do: 'carry', to: 'command', as: cronCommand },
    ...Object.fromEntries(TIME_FIELDS.map((f) => [f, timeRule(f)])),
    special: { do: 'carry', to: 'special', as: cronSpecial },
    environment: { do: 'carry', to: 'environment', as: cronEnvironment },
    provider: { do: 'refuse', reason: 'only the crontab provider is supported', accept: ['crontab'] },
  },
  derive: {
    user: { from: ['user', 'target'], by: crontabUser },
  },
  checks: [
    {
      attribute: 'name',
      outcome: 'fallback',
      message: 'a name that cannot be a `# Puppet Name:` comment (empty, or with a line break)',
      when: (ctx) => nameProblem(entryName(ctx.resource)) !== undefined,
    },
    {
      attribute: 'target',
      outcome: 'fallback',
      message: 'target differs from user (Puppet documents this as undefined behaviour)',
      when: (ctx) => ctx.has('target') && ctx.has('user') && textOf(ctx.value('target')) !== textOf(ctx.value('user')),
    },
    {
      attribute: 'command',
      outcome: 'fallback',
      message: 'a cron without command is not supported (Puppet cannot create it either)',
      doc: 'ensure is present and there is no command',
      when: (ctx) => ctx.get('state') === 'exists' && !ctx.get('command'),
    },
    {
      attribute: 'special',
      outcome: 'fallback',
      message: 'special => absent without a time field (revert an @special entry to a numeric schedule) is not supported',
      when: (ctx) => ctx.value('special') === 'absent' && TIME_FIELDS.every((f) => ctx.get(f) === undefined),
    },
    {
      attribute: TIME_FIELDS,
      outcome: 'fallback',
      message: 'special and a time field together (Puppet refuses them)',
      doc: 'a time field other than `*` with special',
      when: (ctx, f) => ctx.get('special') !== undefined && ctx.get(f) !== undefined && ctx.get(f) !== '*',
    },
  ],
  autorelations: [requiresItsUser('its `user` (with the crontab provider, none when not given)')],
};
