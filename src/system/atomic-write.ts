/**
 * Atomic replacement of a path: write a temp file (or symlink) next to it, then rename it over the target, so a
 * reader sees either the old or the new object and never a half-written file. rename(2) replaces whatever is at
 * the path (a symlink there is replaced, never written through).
 *
 * No fsync by default: an apply may write 10,000 files, and two fsyncs each (file and directory) would turn a
 * sub-second apply into minutes on a spinning disk or a busy VM, for little gain, since the engine re-checks and
 * re-applies after a crash anyway. Rename still gives atomicity against concurrent readers. Pass `fsync: true` when
 * durability across a power loss matters more than speed.
 */
import { constants } from 'node:fs';
import { lstat, open, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The file's mode (12 bits); default: the replaced regular file's mode, else 0644. umask does not apply. */
  readonly mode?: number;
  /** Owner; default: the replaced regular file's owner, else the process's. */
  readonly uid?: number;
  /** Group; default: the replaced regular file's group, else the process's. */
  readonly gid?: number;
  /** fsync the file before the rename and the directory after it (off by default, see the module comment). */
  readonly fsync?: boolean;
}

const MAX_TEMP_BASE_BYTES = 200; // keeps `.<base>.mgmt-<12 hex>` under NAME_MAX (255 bytes)

/** A fresh temp name in the same directory as `path`: `.<base>.mgmt-<random>`. */
export function tempPathFor(path: string): string {
  let base = basename(path);
  while (Buffer.byteLength(base) > MAX_TEMP_BASE_BYTES) base = base.slice(0, -1);
  return join(dirname(path), `.${base}.mgmt-${randomBytes(6).toString('hex')}`);
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function existingFileMeta(path: string): Promise<{ mode: number; uid: number; gid: number } | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : undefined;
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Writes `data` to `path` atomically (temp file + rename), with the given or the kept mode and owner. */
export async function atomicWrite(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const needOld = opts.mode === undefined || opts.uid === undefined || opts.gid === undefined;
  const old = needOld ? await existingFileMeta(path) : undefined;
  const mode = opts.mode ?? old?.mode ?? 0o644;
  const uid = opts.uid ?? old?.uid;
  const gid = opts.gid ?? old?.gid;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

  let tmp = '';
  let fh: FileHandle | undefined;
  for (let attempt = 0; fh === undefined; attempt++) {
    tmp = tempPathFor(path);
    try {
      fh = await open(tmp, flags, mode & 0o777);
    } catch (e) {
      if (!isErrno(e, 'EEXIST') || attempt >= 5) throw e;
    }
  }
  try {
    // chown first: it clears set-uid/set-gid bits, which the fchmod below then sets; fchmod also undoes umask.
    if (uid !== undefined || gid !== undefined) await fh.chown(uid ?? -1, gid ?? -1);
    await fh.chmod(mode & 0o7777);
    await fh.writeFile(data);
    if (opts.fsync) await fh.sync();
    const closing = fh;
    fh = undefined;
    await closing.close();
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (opts.fsync) await fsyncDir(dirname(path));
}

/** Makes `path` a symlink to `target` atomically (temp symlink + rename), replacing a file or symlink there. */
export async function atomicSymlink(target: string, path: string, opts: { fsync?: boolean } = {}): Promise<void> {
  let tmp = '';
  for (let attempt = 0; ; attempt++) {
    tmp = tempPathFor(path);
    try {
      await symlink(target, tmp);
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST') || attempt >= 5) throw e;
    }
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (opts.fsync) await fsyncDir(dirname(path));
}
