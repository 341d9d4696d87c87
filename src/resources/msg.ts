/** The msg resource: logs a message once (and again on each refresh). Target of Puppet's `notify`. */
import type { ParamsOf } from './params.js';
import { defineKind } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';

const PRIORITIES = ['Emerg', 'Alert', 'Crit', 'Err', 'Warning', 'Notice', 'Info', 'Debug'] as const;

const params = {
  body: { type: 'string', doc: 'The message to log; defaults to the resource name.' },
  priority: { type: 'string', enum: PRIORITIES, default: 'Notice', doc: 'Syslog-style priority of the message.' },
  journal: { type: 'boolean', doc: 'Accepted for mgmt compatibility; the message goes to our log either way.' },
  syslog: { type: 'boolean', doc: 'Accepted for mgmt compatibility; the message goes to our log either way.' },
  fields: { type: 'map', doc: 'Structured fields, printed after the message as key=value.' },
} as const;

export type MsgParams = ParamsOf<typeof params>;

export const msgKind = defineKind({
  kind: 'msg',
  doc: 'Logs a message when first checked and again whenever it receives a refresh. Changing the message makes a new resource, which logs again.',
  params,
  nameParam: 'body',
  refreshable: true,
  reach: { touches: ['nothing'], collect: 'plain' },
  create: (_name, p, ctx) => {
    let sent = false;
    const fields = Object.entries(p.fields ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => ` ${k}=${v}`)
      .join('');
    const text = `${p.body}${fields}`;
    const level = p.priority;
    return {
      async watch(w) {
        w.event();
        await untilAborted(w.signal);
      },
      async checkApply(c) {
        if (sent && !c.refresh) return true;
        if (!c.apply) {
          ctx.log.info(`would log: ${text}`);
          return false;
        }
        if (level === 'Debug') ctx.log.debug(text);
        else if (level === 'Warning' || level === 'Notice' || level === 'Info') ctx.log.info(text);
        else ctx.log.error(text);
        sent = true;
        return false;
      },
    };
  },
});
