/** Puppet `notify` → `msg`: body = message (default: the name, i.e. the title); priority from loglevel. */
import type { MsgParams } from '../../resources/msg.js';
import { type Derivation, sourced, type TypeRules } from '../rules.js';

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

/** Puppet logs `message`, which defaults to the name (the title). */
const messageBody: Derivation = {
  doc: '`message` (a non-string value is written as JSON); without it, `name` (Puppet’s default), else the title',
  derive: (ctx) => {
    if (ctx.has('message')) {
      const m = ctx.value('message');
      return sourced(typeof m === 'string' ? m : JSON.stringify(m), 'message');
    }
    const n = ctx.value('name');
    return sourced(typeof n === 'string' ? n : ctx.resource.title, 'name');
  },
};

export const notifyRules: TypeRules<MsgParams> = {
  type: 'Notify',
  kind: 'msg',
  doc: 'A message logged once, and again on each refresh. The vertex is `msg[<title>]`.',
  name: (r) => r.title,
  attributes: {
    loglevel: { do: 'map', to: 'priority', values: LOGLEVEL_PRIORITY },
    withpath: { do: 'info', message: 'only shapes output: the message is logged without the resource path' },
  },
  derive: {
    body: { from: ['message', 'name'], by: messageBody },
  },
  // Puppet's notify type declares no automatic relationship.
  autorelations: [],
};
