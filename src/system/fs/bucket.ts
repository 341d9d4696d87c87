/**
 * The backup bucket: a local, content-addressed store of the files mgmt replaced or removed (Puppet's clientbucket,
 * kept under the state directory), so that nothing we overwrite is lost. `mgmt bucket` lists and restores it.
 *
 * Layout, in `<prefix>/bucket/` (0700, owned by the user mgmt runs as, never a symlink):
 *   <sha256>         the content, 0600: one copy per distinct content (a second backup of it only marks it recent)
 *   <sha256>.paths   0600, one JSON line per backup: when, which path, its mode, owner and size, whether sensitive
 * Every call goes through the directory's descriptor (`/proc/self/fd/<fd>/<name>`); contents are written to a temp
 * file and renamed (atomic-write.ts), so a reader never sees half an object; `.paths` lines are appended with
 * O_APPEND in one write each (whole lines, whoever writes at the same time).
 *
 * Bounded: a file bigger than `maxFileBytes` is not kept (the caller is told); objects older than `maxAgeDays` and,
 * oldest first, those over `maxTotalBytes` are pruned (at the first backup of a process, then at most every 10
 * minutes, and by `mgmt bucket prune`). A pruner checks an object's time again just before removing it, so a
 * backup made meanwhile is kept.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lutimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { isErrno } from '../../observe/errors.js';
import { atomicWriteSync } from './atomic-write.js';
import { sha256Hex } from './checksum.js';
import { fdPath, openParentSync } from './safe-path.js';
import { sweepStaleTemps } from './stale-temps.js';

export interface BucketLimits {
  /** A file bigger than this is not kept. */
  readonly maxFileBytes: number;
  /** Objects beyond this total are pruned, oldest first. */
  readonly maxTotalBytes: number;
  /** Objects not backed up again for this long are pruned. */
  readonly maxAgeDays: number;
}

export const DEFAULT_BUCKET_LIMITS: BucketLimits = { maxFileBytes: 64 * 2 ** 20, maxTotalBytes: 2 ** 30, maxAgeDays: 90 };

/** One backup: a content (by checksum) that was at `path` at `time`. */
export interface BucketEntry {
  readonly checksum: string;
  readonly time: string;
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** The content came from a resource with Sensitive content: listings show no checksum. */
  readonly sensitive: boolean;
}

/** What a backup records besides the content. */
export interface BackupOf {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly sensitive: boolean;
}

/** The bucket directory cannot be used safely (a symlink, another owner); the message says what to do. */
export class UnsafeBucketError extends Error {
  override readonly name = 'UnsafeBucketError';
}

const SHA256 = /^[0-9a-f]{64}$/;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
const LINE_MAX = 8192;

export class Bucket {
  private fd: number | undefined;
  private lastPrune = 0;

  /** The bucket directory (`<prefix>/bucket`), absolute. */
  readonly dir: string;

  constructor(
    dir: string,
    readonly limits: BucketLimits = DEFAULT_BUCKET_LIMITS,
  ) {
    this.dir = resolve(dir);
  }

  /**
   * Keeps `data` (the content that was at `of.path`) and indexes it; returns its checksum, or undefined when it is
   * over the size limit (not kept). Prunes now and then. The two steps apart: keepContent, then index.
   */
  store(data: Uint8Array, of: BackupOf, now = new Date()): string | undefined {
    const checksum = this.keepContent(data, now);
    if (checksum !== undefined) this.index(checksum, data.length, of, now);
    return checksum;
  }

  /**
   * The first step of a backup, made before the file changes: the content is in the bucket when this returns (a
   * new object is written; one already there is marked recent, so that no pruner removes it from now on). Returns
   * its checksum, or undefined when it is over the size limit (not kept).
   */
  keepContent(data: Uint8Array, now = new Date()): string | undefined {
    if (data.length > this.limits.maxFileBytes) return undefined;
    const checksum = sha256Hex(data);
    const at = this.at(checksum);
    const st = lstatIfThere(at);
    if (st?.isFile() && st.size === data.length) touch(at, now);
    else atomicWriteSync(at, data, { mode: 0o600, existing: null });
    return checksum;
  }

