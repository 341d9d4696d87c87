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
import { commandProblem, environmentProblem, nameProblem, normalizeField, SPECIALS, TIME_FIELDS, type TimeField } from '../../system/formats/crontab-text.js';
import { REFUSED, type Rule, type RuleContext, type TypeRules } from '../rules.js';

const scalar = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' && Number.isInteger(x) ? String(x) : undefined);

/** A time field as our kind takes it: one string or a list, `absent` spelled `*`. */
function timeField(field: TimeField, v: unknown, ctx: RuleContext): string | string[] | typeof REFUSED {
  const list = (Array.isArray(v) ? v : [v]).map(scalar).map((s) => (s === 'absent' ? '*' : s));
  if (list.length === 0 || list.some((s) => s === undefined) || !normalizeField(field, list as string[]).ok) {
    ctx.refuse(field, 'not a valid value for this field (Puppet or crontab refuses it)');
    return REFUSED;
  }
  return list.length === 1 ? list[0]! : (list as string[]);
}

const timeRule = (field: TimeField): Rule => ({
  do: 'map',
  to: field,
  fn: (v, ctx) => timeField(field, v, ctx),
  doc: 'a string or a list; `absent` → `*`; unset: not managed (an existing entry keeps it; `*` for a new one)',
});

export const cronRules: TypeRules = {
  type: 'Cron',
  kind: 'crontab:entry',
  doc: 'One entry of a user’s crontab, run by cron(8) (not mgmt’s `cron` kind, a systemd timer). The vertex is `crontab:entry[<name>]` (the namevar, default the title: the `# Puppet Name:` comment). An attribute left out is not managed: an existing entry keeps that part, as with Puppet.',
  name: (r) => (typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name and the `# Puppet Name:` comment (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, doc: 'Puppet’s default is present' },
    command: {
      do: 'map',
      to: 'command',
      fn: (v, ctx) => {
        if (typeof v === 'string' && commandProblem(v.trim()) === undefined) return v.trim();
        ctx.refuse('command', 'command is not a one-line string');
        return REFUSED;
      },
      doc: 'blanks around it stripped, as Puppet does',
    },
    ...Object.fromEntries(TIME_FIELDS.map((f) => [f, timeRule(f)])),
    special: {
      do: 'map',
      to: 'special',
      fn: (v, ctx) => {
        if (v === 'absent') return undefined;
        if (typeof v === 'string' && (SPECIALS as readonly string[]).includes(v)) return v;
        ctx.refuse('special', 'not a special schedule Puppet knows');
        return REFUSED;
      },
      doc: '`absent` → unset (with a time field; alone → fallback)',
    },
    environment: {
      do: 'map',
      to: 'environment',
      fn: (v, ctx) => {
        const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== 'absent');
        if (list.every((x): x is string => typeof x === 'string' && environmentProblem(x) === undefined)) return list;
        ctx.refuse('environment', 'environment is not a list of NAME=value lines');
        return REFUSED;
      },
      doc: 'a list (a string is one line); `absent` is none',
    },
    user: { do: 'map', to: 'user', fn: (v) => String(v) },
    target: { do: 'use', doc: 'the same as user (or alone: the user); a different target → fallback' },
    provider: { do: 'refuse', reason: 'only the crontab provider is supported', accept: (v) => v === 'crontab' },
  },
  finish: (ctx) => {
    if (nameProblem(cronRules.name(ctx.resource))) ctx.refuse('name', 'a name that cannot be a `# Puppet Name:` comment (empty, or with a line break)');
    if (!ctx.has('ensure')) ctx.set('state', 'exists', []);
    if (ctx.has('target')) {
      const target = String(ctx.value('target'));
      if (!ctx.has('user')) ctx.set('user', target, 'target');
      else if (ctx.get('user') !== target) ctx.refuse('target', 'target differs from user (Puppet documents this as undefined behaviour)');
    }
    if (ctx.get('state') === 'exists' && !ctx.get('command')) ctx.refuse('command', 'a cron without command is not supported (Puppet cannot create it either)');
    if (ctx.value('special') === 'absent' && TIME_FIELDS.every((f) => ctx.get(f) === undefined)) {
      ctx.refuse('special', 'special => absent without a time field (revert an @special entry to a numeric schedule) is not supported');
    }
    if (ctx.get('special') !== undefined) {
      for (const f of TIME_FIELDS) {
        const v = ctx.get(f);
        if (v !== undefined && v !== '*') ctx.refuse(f, 'special and a time field together (Puppet refuses them)');
      }
    }
  },
};
