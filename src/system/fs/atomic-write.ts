/**
 * Atomic replacement of a path: write a temp file (or symlink) next to it, then rename it over the target, so a
 * reader sees either the old or the new object and never a half-written file. rename(2) replaces whatever is at
 * the path (a symlink there is replaced, never written through).
 *
 * Two flavours with the same rules: `atomicWrite` goes through fs/promises (the libuv thread pool, one round trip
 * per call), `atomicWriteSync` makes the syscalls directly. The file resource uses the sync one for small content,
 * where the round trip costs far more than the call itself (see the module comment of system/fs/sync-slices.ts).
 *
 * Per written file: open(O_CREAT|O_EXCL|O_NOFOLLOW) of the temp name, fstat, [fchown,] [fchmod,] write, close,
 * rename. The lstat of the path (to keep the replaced file's mode and owner) is skipped when the caller passes all
 * of mode, uid and gid, or says what is there with `existing`. The mode given to open(2) is cut by the umask, which
 * another part of the process may change at any time, or, in a directory with a default ACL, by that ACL instead,
 * and the group may come from a set-gid directory; so no computation says what the new file got, but its fstat
 * does: fchown and fchmod are made only when it differs from what is wanted (each is a syscall and an inotify
 * event for every watcher of the directory; in the common case neither is needed).
 *
 * Temp names are `.<base>.mgmt-<pid>-<12 random hex digits>`; O_EXCL|O_NOFOLLOW (with a retry on EEXIST)
 * guarantees that the temp file is new. The writer's PID in the name lets a later run tell a temp file left by a
 * crash from one still being written (stale-temps.ts removes the former). The random bytes come from a pool refilled 6 KiB at a time (one getrandom per 1,024
 * names) instead of a crypto call per name. They stay unpredictable on purpose (rather than pid + counter): in a
 * directory that others may write to, such as /tmp, predictable names would let them pre-create the next few and
 * make every write fail after its retries.
 *
 * No fsync by default: an apply may write 10,000 files, and two fsyncs each (file and directory) would turn a
 * sub-second apply into minutes on a spinning disk or a busy VM, for little gain, since the engine re-checks and
 * re-applies after a crash anyway. Rename still gives atomicity against concurrent readers. Pass `fsync: true` when
 * durability across a power loss matters more than speed.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { lstat, open, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { isErrno } from '../../observe/errors.js';
import { forgetChecks, isHeldPath, openParentSync } from './safe-path.js';

/** Mode (12 bits), owner and group of a regular file. */
export interface FileMeta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface AtomicWriteOptions {
  /** The file's mode (12 bits); default: the replaced regular file's mode, else 0644. umask does not apply. */
  readonly mode?: number;
  /** Owner; default: the replaced regular file's owner, else the process's. */
  readonly uid?: number | undefined;
  /** Group; default: the replaced regular file's group, else the process's. */
  readonly gid?: number | undefined;
  /** fsync the file before the rename and the directory after it (off by default, see the module comment). */
  readonly fsync?: boolean;
  /**
   * What the caller already knows is at the path, to save the lstat that finds the defaults above: the regular
   * file's mode, owner and group, or null when there is no regular file there (a new file). Unset: lstat it.
   */
  readonly existing?: FileMeta | null;
}

const MAX_TEMP_BASE_BYTES = 200; // keeps `.<base>.mgmt-<pid>-<12 hex>` under NAME_MAX (255 bytes)
const TEMP_RANDOM_BYTES = 6;
const POOL_BYTES = TEMP_RANDOM_BYTES * 1024;
let pool = '';
let poolAt = 0;
const PID = String(process.pid);

/** 12 random hex digits, from the pool (see the module comment), hex-encoded once per refill. */
function randomHex(): string {
  if (poolAt + 2 * TEMP_RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES).toString('hex');
    poolAt = 0;
  }
  const hex = pool.slice(poolAt, poolAt + 2 * TEMP_RANDOM_BYTES);
  poolAt += 2 * TEMP_RANDOM_BYTES;
  return hex;
}

