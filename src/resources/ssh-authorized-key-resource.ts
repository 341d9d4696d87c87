/**
 * What an ssh:authorized_key resource does on the system (the kind, its parameters and checks: ssh-authorized-
 * key.ts): edits the user's key file as that user would, and watches it.
 */
import { type SshAuthorizedKeyParams } from './ssh-authorized-key.js';
import { constants } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { untilAborted } from '../system/proc/abort.js';
import { atomicWrite } from '../system/fs/atomic-write.js';
import { planKeys, type KeyWant } from '../system/formats/authorized-keys-text.js';
import { PASSWD_FILE, passwdEntry, type PasswdEntry, UnknownAccountError } from '../system/tools/ids.js';
import { watchPath } from '../system/fs/path-watcher.js';
import { withFileLock } from '../system/fs/file-lock.js';
import { errnoCode } from '../observe/errors.js';
import { openDirSync, type SafeDir } from '../system/fs/safe-path.js';
import { sweepStaleTemps } from '../system/fs/stale-temps.js';
import { type CheckApplyContext, type Resource, type ResourceContext } from './resource.js';

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

export function sshAuthorizedKeyResource(name: string, p: SshAuthorizedKeyParams, ctx: ResourceContext): Resource {
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
      for (const change of plan.changes) {
        ctx.log.info(c.apply ? change : `would ${change}`);
        c.change?.({ property: 'state', message: c.apply ? change : `would ${change}` });
      }
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
}
