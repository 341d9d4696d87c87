/**
 * Whole text files that resources rewrite (fstab, hosts, authorized_keys): read one if it exists, and write it
 * back atomically (temp file + rename); a file that is itself a mount point (a container's bind-mounted
 * /etc/hosts, where rename fails with EBUSY) is rewritten in place instead.
 * Editors take `withFileLock` (file-lock.ts) around each read-modify-write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { atomicWrite, type AtomicWriteOptions } from './atomic-write.js';
import { isErrno } from '../../observe/errors.js';

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/**
 * Replaces the file's text atomically, keeping its mode and owner (`opts` for a new file). When the path is a mount
 * point (rename gives EBUSY), the file is rewritten in place: readers may then see a partial file for a moment.
 */
export async function writeText(path: string, text: string, opts: AtomicWriteOptions = {}): Promise<void> {
  try {
    await atomicWrite(path, text, opts);
  } catch (e) {
    if (!isErrno(e, 'EBUSY')) throw e;
    await writeFile(path, text);
  }
}
