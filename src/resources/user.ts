/**
 * The user resource: a local account in /etc/passwd, managed with useradd/usermod/userdel. The resource name is
 * the login name (as in mgmt). mgmt's parameters keep their meaning: `gid` is the primary group by number,
 * `group` by name (not both), `homedir` is accepted as mgmt's spelling of `home`.
 *
 * Supplementary groups: `membership: minimum` (the default, as in Puppet) adds the user to `groups` and leaves
 * other memberships alone; `inclusive` makes `groups` the complete list (`usermod -G`, which is what mgmt runs).
 */
import { isAbsolute } from 'node:path';
import { defineKind, type AutoEdgeHints, type Problem, type Resource, type ResourceContext } from './resource.js';
import { normalizeComplete } from './normalize.js';
import type { ParamsOf, WrittenParamsOf } from './params.js';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { pathProblem } from '../system/fs/path-check.js';
import {
  type AccountFiles,
  type GroupEntry,
  invalidAccountName,
  MAX_ID,
  invalidPasswordHash,
  readAccounts,
  readPasswordHashes,
  runShadowTool,
  setPasswordHash,
  supplementaryGroups,
  SYSTEM_ACCOUNTS,
} from '../system/tools/shadow.js';

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
type Params = ParamsOf<typeof params>;

const numeric = (s: string) => /^[0-9]+$/.test(s);

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

const dedupe = (l: readonly string[]) => [...new Set(l)];
const list = (l: readonly string[]) => (l.length ? l.join(',') : '(none)');

interface Change {
  readonly args: readonly string[];
  /** `shell /bin/sh -> /bin/bash`. */
  readonly text: string;
  /** For the change record: the parameter, and its value before and after. */
  readonly property: string;
  readonly previous: unknown;
  readonly desired: unknown;
}