/** A fresh temp name in the same directory as `path`: `.<base>.mgmt-<pid>-<random>`. */
export function tempPathFor(path: string): string {
  let base = basename(path);
  // a name of at most MAX_TEMP_BASE_BYTES / 3 UTF-16 units cannot be longer in UTF-8: skip the count
  if (base.length > MAX_TEMP_BASE_BYTES / 3) while (Buffer.byteLength(base) > MAX_TEMP_BASE_BYTES) base = base.slice(0, -1);
  return join(dirname(path), `.${base}.mgmt-${PID}-${randomHex()}`);
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const MAX_RETRIES = 5; // further temp names tried after an EEXIST

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function metaOfStat(st: { isFile(): boolean; mode: number; uid: number; gid: number }): FileMeta | undefined {
  return st.isFile() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : undefined;
}

async function existingFileMeta(path: string): Promise<FileMeta | undefined> {
  try {
    return metaOfStat(await lstat(path));
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

function existingFileMetaSync(path: string): FileMeta | undefined {
  try {
    return metaOfStat(lstatSync(path));
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Whether the defaults must be looked up on disk (neither given in full nor told through `existing`). */
function needsLookup(opts: AtomicWriteOptions): boolean {
  return opts.existing === undefined && (opts.mode === undefined || opts.uid === undefined || opts.gid === undefined);
}

/** The mode, owner and group the new file gets, from the options and what it replaces. */
function finalMeta(opts: AtomicWriteOptions, old: FileMeta | null | undefined): { mode: number; uid?: number | undefined; gid?: number | undefined } {
  return { mode: opts.mode ?? old?.mode ?? 0o644, uid: opts.uid ?? old?.uid, gid: opts.gid ?? old?.gid };
}

/**
 * What the new temp file (its fstat `got`) still needs: a chown when its owner or group is not the wanted one, a
 * chmod when its mode is not (umask, a default ACL or a set-gid directory decided what open(2) gave), and always
 * after a chown, which clears set-uid/set-gid bits.
 */
function metaFixes(
  got: { mode: number; uid: number; gid: number },
  mode: number,
  uid: number | undefined,
  gid: number | undefined,
): { chown: boolean; chmod: boolean } {
  const chown = (uid !== undefined && got.uid !== uid) || (gid !== undefined && got.gid !== gid);
  return { chown, chmod: chown || (got.mode & 0o7777) !== (mode & 0o7777) };
}

/**
 * Writes `data` to `path` atomically (temp file + rename), with the given or the kept mode and owner. A `path`
 * that is not already an entry of a held directory (an `at(...)` of safe-path.ts, checked in this turn) has its parent
 * opened by safe-path.ts first, so that a symlink above it is followed only under the owner rule.
 */
export async function atomicWrite(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  if (isHeldPath(path)) return writeHeld(path, data, opts);
  const entry = openParentSync(path);
  try {
    await writeHeld(entry.at, data, opts);
  } catch (e) {
    throw entry.dir.explain(e);
  } finally {
    entry.dir.release();
  }
}

async function writeHeld(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): Promise<void> {
  const old = needsLookup(opts) ? await existingFileMeta(path) : opts.existing;
  const { mode, uid, gid } = finalMeta(opts, old);

  let tmp = '';
  let fh: FileHandle | undefined;
  for (let attempt = 0; fh === undefined; attempt++) {
    tmp = tempPathFor(path);
    try {
      fh = await open(tmp, CREATE_FLAGS, mode & 0o777);
    } catch (e) {
      if (!isErrno(e, 'EEXIST') || attempt >= MAX_RETRIES) throw e;
    }
  }
  try {
    const fix = metaFixes(await fh.stat(), mode, uid, gid);
    // chown first: it clears set-uid/set-gid bits, which the fchmod below then sets; fchmod also undoes umask.
    if (fix.chown) await fh.chown(uid ?? -1, gid ?? -1);
    if (fix.chmod) await fh.chmod(mode & 0o7777);
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

/**
 * The synchronous twin of `atomicWrite` (same rules, same options), for small content: it blocks the event loop
 * for the duration of the syscalls. A missing directory is an ENOENT that names it; an error from creating the temp file
 * carries the temp path, never `path`.
 */
export function atomicWriteSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  if (isHeldPath(path)) {
    writeHeldSync(path, data, opts);
    return;
  }
  const entry = openParentSync(path);
  try {
    writeHeldSync(entry.at, data, opts);
  } catch (e) {
    throw entry.dir.explain(e);
  } finally {
    entry.dir.release();
  }
}

function writeHeldSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): void {
  const old = needsLookup(opts) ? existingFileMetaSync(path) : opts.existing;
  const { mode, uid, gid } = finalMeta(opts, old);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;

  let tmp = '';
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    tmp = tempPathFor(path);
    try {
      fd = openSync(tmp, CREATE_FLAGS, mode & 0o777);
    } catch (e) {
      if (!isErrno(e, 'EEXIST') || attempt >= MAX_RETRIES) throw e;
    }
  }
  try {
    const fix = metaFixes(fstatSync(fd), mode, uid, gid);
    // chown first: it clears set-uid/set-gid bits, which the fchmod below then sets; fchmod also undoes umask.
    if (fix.chown) fchownSync(fd, uid ?? -1, gid ?? -1);
    if (fix.chmod) fchmodSync(fd, mode & 0o7777);
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    if (opts.fsync) fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    closeSync(closing);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already reporting the first error
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing left to clean up
    }
    throw e;
  }
  if (opts.fsync) fsyncDirSync(dirname(path));
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
      if (!isErrno(e, 'EEXIST') || attempt >= MAX_RETRIES) throw e;
    }
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    forgetChecks(); // the symlink may have replaced a directory on a path safe-path.ts holds
  }
  if (opts.fsync) await fsyncDir(dirname(path));
}

/** The synchronous twin of `atomicSymlink`. */
export function atomicSymlinkSync(target: string, path: string, opts: { fsync?: boolean } = {}): void {
  let tmp = '';
  for (let attempt = 0; ; attempt++) {
    tmp = tempPathFor(path);
    try {
      symlinkSync(target, tmp);
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST') || attempt >= MAX_RETRIES) throw e;
    }
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing left to clean up
    }
    throw e;
  } finally {
    forgetChecks(); // the symlink may have replaced a directory on a path safe-path.ts holds
  }
  if (opts.fsync) fsyncDirSync(dirname(path));
}
