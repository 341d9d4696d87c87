/**
 * Temp files of ours left behind by a crash (`kill -9` or a power loss in the middle of an atomic write): they are
 * recognisable by their name, `.<base>.mgmt-<pid>-<12 hex digits>` (atomic-write.ts; before the writer's PID was in
 * the name, `.<base>.mgmt-<12 hex digits>`), and are removed from a directory the first time this process opens it
 * for writing (safe-path.ts calls `sweepStaleTemps`).
 *
 * Only ours, and only stale ones: the name must match, the entry must be a regular file or a symlink (never
 * followed: lstat and unlink of the entry itself) owned by our effective uid, and its writer must be gone: the PID
 * in its name is not a running process, or (our own PID, reused, or no PID in the name) it is older than this
 * process. A temp file of another mgmt process that is still running is left alone.
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { isErrno } from '../../observe/errors.js';

/** `.<base>.mgmt-[<pid>-]<12 hex>`. */
const TEMP_NAME = /^\..*\.mgmt-(?:(\d{1,10})-)?[0-9a-f]{12}$/s;

/** When this process started (ms since the epoch). */
const PROCESS_START_MS = Date.now() - performance.now();

const swept = new Set<string>();

/** Whether `name` is one of our temp names. */
export function isOurTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return !isErrno(e, 'ESRCH');
  }
}

/**
 * Removes our stale temp files from the directory held by `fd` (whose stat is `st`), once per directory per
 * process; returns the names removed. Errors (a directory we cannot list) are not fatal: nothing is removed.
 */
export function sweepStaleTemps(fd: number, st: { readonly dev: number; readonly ino: number }): string[] {
  const key = `${st.dev}:${st.ino}`;
  if (swept.has(key)) return [];
  swept.add(key);
  let names: string[];
  try {
    names = readdirSync(`/proc/self/fd/${fd}`);
  } catch {
    return [];
  }
  const uid = process.geteuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const at = `/proc/self/fd/${fd}/${name}`;
    try {
      const lst = lstatSync(at, { throwIfNoEntry: false });
      if (!lst || lst.uid !== uid || !(lst.isFile() || lst.isSymbolicLink())) continue;
      const pid = m[1] === undefined ? undefined : Number(m[1]);
      const stale = pid !== undefined && pid !== process.pid ? !alive(pid) : lst.mtimeMs < PROCESS_START_MS;
      if (!stale) continue;
      unlinkSync(at);
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** For tests: forget which directories were swept. */
export function forgetSweptDirs(): void {
  swept.clear();
}
