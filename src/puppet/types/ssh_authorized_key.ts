/**
 * Puppet `ssh_authorized_key` (sshkeys_core) → `ssh:authorized_key`. The vertex is `ssh:authorized_key[<name>]`:
 * the namevar, which is the key's comment and its identity in the file. ensure present (the default) → exists;
 * type aliases (rsa, dsa, ed25519, ecdsa-sk, ed25519-sk) are spelled out; options `absent` or a string become a
 * list; user, key, target carried. Public keys are public: nothing here is secret.
 * drop_privileges is dropped: Puppet writes as the user to avoid following the user's symlinks, and our kind
 * refuses symlinks at the file and its directory instead, with the same result for the file.
 */
import type { SshAuthorizedKeyParams } from '../../resources/ssh-authorized-key.js';
import { type Converter, refused, type TypeRules } from '../rules.js';
import { requiresItsUser } from './auto.js';

/** Puppet's aliases for key types. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  rsa: 'ssh-rsa',
  dsa: 'ssh-dss',
  ed25519: 'ssh-ed25519',
  'ecdsa-sk': 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ed25519-sk': 'sk-ssh-ed25519@openssh.com',
};

const keyOptions: Converter = {
  doc: 'to a list (a string is one option; `absent` is none)',
  refuses: 'options is not a list of strings',
  convert: (v) => {
    const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== 'absent');
    return list.every((x) => typeof x === 'string') ? list : refused('options is not a list of strings');
  },
};

export const sshAuthorizedKeyRules: TypeRules<SshAuthorizedKeyParams> = {
  type: 'Ssh_authorized_key',
  kind: 'ssh:authorized_key',
  doc: 'One key of an authorized_keys file. The vertex is `ssh:authorized_key[<name>]` (the namevar: the key comment).',
  name: (r) => (typeof r.parameters.name === 'string' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name and the key comment (default: the title)' },
    ensure: { do: 'map', to: 'state', values: { present: 'exists', absent: 'absent' }, default: 'present' },
    user: { do: 'carry', to: 'user', as: 'string' },
    type: { do: 'map', to: 'type', values: TYPE_ALIASES, otherwise: 'string', doc: 'Puppet’s aliases spelled out; other types as they are' },
    key: { do: 'carry', to: 'key' },
    options: { do: 'carry', to: 'options', as: keyOptions },
    target: { do: 'carry', to: 'target' },
    drop_privileges: { do: 'info', message: 'symlinks at the file and its directory are refused instead of writing as the user' },
    provider: { do: 'refuse', reason: 'only the parsed provider is supported', accept: ['parsed'] },
  },
  checks: [
    { attribute: 'user', outcome: 'fallback', message: 'neither user nor target is given', when: (ctx) => !ctx.has('user') && !ctx.has('target') },
    {
      attribute: ['type', 'key'],
      outcome: 'fallback',
      message: 'type and key are needed to add a key',
      doc: 'ensure is present and type or key is not given',
      when: (ctx, a) => ctx.get('state') === 'exists' && !ctx.has(a),
    },
  ],
  autorelations: [requiresItsUser('its `user`')],
};
