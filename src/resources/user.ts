/**
 * The user resource: a local account in /etc/passwd, managed with useradd/usermod/userdel. The resource name is
 * the login name (as in mgmt). mgmt's parameters keep their meaning: `gid` is the primary group by number,
 * `group` by name (not both), `homedir` is accepted as mgmt's spelling of `home`.
 *
 * Supplementary groups: `membership: minimum` (the default, as in Puppet) adds the user to `groups` and leaves
 * other memberships alone; `inclusive` makes `groups` the complete list (`usermod -G`, which is what mgmt runs).
 */
import { isAbsolute } from 'node:path';
import { defineKind, type AutoEdgeHints, type Problem } from './resource.js';
import { deferredResource } from './deferred-resource.js';
import type { ParamsOf, WrittenParamsOf } from './params.js';
import { pathProblem } from '../system/fs/path-check.js';
import { invalidAccountName, invalidPasswordHash, MAX_ID } from '../system/tools/account-names.js';

const params = {
  state: {
    type: 'string',
    enum: ['exists', 'absent'],
    doc: "`exists` creates the user, `absent` removes it. Unset (mgmt requires it; Puppet's bare `user{'u':}`): the user is neither created nor removed, and the other parameters are enforced only while it exists.",
  },
  uid: { type: 'integer', minimum: 0, doc: 'The numeric user id; unset: chosen by useradd when created, and not checked after.' },
  gid: { type: 'integer', minimum: 0, doc: 'The primary group by number (not with `group`).' },
  group: {
    type: 'string',
    emptyIsUnset: true,
    doc: "The primary group by name (a number is taken as a gid; not with `gid`). Unset: useradd's default when created (on Debian, a new group named after the user), not checked after.",
  },
  groups: { type: 'string[]', doc: 'Supplementary groups, by name; what happens to other memberships depends on `membership`.' },
  membership: {
    type: 'string',
    enum: ['minimum', 'inclusive'],
    default: 'minimum',
    doc: '`minimum`: the user is added to `groups` and other supplementary groups are kept (Puppet’s default); `inclusive`: `groups` is the complete list, and the user is removed from any other (mgmt replaces the list too).',
  },
  home: { type: 'string', emptyIsUnset: true, doc: 'Absolute path of the home directory.' },
  homedir: { type: 'string', emptyIsUnset: true, doc: 'mgmt’s spelling of `home` (give one of them).' },
  managehome: {
    type: 'boolean',
    default: false,
    doc: 'Create the home directory (from /etc/skel) when the user is created, move its contents when `home` changes, and remove it with the user (Puppet’s `managehome`).',
  },
  shell: { type: 'string', emptyIsUnset: true, doc: 'Absolute path of the login shell.' },
  comment: { type: 'string', doc: 'The GECOS field (full name and so on); an empty string clears it.' },
  system: {
    type: 'boolean',
    default: false,
    doc: 'Create a system account (`useradd --system`: a uid from the system range, no password ageing); only used when the user is created.',
  },
  allowduplicateuid: { type: 'boolean', default: false, doc: 'Allow `uid` to be shared with another user (`--non-unique`).' },
  password: {
    type: 'string',
    doc: "The password field of /etc/shadow as it is: a crypt(3) hash such as `$6$...` or `$y$...`, or `!`/`*` for no password login (Puppet's `password`). Compared with the shadow file and set with `chpasswd --encrypted` (the hash on its stdin, never on a command line); never logged. Unset: not managed.",
  },
} as const;

/** The parameters of a user resource as a spec writes them (what `createUser` takes). */
export type UserParams = WrittenParamsOf<typeof params>;

/** The parameters the kind receives, normalized. */
export type Params = ParamsOf<typeof params>;

export const numeric = (s: string) => /^[0-9]+$/.test(s);