/** The resource, on any account files (tests pass a scratch root; the kind uses the real system). */
export function createUser(name: string, written: UserParams, ctx: ResourceContext, files: AccountFiles = SYSTEM_ACCOUNTS): Resource {
  const p = normalizeComplete(userKind, name, written) as Params;
  const home = p.home ?? p.homedir;
  const wantGroups = p.groups !== undefined ? dedupe(p.groups) : undefined;
  const inclusive = p.membership === 'inclusive';
  const primary = p.gid !== undefined ? String(p.gid) : p.group;

  const tool = (t: 'useradd' | 'usermod' | 'userdel', args: readonly string[], signal: AbortSignal) =>
    runShadowTool(t, [...args, name], { root: files.root, signal }).then((warnings) => warnings.forEach((w) => ctx.log.warn(w)));

  const setPassword = (hash: string, signal: AbortSignal) => setPasswordHash(name, hash, { root: files.root, signal });

  /** The gid `primary` stands for, or undefined when it names a group that does not exist. */
  const primaryGid = (groups: readonly GroupEntry[]): number | undefined =>
    primary === undefined ? undefined : numeric(primary) ? Number(primary) : groups.find((g) => g.name === primary)?.gid;

  /** The groups named by this user that do not exist, as a sentence fragment, or ''. */
  const missingGroups = (groups: readonly GroupEntry[]): string => {
    const missing = [...(primary !== undefined && !numeric(primary) ? [primary] : []), ...(wantGroups ?? [])].filter(
      (g, i, all) => all.indexOf(g) === i && !groups.some((x) => x.name === g),
    );
    if (missing.length === 0) return '';
    const one = missing.length === 1;
    return `${one ? 'group' : 'groups'} ${missing.map((g) => `'${g}'`).join(', ')} ${one ? 'does' : 'do'} not exist`;
  };

  return {
    async watch(w) {
      const stops = [watchPath(files.passwd, () => w.event())];
      try {
        stops.push(watchPath(files.group, () => w.event()));
        if (p.password !== undefined) stops.push(watchPath(files.shadow, () => w.event()));
        w.event();
        await untilAborted(w.signal);
      } finally {
        for (const stop of stops) stop();
      }
    },

    async checkApply(c) {
      const { users, groups } = await readAccounts(files);
      const cur = users.find((u) => u.name === name);

      if (p.state === 'absent') {
        if (!cur) return true;
        c.change?.({ property: 'state', previous: 'exists', desired: 'absent', message: `${c.apply ? 'removed' : 'would remove'} the user` });
        if (!c.apply) {
          ctx.log.info(`would remove the user${p.managehome ? ` and its home ${cur.home}` : ''}`);
          return false;
        }
        await tool('userdel', p.managehome ? ['--remove'] : [], c.signal);
        ctx.log.info(`removed the user${p.managehome ? ` and its home ${cur.home}` : ''}`);
        return false;
      }
      if (!cur && p.state === undefined) {
        ctx.log.debug('the user does not exist and `state` is unset: nothing to manage');
        return true;
      }

      if (p.uid !== undefined && !p.allowduplicateuid) {
        const taken = users.find((u) => u.uid === p.uid && u.name !== name);
        if (taken) throw new Error(`uid ${p.uid} is already used by user '${taken.name}': choose another uid, or set allowduplicateuid`);
      }
      const missing = missingGroups(groups);
      const unlessMissing = (what: string) => {
        if (c.apply) {
          throw new Error(
            `cannot ${what}: ${missing} (in ${files.group}); create ${missing.startsWith('groups') ? 'them' : 'it'} first (a \`group\` resource in the graph is ordered before this user)`,
          );
        }
      };

      if (!cur) {
        const args: string[] = [];
        const shown: string[] = [];
        if (p.uid !== undefined) {
          args.push('--uid', String(p.uid), ...(p.allowduplicateuid ? ['--non-unique'] : []));
          shown.push(`uid ${p.uid}`);
        }
        if (primary !== undefined) {
          args.push('--gid', primary);
          shown.push(`group ${primary}`);
        }
        if (wantGroups?.length) {
          args.push('--groups', wantGroups.join(','));
          shown.push(`groups ${wantGroups.join(',')}`);
        }
        if (home !== undefined) {
          args.push('--home-dir', home);
          shown.push(`home ${home}`);
        }
        if (p.managehome) {
          args.push('--create-home');
          shown.push('home created');
        }
        if (p.shell !== undefined) {
          args.push('--shell', p.shell);
          shown.push(`shell ${p.shell}`);
        }
        if (p.comment !== undefined) {
          args.push('--comment', p.comment);
          shown.push(`comment '${p.comment}'`);
        }
        if (p.system) {
          args.push('--system');
          shown.push('system');
        }
        if (p.password !== undefined) shown.push('password set');
        const what = `the user${shown.length ? ` (${shown.join(', ')})` : ''}`;
        if (missing) unlessMissing(`create ${what}`);
        c.change?.({ property: 'state', previous: 'absent', desired: 'exists', message: `${c.apply ? 'created' : 'would create'} ${what}` });
        if (!c.apply) {
          ctx.log.info(`would create ${what}${missing ? `, but ${missing} (yet)` : ''}`);
          return false;
        }
        await tool('useradd', args, c.signal);
        if (p.password !== undefined) await setPassword(p.password, c.signal);
        ctx.log.info(`created ${what}`);
        return false;
      }

      const changes: Change[] = [];
      if (p.uid !== undefined && cur.uid !== p.uid) {
        changes.push({
          args: ['--uid', String(p.uid), ...(p.allowduplicateuid ? ['--non-unique'] : [])],
          text: `uid ${cur.uid} -> ${p.uid}`,
          property: 'uid',
          previous: cur.uid,
          desired: p.uid,
        });
      }
      if (primary !== undefined) {
        const gid = primaryGid(groups);
        if (gid !== cur.gid) {
          const now = groups.find((g) => g.gid === cur.gid)?.name ?? String(cur.gid);
          changes.push({ args: ['--gid', primary], text: `primary group ${now} -> ${primary}`, property: 'gid', previous: now, desired: primary });
        }
      }
      if (wantGroups !== undefined) {
        const have = supplementaryGroups(groups, name);
        if (inclusive) {
          const same = have.length === wantGroups.length && wantGroups.every((g) => have.includes(g));
          if (!same)
            changes.push({
              args: ['--groups', wantGroups.join(',')],
              text: `groups ${list(have)} -> ${list([...wantGroups].sort())}`,
              property: 'groups',
              previous: have,
              desired: [...wantGroups].sort(),
            });
        } else {
          const add = wantGroups.filter((g) => !have.includes(g));
          if (add.length)
            changes.push({
              args: ['--append', '--groups', add.join(',')],
              text: `added to groups ${add.join(',')}`,
              property: 'groups',
              previous: have,
              desired: [...have, ...add],
            });
        }
      }
      if (home !== undefined && cur.home !== home) {
        changes.push({
          args: ['--home', home, ...(p.managehome ? ['--move-home'] : [])],
          text: `home ${cur.home} -> ${home}${p.managehome ? ' (moved)' : ''}`,
          property: 'home',
          previous: cur.home,
          desired: home,
        });
      }
      if (p.shell !== undefined && cur.shell !== p.shell)
        changes.push({
          args: ['--shell', p.shell],
          text: `shell ${cur.shell || '(default)'} -> ${p.shell}`,
          property: 'shell',
          previous: cur.shell,
          desired: p.shell,
        });
      if (p.comment !== undefined && cur.comment !== p.comment)
        changes.push({
          args: ['--comment', p.comment],
          text: `comment '${cur.comment}' -> '${p.comment}'`,
          property: 'comment',
          previous: cur.comment,
          desired: p.comment,
        });
      // the hash is compared, never shown: the message says only that it differs
      const passwordWrong = p.password !== undefined && (await readPasswordHashes(files)).get(name) !== p.password;
      if (changes.length === 0 && !passwordWrong) return true;

      const text = [...changes.map((x) => x.text), ...(passwordWrong ? ['password (hash not shown)'] : [])].join(', ');
      if (missing) unlessMissing(`change ${text}`);
      for (const x of changes)
        c.change?.({ property: x.property, previous: x.previous, desired: x.desired, message: c.apply ? x.text : `would change ${x.text}` });
      // never the hashes, not even redacted: a hand-written graph need not mark `password` sensitive
      if (passwordWrong) c.change?.({ property: 'password', message: c.apply ? 'password (hash not shown)' : 'would change password (hash not shown)' });
      if (!c.apply) {
        ctx.log.info(`would change ${text}${missing ? `, but ${missing} (yet)` : ''}`);
        return false;
      }
      if (changes.length > 0) {
        await tool(
          'usermod',
          changes.flatMap((x) => x.args),
          c.signal,
        );
      }
      if (passwordWrong) await setPassword(p.password!, c.signal);
      ctx.log.info(text);
      return false;
    },
  };
}

export const userKind = defineKind({
  kind: 'user',
  doc: 'A local user account in /etc/passwd, managed with useradd, usermod and userdel; the resource name is the login name. It watches /etc/passwd and /etc/group, so an account removed or changed by hand is repaired at once. A user comes after the `group` resources it names in `group` and `groups`, and before them when `state: absent`. The tools run one at a time, each with a deadline of two minutes. With `password`, the hash in /etc/shadow is compared and set with `chpasswd --encrypted` (never logged), and /etc/shadow is watched too. Expiry and SSH keys are not managed.',
  params,
  refreshable: false,
  reach: { touches: ['accounts'], collect: 'explicit' },
  validate: validateUser,
  autoEdges: userAutoEdges,
  create: (name, p, ctx) => createUser(name, p, ctx),
});