  /**
   * The second step, which may follow the change: the index line of a backup (when, which path, its mode, owner and
   * size) that `list`, `find` and `restore` go by; prunes at the first backup of a process, then at most every 10
   * minutes.
   */
  index(checksum: string, size: number, of: BackupOf, now = new Date()): void {
    const line: BucketEntry = {
      checksum,
      time: now.toISOString(),
      path: of.path,
      size,
      mode: of.mode,
      uid: of.uid,
      gid: of.gid,
      sensitive: of.sensitive,
    };
    appendLine(this.at(`${checksum}.paths`), JSON.stringify(line));
    if (now.getTime() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      this.prune(now);
    }
  }

  /** Every backup, oldest first. */
  list(): BucketEntry[] {
    const out: BucketEntry[] = [];
    for (const name of this.names()) {
      if (!name.endsWith('.paths') || !SHA256.test(name.slice(0, -6))) continue;
      const checksum = name.slice(0, -6);
      if (!lstatIfThere(this.at(checksum))?.isFile()) continue;
      for (const line of readFileSync(this.at(name), 'utf8').split('\n')) {
        const e = parseEntry(line, checksum);
        if (e) out.push(e);
      }
    }
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.path < b.path ? -1 : 1));
  }

  /**
   * The backup `key` names: a checksum (`sha256:` optional; its latest backup), or an absolute path (the latest
   * backup of that path). Undefined when there is none.
   */
  find(key: string): BucketEntry | undefined {
    const sum = key.startsWith('sha256:') ? key.slice(7) : key;
    const all = this.list();
    const hits = SHA256.test(sum) ? all.filter((e) => e.checksum === sum) : all.filter((e) => e.path === key);
    return hits[hits.length - 1];
  }

  /** The content of a backup, checked against its checksum. */
  content(checksum: string): Buffer {
    if (!SHA256.test(checksum)) throw new Error(`${checksum} is not a sha256 checksum`);
    const fd = openSync(this.at(checksum), constants.O_RDONLY | constants.O_NOFOLLOW);
    let data: Buffer;
    try {
      data = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
    if (sha256Hex(data) !== checksum) {
      throw new Error(`the bucket's copy of ${checksum} is damaged (its content no longer matches its checksum); it cannot be restored`);
    }
    return data;
  }

  /**
   * Removes objects not backed up for `maxAgeDays`, then the oldest until the total fits `maxTotalBytes` (pass
   * other limits to prune harder); returns what was removed.
   */
  prune(now = new Date(), limits: BucketLimits = this.limits): { removed: number; bytes: number; kept: number; keptBytes: number } {
    const objects: { name: string; size: number; mtimeMs: number }[] = [];
    for (const name of this.names()) {
      if (!SHA256.test(name)) continue;
      const st = lstatIfThere(this.at(name));
      if (st?.isFile()) objects.push({ name, size: st.size, mtimeMs: st.mtimeMs });
    }
    objects.sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = objects.reduce((n, o) => n + o.size, 0);
    const cutoff = now.getTime() - limits.maxAgeDays * 86_400_000;
    let removed = 0;
    let bytes = 0;
    for (const o of objects) {
      if (o.mtimeMs >= cutoff && total <= limits.maxTotalBytes) break;
      // Backed up again since the listing: keep it.
      if (lstatIfThere(this.at(o.name))?.mtimeMs !== o.mtimeMs) continue;
      unlinkIfThere(this.at(o.name));
      unlinkIfThere(this.at(`${o.name}.paths`));
      total -= o.size;
      removed++;
      bytes += o.size;
    }
    return { removed, bytes, kept: objects.length - removed, keptBytes: total };
  }

  /**
   * Writes the backup `e` to `path` atomically (through its safely opened parent; a symlink there is replaced,
   * never followed): with `mode` (and, as root, `uid`/`gid`) when given, else the recorded ones. What was at
   * `path`, if it is a regular file with other content, is backed up first. Returns the checksum of that backup.
   */
  restore(e: BucketEntry, path: string, meta: { mode: number; uid?: number; gid?: number } = { mode: e.mode, uid: e.uid, gid: e.gid }): string | undefined {
    const data = this.content(e.checksum);
    const entry = openParentSync(path);
    try {
      let kept: string | undefined;
      const cur = lstatIfThere(entry.at);
      if (cur?.isFile()) {
        const fd = openSync(entry.at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        let old: Buffer;
        try {
          old = readFileSync(fd);
        } finally {
          closeSync(fd);
        }
        if (!old.equals(data)) kept = this.store(old, { path, mode: cur.mode & 0o7777, uid: cur.uid, gid: cur.gid, sensitive: e.sensitive });
      }
      const root = process.geteuid?.() === 0;
      atomicWriteSync(entry.at, data, { mode: meta.mode & 0o7777, existing: null, ...(root ? { uid: meta.uid, gid: meta.gid } : {}) });
      return kept;
    } catch (err) {
      throw entry.dir.explain(err);
    } finally {
      entry.dir.release();
    }
  }

  /** Closes the directory. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private names(): string[] {
    return readdirSync(fdPath(this.open()));
  }

  private at(name: string): string {
    return fdPath(this.open(), name);
  }

  /**
   * Opens (creating it, 0700) the bucket directory: its parent through the symlink-safe walk, the directory itself
   * with O_NOFOLLOW; it must belong to the user we run as, and loses any group or other permission bits.
   */
  private open(): number {
    if (this.fd !== undefined) return this.fd;
    const parent = openParentSync(this.dir, { mkdirMode: 0o700 });
    let fd: number;
    try {
      try {
        mkdirSync(parent.at, { mode: 0o700 });
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw parent.dir.explain(e);
      }
      try {
        fd = openSync(parent.at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      } catch (e) {
        if (isErrno(e, 'ELOOP', 'ENOTDIR')) {
          throw new UnsafeBucketError(
            `refusing the backup bucket ${this.dir}: it is not a directory (a symlink or a file); remove it, and mgmt creates a private one`,
          );
        }
        throw parent.dir.explain(e);
      }
    } finally {
      parent.dir.release();
    }
    const st = fstatSync(fd);
    const me = process.geteuid?.() ?? st.uid;
    if (st.uid !== me) {
      closeSync(fd);
      throw new UnsafeBucketError(
        `refusing the backup bucket ${this.dir}: it belongs to uid ${st.uid}, not to uid ${me} that mgmt runs as; remove it or give it to uid ${me}`,
      );
    }
    if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o700);
    sweepStaleTemps(fd, st);
    this.fd = fd;
    return fd;
  }
}

function lstatIfThere(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

function unlinkIfThere(p: string): void {
  try {
    unlinkSync(p);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}

/** Marks an object as backed up now (its mtime is its age); a symlink put in its place is changed itself, never followed. */
function touch(p: string, now: Date): void {
  lutimesSync(p, now, now);
}

/** Appends one line with one write (O_APPEND: whole lines whoever writes at the same time). */
function appendLine(p: string, line: string): void {
  const data = Buffer.from(`${line.length > LINE_MAX ? line.slice(0, LINE_MAX) : line}\n`);
  const fd = openSync(p, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

function parseEntry(line: string, checksum: string): BucketEntry | undefined {
  if (line.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined; // a line cut by the length bound, or damaged: skipped
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.path !== 'string' || typeof o.time !== 'string') return undefined;
  const num = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? x : 0);
  return { checksum, time: o.time, path: o.path, size: num(o.size), mode: num(o.mode), uid: num(o.uid), gid: num(o.gid), sensitive: o.sensitive === true };
}
