/**
 * Whole text files that resources rewrite (fstab, hosts, authorized_keys): read one if it exists, and write it
 * back atomically (temp file + rename); a file that is itself a mount point (a container's bind-mounted
 * /etc/hosts, where rename fails with EBUSY) is rewritten in place instead.
 * Editors take `withFileLock` (file-lock.ts) around each read-modify-write.
 *
 * Paths are resolved by safe-path.ts: a symlink on the way is followed only under the owner rule. A symlink at the
 * path itself is read through under the same rule (an unprivileged user's link must lead to a file that user
 * owns), and replaced by the written file, as before; every call goes through the parent directory's descriptor.
 */
import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { atomicWrite, type AtomicWriteOptions } from './atomic-write.js';
import { isErrno } from '../../observe/errors.js';
import { DanglingLinkError, openEditedSync, openParentSync } from './safe-path.js';

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  let opened;
  try {
    opened = openEditedSync(path);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || e instanceof DanglingLinkError) return undefined; // written as a new file, replacing a link
    throw e;
  }
  const { entry } = opened;
  try {
    const fh = await open(entry.at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) throw new Error(`${path} is not a regular file`);
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw entry.dir.explain(e);
  } finally {
    entry.dir.release();
  }
}

/**
 * Replaces the file's text atomically, keeping its mode and owner (`opts` for a new file). When the path is a mount
 * point (rename gives EBUSY), the file is rewritten in place: readers may then see a partial file for a moment.
 */
export async function writeText(path: string, text: string, opts: AtomicWriteOptions = {}): Promise<void> {
  const entry = openParentSync(path, { sweep: true });
  try {
    try {
      await atomicWrite(entry.at, text, opts);
    } catch (e) {
      if (!isErrno(e, 'EBUSY')) throw e;
      await writeFile(entry.at, text, { flag: constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW });
    }
  } catch (e) {
    throw entry.dir.explain(e);
  } finally {
    entry.dir.release();
  }
}
