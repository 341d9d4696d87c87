/**
 * Purging a directory tree: removing the entries below a directory that the caller's rules call unmanaged, down to
 * a depth limit, as Puppet's File `purge` does without a `source`. A directory is removed whole only with `force`;
 * without it, it stays and its own entries are examined (down to the limit). A symlink is an entry like any other
 * (removed itself, never followed), and so are FIFOs, sockets and devices.
 *
 * Never through a symlink: the tree is opened with O_NOFOLLOW from the directory given (a `/proc/self/fd/...`
 * path of a safely opened parent), each subdirectory through its parent's descriptor, and every call on an entry
 * goes through `/proc/self/fd/<fd>/<name>`; a directory swapped for a symlink meanwhile fails to open (ELOOP)
 * instead of leading elsewhere.
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { isErrno } from '../../observe/errors.js';
import { anyGlobMatches, type NameGlob } from '../formats/name-glob.js';
import { type BeforeFileRemoved, describeType, lstatOrUndefined, removeEntry, typeOf } from './fs-entry.js';
import { isOurTempName } from './stale-temps.js';
import type { ChangeNotes } from './tree-copy.js';

/**
 * What the caller's rules say of an entry (by its path relative to the purged directory): `skip` leaves it and
 * what is below it alone (another resource manages it); `descend` keeps it but examines its entries (a directory
 * with managed paths below it); `free` makes it unmanaged: purged.
 */
export type EntryRule = 'skip' | 'descend' | 'free';

export interface PurgeOptions {
  readonly changes: ChangeNotes;
  /** The purged directory's real path, for messages. */
  readonly shown: string;
  /** Entries whose name one of these matches are left alone, and not descended into. */
  readonly ignore: readonly NameGlob[];
  /** How deep to look: 1 is the directory's own entries; undefined: no limit. */
  readonly limit: number | undefined;
  /** Remove unmanaged directories with their contents (otherwise they stay and their entries are examined). */
  readonly force: boolean;
  readonly signal: AbortSignal;
  rule(rel: string): EntryRule;
  /** Called before each regular file is removed, also inside a directory removed whole (a backup of its content). */
  readonly beforeRemove?: BeforeFileRemoved | undefined;
  /** Told about a directory kept because `force` is not set. */
  kept?(rel: string): void;
}

/** Purges below the directory `dir` (not followed if it is a symlink); returns how many entries were examined. */
export async function purgeTree(dir: string, opts: PurgeOptions): Promise<number> {
  const dh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    return await purgeInto(`/proc/self/fd/${dh.fd}`, '', 1, opts);
  } finally {
    await dh.close();
  }
}

async function purgeInto(at: string, rel: string, depth: number, opts: PurgeOptions): Promise<number> {
  const ch = opts.changes;
  let seen = 0;
  for (const name of (await readdir(at)).sort()) {
    if (opts.signal.aborted) throw new Error('aborted while purging');
    // A temp file of ours is a write in flight (a managed file being replaced) or a stale one that the sweep removes.
    if (anyGlobMatches(opts.ignore, name) || isOurTempName(name)) continue;
    const r = rel === '' ? name : `${rel}/${name}`;
    const p = `${at}/${name}`;
    const st = await lstatOrUndefined(p);
    if (!st) continue;
    seen++;
    const rule = opts.rule(r);
    if (rule === 'skip') continue;
    const type = typeOf(st);
    if (type !== 'directory') {
      ch.note(`purged ${type} ${r}`, `would purge ${type} ${r}`);
      if (!ch.apply) continue;
      if (type === 'file') await opts.beforeRemove?.(p, st, `${opts.shown}/${r}`);
      await unlinkIfThere(p, `${opts.shown}/${r}`);
      continue;
    }
    if (rule === 'free' && opts.force) {
      ch.note(`purged directory ${r}/ with its contents`, `would purge directory ${r}/ with its contents`);
      if (ch.apply) await removeIfThere(p, type, opts.beforeRemove, `${opts.shown}/${r}`);
      continue;
    }
    if (rule === 'free') opts.kept?.(r);
    if (opts.limit !== undefined && depth >= opts.limit) continue;
    seen += await withDir(p, `${opts.shown}/${r}`, (sub) => purgeInto(sub, r, depth + 1, opts));
  }
  return seen;
}

/**
 * Counts the entries below `dir` as Puppet's recursion does (not ignored, down to `limit`, symlinks not followed),
 * stopping once the count passes `stopAfter`: a bound on what a check may cost before it refuses the tree.
 */
export async function countTree(dir: string, shown: string, ignore: readonly NameGlob[], limit: number | undefined, stopAfter: number): Promise<number> {
  const dh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    let n = 0;
    const walk = async (at: string, rel: string, depth: number): Promise<void> => {
      for (const d of await readdir(at, { withFileTypes: true })) {
        if (n > stopAfter) return;
        if (anyGlobMatches(ignore, d.name) || isOurTempName(d.name)) continue;
        n++;
        const r = `${rel}/${d.name}`;
        if (d.isDirectory() && (limit === undefined || depth < limit)) await withDir(`${at}/${d.name}`, r, (sub) => walk(sub, r, depth + 1).then(() => 0));
      }
    };
    await walk(`/proc/self/fd/${dh.fd}`, shown, 1);
    return n;
  } finally {
    await dh.close();
  }
}

/** Runs `use` on the directory at `p` opened without following a symlink; a directory gone meanwhile is skipped. */
async function withDir(p: string, shown: string, use: (at: string) => Promise<number>): Promise<number> {
  let dh;
  try {
    dh = await open(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return 0;
    if (isErrno(e, 'ELOOP', 'ENOTDIR'))
      throw new Error(`${shown} is no longer a directory (replaced during the purge); it is examined again at the next check`);
    throw e;
  }
  try {
    return await use(`/proc/self/fd/${dh.fd}`);
  } finally {
    await dh.close();
  }
}

async function unlinkIfThere(p: string, shown: string): Promise<void> {
  const st = await lstatOrUndefined(p);
  if (!st) return;
  if (st.isDirectory()) throw new Error(`${shown} became ${describeType('directory')} during the purge; it is examined again at the next check`);
  await removeIfThere(p, typeOf(st), undefined, shown);
}

async function removeIfThere(p: string, type: ReturnType<typeof typeOf>, beforeFile?: BeforeFileRemoved, shown = p): Promise<void> {
  try {
    await removeEntry(p, type, beforeFile, shown);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}
