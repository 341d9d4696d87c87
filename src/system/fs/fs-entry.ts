/** What is at a path, looked at with lstat (a symlink is itself, never its target), and removing it. */
import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { constants } from 'node:fs';
import { lstat, open, readdir, rmdir, unlink } from 'node:fs/promises';
import { isErrno } from '../../observe/errors.js';
import { forgetChecks } from './safe-path.js';

export type FsType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'block device' | 'character device';

export function typeOf(st: Stats): FsType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice()) return 'block device';
  return 'character device';
}

/** The type with its article, for messages: `a regular file`, `a directory`. */
export function describeType(t: FsType): string {
  return t === 'file' ? 'a regular file' : `a ${t}`;
}

/** The lstat of `p`, or undefined when nothing is there (ENOENT, or a path component that is not a directory). */
export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** lstatOrUndefined with the sync call. */
export function lstatOrUndefinedSync(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false }); // no Error object built for the common ENOENT
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/**
 * Removes whatever is at `p` (a directory with its contents, async; symlinks themselves, never their targets).
 * A directory is emptied through a descriptor opened with O_NOFOLLOW (its entries reached as
 * `/proc/self/fd/<fd>/<name>`), so a directory inside it swapped for a symlink meanwhile is never followed.
 */
export async function removeEntry(p: string, type: FsType, beforeFile?: BeforeFileRemoved, shown = p): Promise<void> {
  try {
    if (type === 'directory') await removeTree(p, shown, beforeFile);
    else unlinkSync(p);
  } finally {
    forgetChecks(); // it may have been a directory (or a symlink to one) on a path safe-path.ts holds
  }
}

/**
 * Called with each regular file inside a directory being removed, before it goes (a backup): its path through a
 * descriptor, its lstat, and its real path (below the `shown` path given to removeEntry).
 */
export type BeforeFileRemoved = (at: string, st: Stats, shown: string) => Promise<void>;

async function removeTree(p: string, shown: string, beforeFile: BeforeFileRemoved | undefined): Promise<void> {
  const dh = await open(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const base = `/proc/self/fd/${dh.fd}`;
    for (const n of await readdir(base)) {
      const at = `${base}/${n}`;
      const st = await lstatOrUndefined(at);
      if (st?.isDirectory()) await removeTree(at, `${shown}/${n}`, beforeFile);
      else if (st) {
        if (st.isFile()) await beforeFile?.(at, st, `${shown}/${n}`);
        await unlink(at);
      }
    }
  } finally {
    await dh.close();
  }
  await rmdir(p);
}
