/** Creating a missing path as what the resource wants, with its final owner and mode from the start. */
import { lchownSync, mkdirSync, type Stats } from 'node:fs';
import { atomicSymlinkSync, atomicWrite, atomicWriteSync, type AtomicWriteOptions } from '../../system/fs/atomic-write.js';
import { applyMode, formatMode, type ModeSpec } from '../../system/fs/file-mode.js';
import { applyOwnerMode } from '../../system/fs/no-follow.js';
import { SYNC_MAX_BYTES } from '../../system/fs/sync-slices.js';
import type { Changes } from './changes.js';
import type { Place } from './parent.js';
import { sourceData } from './source.js';
import type { WantedFile } from './wanted.js';

export interface CreateOptions {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** The wanted mode, applied to the default for new paths (0644 for files, 0755 for directories). */
  readonly spec: ModeSpec | undefined;
  /** The stat of the source to copy, when there is one. */
  readonly srcStat: Stats | undefined;
  /** Called after a sync atomic rename of our own, so that the watch does not take its echo for drift. */
  expectOwnRename(): void;
}

/** Creates the missing path (apply only) in its parent (created first with recurse) and returns what it did, for the log. */
export async function createPath(ch: Changes, w: WantedFile, place: Place, o: CreateOptions): Promise<string> {
  const owner = o.uid !== undefined || o.gid !== undefined;
  place.ensureParent(ch, w.recurse);
  const at = place.at;
  if (w.type === 'symlink') {
    atomicSymlinkSync(w.source ?? '', at);
    if (owner) lchownSync(at, o.uid ?? -1, o.gid ?? -1);
    return `created symlink -> ${w.source ?? ''}`;
  }
  if (w.type === 'directory') {
    const mode = o.spec ? applyMode(o.spec, 0o755, true) : 0o755;
    mkdirSync(at, { mode: mode & 0o777 });
    applyOwnerMode(at, 'directory', { uid: o.uid, gid: o.gid, mode });
    return `created directory (mode ${formatMode(mode)})`;
  }
  const mode = o.spec ? applyMode(o.spec, 0o644, false) : 0o644;
  const data = w.content ?? (await sourceData(w, o.srcStat));
  // existing: null, the path was just seen missing: no lstat for the defaults (the owner is `o`'s, or ours).
  const opts: AtomicWriteOptions = { mode, uid: o.uid, gid: o.gid, existing: null };
  if (data.length > SYNC_MAX_BYTES) await atomicWrite(at, data, opts);
  else {
    atomicWriteSync(at, data, opts);
    o.expectOwnRename();
  }
  return `created (mode ${formatMode(mode)})`;
}
