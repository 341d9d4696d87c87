/**
 * Reading a regular file and changing owner and mode without following a symlink: through a descriptor opened
 * with O_NOFOLLOW (or lchown for a symlink itself), so a symlink put in place of a file is never followed.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  type Stats,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { isErrno } from '../../observe/errors.js';
import type { FsType } from './fs-entry.js';

/** Opens for reading without following a symlink, and without blocking on a FIFO that replaced the file. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Reads a regular file through an O_NOFOLLOW descriptor (never through a symlink); async, for big files. */
export async function readRegular(p: string): Promise<Buffer> {
  const fh = await open(p, READ_FLAGS);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${p} is no longer a regular file`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * A small regular file's content (see SYNC_MAX_BYTES), read through an O_NOFOLLOW descriptor: open, fstat, read,
 * close. Throws when `p` is no longer a regular file (a symlink or a FIFO put in its place).
 */
export function readRegularSync(p: string): Buffer {
  const fd = openSync(p, READ_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${p} is no longer a regular file`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether the regular file at `p` (whose lstat is `st`) holds exactly `want`; async, for big files. */
export async function sameContent(p: string, st: Stats, want: Buffer): Promise<boolean> {
  if (st.size !== want.length) return false;
  return (await readRegular(p)).equals(want);
}

/**
 * Whether the regular file at `p` holds exactly `want` (small content: see SYNC_MAX_BYTES), read through an
 * O_NOFOLLOW descriptor: open, fstat, read, close. The read asks for one byte more than wanted, so a file that
 * grew since the fstat shows as different; a short read that reaches the fstat size is the end of the file.
 */
export function sameContentSync(p: string, want: Buffer): boolean {
  const fd = openSync(p, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${p} is no longer a regular file`);
    if (st.size !== want.length) return false;
    const buf = Buffer.allocUnsafe(want.length + 1);
    let n = 0;
    let got: number;
    do {
      got = readSync(fd, buf, n, buf.length - n, n);
      n += got;
    } while (got > 0 && n < want.length);
    return n === want.length && buf.subarray(0, n).equals(want);
  } finally {
    closeSync(fd);
  }
}

/** Owner, group and mode to set; unset ones are left alone. */
export interface OwnerMode {
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  readonly mode?: number | undefined;
}

/**
 * Applies owner/group/mode without following a symlink: lchown for symlinks (mode does not apply to them),
 * otherwise fchown/fchmod on an O_NOFOLLOW descriptor. Objects that cannot be opened (sockets, unreadable files
 * when not root) fall back to lchown and chmod after an lstat check.
 */
export function applyOwnerMode(p: string, type: FsType, meta: OwnerMode): void {
  const owner = meta.uid !== undefined || meta.gid !== undefined;
  if (type === 'symlink') {
    if (owner) lchownSync(p, meta.uid ?? -1, meta.gid ?? -1);
    return;
  }
  let fd: number;
  try {
    fd = openSync(p, READ_FLAGS);
  } catch (e) {
    if (isErrno(e, 'ELOOP')) throw new Error(`${p} was replaced by a symlink meanwhile; not following it`);
    if (!isErrno(e, 'EACCES', 'ENXIO', 'EPERM', 'EOPNOTSUPP')) throw e;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new Error(`${p} was replaced by a symlink meanwhile; not following it`);
    if (owner) lchownSync(p, meta.uid ?? -1, meta.gid ?? -1);
    if (meta.mode !== undefined) chmodSync(p, meta.mode);
    return;
  }
  try {
    if (owner) fchownSync(fd, meta.uid ?? -1, meta.gid ?? -1);
    if (meta.mode !== undefined) fchmodSync(fd, meta.mode);
  } finally {
    closeSync(fd);
  }
}
