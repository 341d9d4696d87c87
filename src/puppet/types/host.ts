/**
 * Puppet `host` (host_core) → `host`. The vertex is `host[<name>]` (the namevar: the canonical host name).
 * ensure present (Puppet's default once a property is set) → exists, absent → absent; host_aliases → `aliases`
 * (a string is one alias); ip, comment, target carried. Unset properties are left alone on an existing line, as
 * Puppet leaves them.
 */
import type { HostParams } from '../../resources/host.js';
import { type Converter, refused, type TypeRules } from '../rules.js';

const hostNames: Converter = {
  doc: 'to a list of names (a single string is one alias)',
  refuses: 'host_aliases is not a list of names',
  convert: (v) => {
    const list = Array.isArray(v) ? v : [v];
    return list.every((x) => typeof x === 'string') ? list : refused('host_aliases is not a list of names');
  },
};

export const hostRules: TypeRules<HostParams> = {
  type: 'Host',
  kind: 'host',
  doc: 'One line of a hosts file. The vertex is `host[<name>]` (the namevar, default the title).',
  name: (r) => (typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, default: 'present' },
    ip: { do: 'carry', to: 'ip', as: 'string' },
    host_aliases: { do: 'carry', to: 'aliases', as: hostNames },
    comment: { do: 'carry', to: 'comment', as: 'string' },
    target: { do: 'carry', to: 'target' },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: ['parsed'] },
  },
  // host_core's host type declares no automatic relationship.
  autorelations: [],
};
