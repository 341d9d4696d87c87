/**
 * The ssh:authorized_key resource: one key in a user's authorized_keys file, identified by its comment (the
 * resource name), as Puppet's ssh_authorized_key manages it. (mgmt's resource of the same kind name identifies a
 * key by its whole line instead; see docs/user-guide.md.)
 *
 * The file is `~user/.ssh/authorized_keys` unless `target` says otherwise; the home directory is read from
 * /etc/passwd (else NSS: LDAP, SSSD...) at each check, so a user created earlier in the run is found. As Puppet does, a missing directory
 * (only the last one, for any target: Puppet's provider runs one mkdir of the file's directory) is created with mode
 * 0700 and a missing file with mode 0600, both owned by the user and their primary group; a rewritten file keeps its
 * owner and gets mode 0600. A missing directory above that one is an error when applying (Puppet's mkdir fails
 * too).
 *
 * Under noop nothing is created, so what an earlier resource of the same run would create is not there yet: a user
 * that does not exist yet, or a missing directory above the file's own, is reported with the plan ("would add the
 * key ..."), not as a failure, as Puppet's noop does; applying, the autoedge (user before key) and the graph's
 * order have created them by then.
 *
 * Safety: the directory holding the file usually belongs to the user, who could replace the file or the
 * directory with a symlink to make root read or write elsewhere (say /root/.ssh/authorized_keys). So the
 * directory is opened with O_NOFOLLOW and every access goes through that descriptor (/proc/self/fd/N/<file>), and
 * the file is opened with O_NOFOLLOW: a symlink in either place is an error, never followed. The directories
 * above the last one are opened by system/fs/safe-path.ts (a symlink there is followed only under its owner rule),
 * and the last one is opened and created through that descriptor.
 */
import { isAbsolute, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import { KEY_TYPE_PATTERN, OPTION_PATTERN } from '../system/formats/authorized-keys-text.js';
import { pathProblem } from '../system/fs/path-check.js';

const params = {
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    default: 'exists',
    doc: '`exists` adds or updates the key; `absent` removes every key with this comment.',
  },
  user: {
    type: 'string',
    doc: 'The account whose `~/.ssh/authorized_keys` holds the key (home directory from its passwd entry: /etc/passwd, else NSS), and who owns a directory or file created for it. Required unless `target` is set.',
  },
  type: { type: 'string', pattern: KEY_TYPE_PATTERN, doc: 'The key type, such as `ssh-ed25519` or `ssh-rsa`; required with state exists.' },
  key: {
    type: 'string',
    pattern: '^[^\\t\\n\\v\\f\\r ]+$',
    doc: 'The public key (base64), without type or comment; required with state exists. Any text without whitespace, as Puppet accepts (sshd ignores a key it cannot decode).',
  },
  options: {
    type: 'string[]',
    pattern: OPTION_PATTERN,
    doc: 'Key options in order, each `name` or `name="value"` (sshd(8)): `[no-pty, "command=\\"/bin/true\\""]`. Unset means none.',
  },
  target: { type: 'string', doc: 'The absolute path of the authorized_keys file, instead of `~user/.ssh/authorized_keys`.' },
} as const;

export type SshAuthorizedKeyParams = ParamsOf<typeof params>;

function validate(name: string, p: SshAuthorizedKeyParams): Problem[] {
  const out: Problem[] = [];
  if (name.trim() !== name || /[\r\n]/.test(name))
    out.push({ message: `the name (the key's comment) must not start or end with blanks or contain a line break: "${name}"` });
  if (p.user === undefined && p.target === undefined)
    out.push({ param: 'user', message: 'set `user` (the account whose ~/.ssh/authorized_keys to edit) or `target`' });
  if (p.user !== undefined && (p.user === '' || /[:\s/]/.test(p.user))) out.push({ param: 'user', message: `"${p.user}" is not a user name or uid` });
  const bad = p.target === undefined ? undefined : pathProblem(p.target);
  if (bad !== undefined) out.push({ param: 'target', message: `\`target\` ${bad}` });
  else if (p.target !== undefined && (!isAbsolute(p.target) || p.target.endsWith('/') || posix.normalize(p.target) !== p.target)) {
    out.push({ param: 'target', message: `\`target\` must be the absolute, normalized path of a file, got "${p.target}"` });
  }
  if (p.state !== 'absent') {
    if (p.type === undefined) out.push({ param: 'type', message: '`type` is required (such as ssh-ed25519)' });
    if (p.key === undefined) out.push({ param: 'key', message: '`key` is required (the base64 public key)' });
  }
  return out;
}

export const sshAuthorizedKeyKind = defineKind({
  kind: 'ssh:authorized_key',
  doc: 'One key in an authorized_keys file, identified by its comment (the name), as Puppet’s ssh_authorized_key manages it: the file is `~user/.ssh/authorized_keys` (home from the user’s passwd entry at check time: /etc/passwd, else NSS such as LDAP or SSSD) or `target`. When several keys carry the comment, the one with the wanted type and key is managed, else the last; `absent` removes them all. A missing directory (0700; only the file’s own, as Puppet) and file (0600) are created owned by `user`; under noop, a user or directory the run has not created yet is reported with the plan, not as a failure; every other line is kept byte for byte; the file is written atomically with mode 0600, and a symlink at the file or its directory is refused, never followed. The file and /etc/passwd are watched.',
  params,
  refreshable: false,
  reach: { touches: ['accounts'], collect: 'explicit' },
  validate,
  autoEdges: (_name, p) => {
    const after = p.user !== undefined ? { afterVertex: [{ kind: 'user', name: p.user }] } : {};
    if (p.target === undefined) return after;
    return { ...after, afterPath: [p.target], afterNearestAncestor: [p.target] };
  },
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./ssh-authorized-key-resource.js'),
      (m) => m.sshAuthorizedKeyResource(name, p, ctx),
    ),
});
