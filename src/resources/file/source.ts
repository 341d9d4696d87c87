/** The local file or directory a file resource copies (`source` without `symlink`). */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isErrno } from '../../observe/errors.js';
import { SYNC_MAX_BYTES } from '../../system/fs/sync-slices.js';
import type { WantedFile } from './wanted.js';

/**
 * The stat of the source to copy (following a symlink), or undefined without one. Errors when it is missing, of
 * a type that cannot be copied, or does not fit the path (a directory source needs a directory path and recurse).
 */
export function checkSource(w: WantedFile): Stats | undefined {
  const src = w.copySource;
  if (src === undefined) return undefined;
  let st: Stats;
  try {
    st = statSync(src);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new Error(`source ${src} does not exist`);
    throw e;
  }
  if (st.isDirectory() && !w.isDirPath) {
    throw new Error(`source ${src} is a directory; end path with "/" and set recurse: true to copy it`);
  }
  if (!st.isDirectory() && w.isDirPath) {
    throw new Error(`source ${src} is not a directory but path "${w.path}" ends with "/"; remove the trailing "/" to copy a file`);
  }
  if (!st.isDirectory() && !st.isFile()) throw new Error(`source ${src} is neither a regular file nor a directory`);
  if (st.isDirectory() && !w.recurse) throw new Error(`source ${src} is a directory; set recurse: true to copy it`);
  return st;
}

/**
 * The content of the source file `src`, whose stat is `st`: read with the sync calls when it is small, through
 * fs/promises otherwise. The source may be a symlink (it is followed); O_NONBLOCK and the fstat check keep a
 * FIFO put there meanwhile from blocking the read.
 */
async function readSource(src: string, st: Stats): Promise<Buffer> {
  if (st.size > SYNC_MAX_BYTES) return readFile(src);
  const fd = openSync(src, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`source ${src} is neither a regular file nor a directory`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The source file's content, or empty without a source (callers use `content` first, without an await). */
export async function sourceData(w: WantedFile, srcStat: Stats | undefined): Promise<Buffer> {
  return srcStat !== undefined && w.copySource !== undefined ? readSource(w.copySource, srcStat) : Buffer.alloc(0);
}
