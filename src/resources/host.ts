/**
 * The host resource: one entry of a hosts table (/etc/hosts by default), found by its canonical name, as Puppet's
 * host type manages it. Every other line is kept byte for byte; changes are written atomically (keeping the
 * file's mode and owner; a new file gets 0644). The file is watched through its directory.
 */
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { pathProblem } from '../system/fs/path-check.js';

export const DEFAULT_HOSTS = '/etc/hosts';

const params = {
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    default: 'exists',
    doc: '`exists` adds or updates the entry; `absent` removes every line with this canonical name.',
  },
  ip: { type: 'string', doc: 'The IPv4 or IPv6 address. Needed to create the entry; unset keeps the address of an existing entry.' },
  aliases: {
    type: 'string[]',
    doc: 'Further names, in order (Puppet’s `host_aliases`); `[]` removes them all, unset keeps those of an existing entry.',
  },
  comment: { type: 'string', doc: 'The comment after `#` on the line; `""` removes it, unset keeps that of an existing entry.' },
  target: { type: 'string', default: DEFAULT_HOSTS, doc: 'The hosts file to edit.' },
} as const;

export type HostParams = ParamsOf<typeof params>;

/** Puppet's rule for a host name: dot-separated labels of word characters and inner dashes. */
const LABEL = /^(?:\w+|\w[\w-]*\w)$/;

function validate(name: string, p: HostParams): Problem[] {
  const out: Problem[] = [];
  if (name.split('.').some((label) => !LABEL.test(label))) {
    out.push({ message: `"${name}" is not a valid host name (dot-separated labels of letters, digits, "_" and inner "-")` });
  }
  if (p.ip !== undefined && isIP(p.ip) === 0) out.push({ param: 'ip', message: `"${p.ip}" is not an IPv4 or IPv6 address` });
  for (const a of p.aliases ?? []) {
    if (a === '' || /[\s#]/.test(a)) out.push({ param: 'aliases', message: `alias "${a}" is empty or contains a blank or "#"` });
  }
  if (p.comment !== undefined && /[\r\n]/.test(p.comment)) out.push({ param: 'comment', message: '`comment` contains a line break' });
  const bad = pathProblem(p.target);
  if (bad !== undefined) out.push({ param: 'target', message: `\`target\` ${bad}` });
  else if (!isAbsolute(p.target) || p.target.endsWith('/'))
    out.push({ param: 'target', message: `\`target\` must be the absolute path of a file, got "${p.target}"` });
  return out;
}

export const hostKind = defineKind({
  kind: 'host',
  doc: 'One entry of a hosts file (`target`, default /etc/hosts), identified by its canonical name (the name of the resource), as Puppet’s host type manages it. When several lines have that name, the one with the wanted `ip` is managed, else the last one; `absent` removes them all. Every other line is kept byte for byte; a changed line is written as `ip<TAB>name<TAB>aliases<TAB># comment`. The file is watched and written atomically.',
  params,
  refreshable: false,
  reach: { touches: ['files'], collect: 'plain' },
  validate,
  autoEdges: (_name, { target }) => ({ afterPath: [target], afterNearestAncestor: [target] }),
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./host-resource.js'),
      (m) => m.hostResource(name, p, ctx),
    ),
});
