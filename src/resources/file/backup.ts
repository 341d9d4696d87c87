/**
 * Keeping what a file resource replaces or removes (`backup`): the previous content of a regular file goes to the
 * backup bucket (system/fs/bucket.ts, Puppet's clientbucket), or next to the file under a suffix (`.bak`), before
 * the file is rewritten or removed (the bucket's index line follows the change: keep-previous.ts). A backup that
 * fails stops the change (as Puppet's "Could not back up; will not remove"); a file over the bucket's size limit
 * is changed with a warning and no backup. Symlinks and directories themselves are not kept (a directory's files
 * are, one by one).
 */
import type { Stats } from 'node:fs';
import type { Logger } from '../../observe/logger.js';
import { atomicWrite, atomicWriteSync, type AtomicWriteOptions } from '../../system/fs/atomic-write.js';
import type { Bucket } from '../../system/fs/bucket.js';
import { readRegular, readRegularSync } from '../../system/fs/no-follow.js';
import { SYNC_MAX_BYTES } from '../../system/fs/sync-slices.js';
import { keepPrevious } from '../keep-previous.js';

export class Backup {
  constructor(
    /** `bucket`, `false`, or a suffix starting with `.` (params.ts). */
    private readonly how: string,
    private readonly bucket: (() => Bucket) | undefined,
    private readonly log: Logger,
    /** The resource's content is Sensitive: the checksum of what it replaces is not printed either. */
    private readonly sensitive: boolean,
  ) {}

  /** Whether anything is kept at all (no read of the old content otherwise). */
  get active(): boolean {
    return this.how.startsWith('.') || (this.how === 'bucket' && this.bucket !== undefined);
  }

  /**
   * Keeps the regular file at `at` (its lstat `st`; `shown` is its path) before it changes; sync, for small files.
   * `read`: its content, when the caller has just read it (readRegularSync); otherwise it is read here.
   */
  keepSync(at: string, st: Stats, shown: string, read?: Buffer): void {
    if (!this.active || !st.isFile()) return;
    if (st.size > SYNC_MAX_BYTES) throw new Error('internal: keepSync on a big file');
    const data = read ?? readRegularSync(at);
    if (this.how.startsWith('.')) atomicWriteSync(`${at}${this.how}`, data, this.copyMeta(st));
    this.record(data, st, shown);
  }

  /** keepSync for any size (async reads and writes). */
  async keep(at: string, st: Stats, shown: string): Promise<void> {
    if (!this.active || !st.isFile()) return;
    if (st.size <= SYNC_MAX_BYTES) {
      this.keepSync(at, st, shown);
      return;
    }
    const data = await readRegular(at);
    if (this.how.startsWith('.')) await atomicWrite(`${at}${this.how}`, data, this.copyMeta(st));
    this.record(data, st, shown);
  }

  /** The copy's mode, and its owner when we may give it (as root). */
  private copyMeta(st: Stats): AtomicWriteOptions {
    const root = process.geteuid?.() === 0;
    return root ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, existing: null } : { mode: st.mode & 0o7777, existing: null };
  }

  private record(data: Buffer, st: Stats, shown: string): void {
    if (this.how.startsWith('.')) {
      this.log.info(`kept the previous content of ${shown} as ${shown}${this.how}`);
      return;
    }
    keepPrevious(this.bucket!(), this.log, data, { path: shown, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, sensitive: this.sensitive });
  }
}
