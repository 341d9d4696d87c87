/**
 * What a user resource does on the system (the kind, its parameters and checks: user.ts): creates, changes or removes
 * the account with useradd, usermod and userdel, watching the account files.
 */
import { numeric, userKind, type Params, type UserParams } from './user.js';
import { normalizeComplete } from './normalize.js';
import { untilAborted } from '../system/proc/abort.js';
import { watchPath } from '../system/fs/path-watcher.js';
import {
  type AccountFiles,
  type GroupEntry,
  readAccounts,
  readPasswordHashes,
  runShadowTool,
  setPasswordHash,
  supplementaryGroups,
  SYSTEM_ACCOUNTS,
} from '../system/tools/shadow.js';
import { type Resource, type ResourceContext } from './resource.js';

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
