/**
 * Copying a directory tree onto another, rsync-like: regular files (content compared, written atomically with the
 * source's permission bits when new), directories and symlinks (targets copied as written); with purge, entries
 * of the destination that the source lacks are removed. Async throughout: a tree can be big.
 *
 * The destination is never followed through a symlink: each destination directory is opened with O_NOFOLLOW and
 * held while its entries are copied, and every call on an entry goes through that descriptor
 * (`/proc/self/fd/<fd>/<name>`), so a directory swapped for a symlink meanwhile cannot redirect a write.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, readlink, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicSymlink, atomicWrite } from './atomic-write.js';
import { type BeforeFileRemoved, describeType, lstatOrUndefined, removeEntry, typeOf } from './fs-entry.js';
import { applyOwnerMode, readRegular, sameContent } from './no-follow.js';
import { sweepStaleTemps } from './stale-temps.js';

/** Where the copy reports each difference it finds, and whether it may repair it. */
export interface ChangeNotes {
  /** false: only report what would change. */
  readonly apply: boolean;
  /** One difference: `done` says what was changed (when applying), `would` what would be (otherwise). */
  note(done: string, would: string): void;
}

export interface TreeCopyOptions {
  readonly changes: ChangeNotes;
  /** Replace an entry of another type than the source's. */
  readonly force: boolean;
  /** Remove entries the source does not have. */
  readonly purge: boolean;
  readonly signal: AbortSignal;
  /** Told about source entries that cannot be copied (FIFOs, sockets, devices), which are skipped. */
  warn(message: string): void;
  /** Called before a regular file of the copy is rewritten or removed (a backup of its content). */
  readonly beforeReplace?: BeforeFileRemoved | undefined;
  /** The destination's real path, for `beforeReplace` (default: its path as given). */
  readonly shown?: string;
}

/**
 * Copies the directory tree `src` onto `dst` (both existing directories; `dst` itself is not followed if it is a
 * symlink: ELOOP); `rel` is `dst`'s path in the messages.
 */
export async function copyTree(src: string, dst: string, opts: TreeCopyOptions, rel = ''): Promise<void> {
  const dh = await open(dst, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (opts.changes.apply) sweepStaleTemps(dh.fd, await dh.stat());
    await copyInto(src, `/proc/self/fd/${dh.fd}`, { ...opts, shown: opts.shown ?? dst }, rel);
  } finally {
    await dh.close();
  }
}

async function copyInto(src: string, dst: string, opts: TreeCopyOptions, rel: string): Promise<void> {
  const ch = opts.changes;
  const entries = (await readdir(src)).sort();
  const names = new Set(entries);
  for (const n of entries) {
    if (opts.signal.aborted) throw new Error('aborted while copying the source tree');
    const s = join(src, n);
    const d = join(dst, n);
    const r = rel === '' ? n : `${rel}/${n}`;
    const sst = await lstat(s);
    const stype = typeOf(sst);
    if (stype !== 'file' && stype !== 'directory' && stype !== 'symlink') {
      opts.warn(`skipping ${s}: cannot copy ${describeType(stype)}`);
      continue;
    }
    let dst0 = await lstatOrUndefined(d);
    if (dst0 && typeOf(dst0) !== stype) {
      const dtype = typeOf(dst0);
      if (!opts.force) {
        throw new Error(`${r} (in the copy) is ${describeType(dtype)} but the source ${s} is ${describeType(stype)}; set force: true to replace it`);
      }
      ch.note(`removed ${dtype} ${r} (to replace it with ${describeType(stype)})`, `would replace ${dtype} ${r} with ${describeType(stype)}`);
      if (!ch.apply) continue;
      if (dst0.isFile()) await opts.beforeReplace?.(d, dst0, shownOf(opts, r));
      await removeEntry(d, dtype, opts.beforeReplace, shownOf(opts, r));
      dst0 = undefined;
    }
    if (stype === 'directory') {
      if (!dst0) {
        ch.note(`created directory ${r}/`, `would create directory ${r}/ and copy its contents`);
        if (!ch.apply) continue;
        await mkdir(d, { mode: sst.mode & 0o777 });
        applyOwnerMode(d, 'directory', { mode: sst.mode & 0o7777 });
      }
      await copyTree(s, d, opts, r);
    } else if (stype === 'symlink') {
      const target = await readlink(s);
      if (!dst0) {
        ch.note(`created symlink ${r} -> ${target}`, `would create symlink ${r} -> ${target}`);
      } else {
        const old = await readlink(d);
        if (old === target) continue;
        ch.note(`symlink ${r} target ${old} -> ${target}`, `would change symlink ${r} target ${old} -> ${target}`);
      }
      if (ch.apply) await atomicSymlink(target, d);
    } else {
      const data = await readRegular(s);
      if (!dst0) {
        ch.note(`created ${r}`, `would create ${r}`);
        if (ch.apply) await atomicWrite(d, data, { mode: sst.mode & 0o7777, existing: null });
      } else if (!(await sameContent(d, dst0, data))) {
        ch.note(`content changed ${r}`, `would change content of ${r}`);
        if (ch.apply) await opts.beforeReplace?.(d, dst0, shownOf(opts, r));
        if (ch.apply) await atomicWrite(d, data, { existing: { mode: dst0.mode & 0o7777, uid: dst0.uid, gid: dst0.gid } });
      }
    }
  }
  if (!opts.purge) return;
  for (const n of (await readdir(dst)).sort()) {
    if (names.has(n)) continue;
    const d = join(dst, n);
    const st = await lstatOrUndefined(d);
    if (!st) continue;
    const r = rel === '' ? n : `${rel}/${n}`;
    ch.note(`purged ${typeOf(st)} ${r}`, `would purge ${typeOf(st)} ${r}`);
    if (!ch.apply) continue;
    if (st.isFile()) await opts.beforeReplace?.(d, st, shownOf(opts, r));
    await removeEntry(d, typeOf(st), opts.beforeReplace, shownOf(opts, r));
  }
}

/** The real path of `rel` below the copy's destination, for backups. */
function shownOf(opts: TreeCopyOptions, rel: string): string {
  return `${opts.shown ?? ''}/${rel}`;
}
