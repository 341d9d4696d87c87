/**
 * Has anything at these paths changed since a moment? The catch-up for a watch set up after its paths were read:
 * a change made between the read and the watch sent no event, so it is looked for here, by time stamp.
 *
 * A path changed when its change or modification time is at or after `sinceMs` (a directory's also moves when an
 * entry is added, removed or renamed), or when it is gone. With `recursive`, every entry below a directory counts
 * too, as the recursive watch would have reported it. A symlink at a watched path counts as itself and as what it
 * leads to; below a directory, symbolic links are not followed.
 *
 * File time stamps come from the kernel's coarse clock, which lags the real time by up to one tick (1-10 ms), so a
 * change up to SLACK_MS before `sinceMs` also counts: a false "changed" costs one needless read of the source; a
 * false "unchanged" would lose a change.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const SLACK_MS = 20;

export interface WatchedPath {
  readonly path: string;
  readonly recursive?: boolean;
}

export async function changedSince(paths: readonly WatchedPath[], sinceMs: number): Promise<boolean> {
  const since = sinceMs - SLACK_MS;
  const changed = (st: { mtimeMs: number; ctimeMs: number }) => st.mtimeMs >= since || st.ctimeMs >= since;
  const below = async (dir: string): Promise<boolean> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return true; // gone or replaced meanwhile
    }
    for (const name of names) {
      const p = join(dir, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st || changed(st)) return true;
      if (st.isDirectory() && (await below(p))) return true;
    }
    return false;
  };
  for (const w of paths) {
    // The path itself (a symlink re-pointed is a new link), then what it leads to (a file written through it).
    const link = await lstat(w.path).catch(() => undefined);
    if (!link || changed(link)) return true;
    const st = link.isSymbolicLink() ? await stat(w.path).catch(() => undefined) : link;
    if (!st || changed(st)) return true;
    if (w.recursive && st.isDirectory() && (await below(w.path))) return true;
  }
  return false;
}
