/** Puppet `notify` → `msg`: body = message (default: the name, i.e. the title); priority from loglevel. */
import type { TypeRules } from '../rules.js';

export const LOGLEVEL_PRIORITY: Readonly<Record<string, string>> = {
  debug: 'Debug',
  info: 'Info',
  verbose: 'Info',
  notice: 'Notice',
  warning: 'Warning',
  err: 'Err',
  alert: 'Alert',
  emerg: 'Emerg',
  crit: 'Crit',
};

export const notifyRules: TypeRules = {
  type: 'Notify',
  kind: 'msg',
  doc: 'A message logged once, and again on each refresh. The vertex is `msg[<title>]`.',
  name: (r) => r.title,
  attributes: {
    message: { do: 'use', doc: '`body` (a non-string value is written as JSON)' },
    name: { do: 'use', doc: '`body` when there is no message (Puppet’s default)' },
    loglevel: { do: 'map', to: 'priority', values: LOGLEVEL_PRIORITY },
    withpath: { do: 'note', message: 'withpath is not supported' },
  },
  finish: (ctx) => {
    const r = ctx.resource;
    if (ctx.has('message')) {
      const m = ctx.value('message');
      ctx.set('body', typeof m === 'string' ? m : JSON.stringify(m), 'message');
    } else {
      const n = ctx.value('name');
      ctx.set('body', typeof n === 'string' ? n : r.title, 'name');
    }
  },
};
