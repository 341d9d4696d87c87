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
import { constants } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import { defineKind, type CheckApplyContext, type Problem } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';
import { atomicWrite } from '../system/fs/atomic-write.js';
import { KEY_TYPE_PATTERN, OPTION_PATTERN, planKeys, type KeyWant } from '../system/formats/authorized-keys-text.js';
import { PASSWD_FILE, passwdEntry, type PasswdEntry, UnknownAccountError } from '../system/tools/ids.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { errnoCode } from '../observe/errors.js';
import { openDirSync, type SafeDir } from '../system/fs/safe-path.js';
import { sweepStaleTemps } from '../system/fs/stale-temps.js';
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

/** Opens a directory (`at`: its path through its parent's descriptor) without following a symlink there; undefined when it does not exist. */
async function openDir(at: string, dir: string): Promise<FileHandle | undefined> {
  try {
    return await open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (errnoCode(e) === 'ENOTDIR' || errnoCode(e) === 'ELOOP') {
      const st = await lstat(at).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new Error(`${dir} is a symlink; not following it (make it a real directory)`);
      throw new Error(`${dir} is not a directory`);
    }
    throw e;
  }
}

/** The file's text and owner, read through the directory descriptor without following a symlink; undefined if missing. */
async function readKeys(at: string, shown: string): Promise<{ text: string; uid: number; gid: number } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (errnoCode(e) === 'ELOOP') throw new Error(`${shown} is a symlink; not following it (make it a regular file)`);
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${shown} is not a regular file`);
    return { text: await fh.readFile('utf8'), uid: st.uid, gid: st.gid };
  } finally {
    await fh.close();
  }
}

/** A missing directory above the key file's own: Puppet's provider does not create it either. */
function missingAbove(dir: string): Error {
  const above = dirname(dir);
  return new Error(
    `cannot create ${dir}: ${above} does not exist (only the key file's own directory is created, as Puppet does); create ${above} first, e.g. with a file resource ordered before this key`,
  );
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
  create: (name, p, ctx) => {
    const want: KeyWant | null = p.state === 'absent' ? null : { type: p.type ?? '', key: p.key ?? '', options: p.options ?? [] };

    const account = async (signal: AbortSignal): Promise<PasswdEntry | undefined> => (p.user === undefined ? undefined : passwdEntry(p.user, signal));
    const targetOf = (u: PasswdEntry | undefined): string => {
      if (p.target !== undefined) return p.target;
      if (!u?.home.startsWith('/'))
        throw new Error(`user '${p.user}' has no absolute home directory in its passwd entry (home: '${u?.home ?? ''}'); set \`target\``);
      return posix.join(u.home, '.ssh', 'authorized_keys');
    };

    /** Makes the file right (under the file's lock); true when it already was. */
    const syncKeys = async (c: CheckApplyContext, user: PasswdEntry | undefined, target: string): Promise<boolean> => {
      const dir = dirname(target);
      let above: SafeDir;
      try {
        above = openDirSync(dirname(dir), { sweep: c.apply });
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        if (want === null) return true;
        if (!c.apply) {
          ctx.log.info(`would create ${dir} (0700) and add the key "${name}" to ${target} (${dirname(dir)} does not exist yet)`);
          return false;
        }
        throw missingAbove(dir);
      }
      try {
        return await syncKeysIn(c, user, target, above);
      } finally {
        above.release();
      }
    };

    const syncKeysIn = async (c: CheckApplyContext, user: PasswdEntry | undefined, target: string, above: SafeDir): Promise<boolean> => {
      const dir = dirname(target);
      const dirAt = above.at(basename(dir));
      let dh = await openDir(dirAt, dir);
      if (!dh) {
        if (want === null) return true;
        if (!c.apply) {
          ctx.log.info(`would create ${dir} (0700) and add the key "${name}" to ${target}`);
          return false;
        }
        try {
          await mkdir(dirAt, { mode: 0o700 });
        } catch (e) {
          if (errnoCode(e) === 'ENOENT') throw missingAbove(dir);
          if (errnoCode(e) !== 'EEXIST') throw e;
        }
        dh = await openDir(dirAt, dir);
        if (!dh) throw new Error(`${dir} vanished after it was created`);
        await dh.chmod(0o700);
        if (user) await dh.chown(user.uid, user.gid);
        ctx.log.info(`created ${dir}`);
      }
      try {
        if (c.apply) sweepStaleTemps(dh.fd, await dh.stat());
        const at = `/proc/self/fd/${dh.fd}/${basename(target)}`;
        const cur = await readKeys(at, target);
        const plan = planKeys(cur?.text ?? '', name, want, target);
        if (plan.changes.length === 0) return true;
        for (const change of plan.changes) ctx.log.info(c.apply ? change : `would ${change}`);
        if (!c.apply) return false;
        const uid = cur?.uid ?? user?.uid ?? process.getuid?.() ?? 0;
        const gid = cur?.gid ?? user?.gid ?? process.getgid?.() ?? 0;
        await atomicWrite(at, plan.text, { mode: 0o600, uid, gid });
        return false;
      } finally {
        await dh.close();
      }
    };

    return {
      async watch(w) {
        let target: string | undefined;
        let stopTarget: (() => void) | undefined;
        const follow = async () => {
          let t: string | undefined;
          try {
            t = targetOf(await account(w.signal));
          } catch {
            t = undefined; // the check reports it
          }
          if (t !== target) {
            stopTarget?.();
            stopTarget = t !== undefined ? watchPath(t, () => w.event()) : undefined;
            target = t;
          }
        };
        const stopPasswd =
          p.target === undefined
            ? watchPath(PASSWD_FILE, () => {
                w.event();
                void follow();
              })
            : undefined;
        try {
          await follow();
          w.event();
          await untilAborted(w.signal);
        } finally {
          stopPasswd?.();
          stopTarget?.();
        }
      },

      async checkApply(c) {
        let user: PasswdEntry | undefined;
        try {
          user = await account(c.signal);
        } catch (e) {
          // Under noop, a user the run has not created yet (applying, the autoedge has created it by now): with
          // `target`, the file is checked as it is (nothing is written, so its owner does not matter yet); without
          // it, the home is not known, and the plan is reported.
          if (c.apply || !(e instanceof UnknownAccountError)) throw e;
          if (p.target === undefined) {
            if (want === null) return true;
            ctx.log.info(`would add the key "${name}" to ~${p.user ?? ''}/.ssh/authorized_keys (user ${p.user ?? ''} not yet created)`);
            return false;
          }
        }
        const target = targetOf(user);
        return withFileLock(target, () => syncKeys(c, user, target));
      },
    };
  },
});
