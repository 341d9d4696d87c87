/** Creating a missing path as what the resource wants, with its final owner and mode from the start. */
import { lchownSync, mkdirSync, type Stats } from 'node:fs';
import { atomicSymlinkSync, atomicWrite, atomicWriteSync, type AtomicWriteOptions } from '../../system/fs/atomic-write.js';
import { applyMode, formatMode, type ModeSpec } from '../../system/fs/file-mode.js';
import { applyOwnerMode } from '../../system/fs/no-follow.js';
import { SYNC_MAX_BYTES } from '../../system/fs/sync-slices.js';
import type { Changes } from './changes.js';
import { createInParent, createInParentAsync } from './parent.js';
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

/** Creates the missing path (apply only) and returns what it did, for the log. */
export async function createPath(ch: Changes, w: WantedFile, o: CreateOptions): Promise<string> {
  const owner = o.uid !== undefined || o.gid !== undefined;
  const inParent = (create: () => void) => createInParent(ch, w.fsPath, w.recurse, create);
  if (w.type === 'symlink') {
    inParent(() => atomicSymlinkSync(w.source ?? '', w.fsPath));
    if (owner) lchownSync(w.fsPath, o.uid ?? -1, o.gid ?? -1);
    return `created symlink -> ${w.source ?? ''}`;
  }
  if (w.type === 'directory') {
    const mode = o.spec ? applyMode(o.spec, 0o755, true) : 0o755;
    inParent(() => mkdirSync(w.fsPath, { mode: mode & 0o777 }));
    applyOwnerMode(w.fsPath, 'directory', { uid: o.uid, gid: o.gid, mode });
    return `created directory (mode ${formatMode(mode)})`;
  }
  const mode = o.spec ? applyMode(o.spec, 0o644, false) : 0o644;
  const data = w.content ?? (await sourceData(w, o.srcStat));
  // existing: null, the path was just seen missing: no lstat for the defaults (the owner is `o`'s, or ours).
  const opts: AtomicWriteOptions = { mode, uid: o.uid, gid: o.gid, existing: null };
  if (data.length > SYNC_MAX_BYTES) await createInParentAsync(ch, w.fsPath, w.recurse, () => atomicWrite(w.fsPath, data, opts));
  else {
    inParent(() => atomicWriteSync(w.fsPath, data, opts));
    o.expectOwnRename();
  }
  return `created (mode ${formatMode(mode)})`;
}