export function validateUser(name: string, p: Params): Problem[] {
  const out: Problem[] = [];
  const bad = invalidAccountName(name);
  if (bad) out.push({ message: `the user name '${name}' ${bad}` });
  if (numeric(name)) out.push({ message: `the user name '${name}' is a number, which tools would take for a uid` });
  if (p.uid !== undefined && p.uid > MAX_ID) out.push({ param: 'uid', message: `uid ${p.uid} is out of range (0..${MAX_ID})` });
  if (p.gid !== undefined && p.gid > MAX_ID) out.push({ param: 'gid', message: `gid ${p.gid} is out of range (0..${MAX_ID})` });
  if (p.gid !== undefined && p.group !== undefined) out.push({ param: 'group', message: 'give the primary group either as `gid` or as `group`, not both' });
  if (p.group !== undefined) {
    if (numeric(p.group)) {
      if (Number(p.group) > MAX_ID) out.push({ param: 'group', message: `gid ${p.group} is out of range (0..${MAX_ID})` });
    } else {
      const why = invalidAccountName(p.group);
      if (why) out.push({ param: 'group', message: `the group name '${p.group}' ${why}` });
    }
  }
  for (const g of p.groups ?? []) {
    const why = numeric(g) ? 'is a number: give supplementary groups by name' : invalidAccountName(g);
    if (why) out.push({ param: 'groups', message: `the group name '${g}' ${why}` });
  }
  if (p.home !== undefined && p.homedir !== undefined && p.home !== p.homedir) {
    out.push({ param: 'homedir', message: '`home` and `homedir` (mgmt’s spelling) differ: give one of them' });
  }
  for (const key of ['home', 'homedir', 'shell'] as const) {
    const v = p[key];
    const bad = v === undefined ? undefined : pathProblem(v);
    if (bad !== undefined) out.push({ param: key, message: `\`${key}\` ${bad}` });
    else if (v !== undefined && !isAbsolute(v)) out.push({ param: key, message: `\`${key}\` must be an absolute path, got '${v}'` });
    if (v !== undefined && /[:\n]/.test(v)) out.push({ param: key, message: `\`${key}\` cannot contain ':' or a newline` });
  }
  if (p.comment !== undefined && /[:\n]/.test(p.comment)) out.push({ param: 'comment', message: "`comment` cannot contain ':' or a newline" });
  const badHash = p.password === undefined ? undefined : invalidPasswordHash(p.password);
  if (badHash !== undefined) out.push({ param: 'password', message: `\`password\` ${badHash}` });
  return out;
}

/** The groups a user names: its primary group by name, then its supplementary groups. */
function namedGroups(p: Params): string[] {
  const out: string[] = [];
  if (p.group !== undefined && !numeric(p.group)) out.push(p.group);
  for (const g of p.groups ?? []) if (!out.includes(g)) out.push(g);
  return out;
}

/**
 * A user comes after the groups it names (they must exist first); a user being removed comes before them (a
 * primary group cannot be removed while its user exists). A group given only by `gid` is not matched.
 */
export function userAutoEdges(_name: string, p: Params): AutoEdgeHints {
  const refs = namedGroups(p).map((name) => ({ kind: 'group', name }));
  if (refs.length === 0) return {};
  return p.state === 'absent' ? { beforeVertex: refs } : { afterVertex: refs };
}

export const userKind = defineKind({
  kind: 'user',
  doc: 'A local user account in /etc/passwd, managed with useradd, usermod and userdel; the resource name is the login name. It watches /etc/passwd and /etc/group, so an account removed or changed by hand is repaired at once. A user comes after the `group` resources it names in `group` and `groups`, and before them when `state: absent`. The tools run one at a time, each with a deadline of two minutes. With `password`, the hash in /etc/shadow is compared and set with `chpasswd --encrypted` (never logged), and /etc/shadow is watched too. Expiry and SSH keys are not managed.',
  params,
  refreshable: false,
  reach: { touches: ['accounts'], collect: 'explicit' },
  validate: validateUser,
  autoEdges: userAutoEdges,
  create: (name, p, ctx) =>
    deferredResource(
      () => import('./user-resource.js'),
      (m) => m.createUser(name, p, ctx),
    ),
});
