/**
 * Puppet `ssh_authorized_key` (sshkeys_core) → `ssh:authorized_key`. The vertex is `ssh:authorized_key[<name>]`:
 * the namevar, which is the key's comment and its identity in the file. ensure present (the default) → exists;
 * type aliases (rsa, dsa, ed25519, ecdsa-sk, ed25519-sk) are spelled out; options `absent` or a string become a
 * list; user, key, target carried. Public keys are public: nothing here is secret.
 * drop_privileges is dropped: Puppet writes as the user to avoid following the user's symlinks, and our kind
 * refuses symlinks at the file and its directory instead, with the same result for the file.
 */
import { REFUSED, type TypeRules } from '../rules.js';

/** Puppet's aliases for key types. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  rsa: 'ssh-rsa',
  dsa: 'ssh-dss',
  ed25519: 'ssh-ed25519',
  'ecdsa-sk': 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ed25519-sk': 'sk-ssh-ed25519@openssh.com',
};

export const sshAuthorizedKeyRules: TypeRules = {
  type: 'Ssh_authorized_key',
  kind: 'ssh:authorized_key',
  doc: 'One key of an authorized_keys file. The vertex is `ssh:authorized_key[<name>]` (the namevar: the key comment).',
  name: (r) => (typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name and the key comment (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, doc: 'Puppet’s default is present' },
    user: { do: 'map', to: 'user', fn: (v) => String(v) },
    type: {
      do: 'map',
      to: 'type',
      fn: (v) => {
        const s = String(v);
        return TYPE_ALIASES[s] ?? s;
      },
      doc: 'aliases spelled out (rsa → ssh-rsa, dsa → ssh-dss, ed25519 → ssh-ed25519, ...)',
    },
    key: { do: 'carry' },
    options: {
      do: 'map',
      to: 'options',
      fn: (v, ctx) => {
        const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== 'absent');
        if (list.every((x) => typeof x === 'string')) return list;
        ctx.refuse('options', 'options is not a list of strings');
        return REFUSED;
      },
      doc: 'a list (a string is one option; `absent` is none)',
    },
    target: { do: 'carry' },
    drop_privileges: { do: 'drop', doc: 'symlinks at the file and its directory are refused instead' },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: (v) => v === 'parsed' },
  },
  finish: (ctx) => {
    if (!ctx.has('ensure')) ctx.set('state', 'exists', []);
    if (!ctx.has('user') && !ctx.has('target')) ctx.refuse('user', 'neither user nor target is given');
    if (ctx.get('state') === 'exists') {
      for (const a of ['type', 'key']) if (!ctx.has(a)) ctx.refuse(a, 'type and key are needed to add a key');
    }
  },
};
