/**
 * Puppet `host` (host_core) → `host`. The vertex is `host[<name>]` (the namevar: the canonical host name).
 * ensure present (Puppet's default once a property is set) → exists, absent → absent; host_aliases → `aliases`
 * (a string is one alias); ip, comment, target carried. Unset properties are left alone on an existing line, as
 * Puppet leaves them.
 */
import { REFUSED, type TypeRules } from '../rules.js';

export const hostRules: TypeRules = {
  type: 'Host',
  kind: 'host',
  doc: 'One line of a hosts file. The vertex is `host[<name>]` (the namevar, default the title).',
  name: (r) => (typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, doc: 'Puppet’s default is present' },
    ip: { do: 'map', to: 'ip', fn: (v) => String(v) },
    host_aliases: {
      do: 'map',
      to: 'aliases',
      fn: (v, ctx) => {
        const list = Array.isArray(v) ? v : [v];
        if (list.every((x) => typeof x === 'string')) return list;
        ctx.refuse('host_aliases', 'host_aliases is not a list of names');
        return REFUSED;
      },
      doc: 'a single string is one alias',
    },
    comment: { do: 'map', to: 'comment', fn: (v) => String(v) },
    target: { do: 'carry' },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: (v) => v === 'parsed' },
  },
  finish: (ctx) => {
    if (!ctx.has('ensure')) ctx.set('state', 'exists', []);
  },
};
