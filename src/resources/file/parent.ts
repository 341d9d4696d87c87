/**
 * Where a file resource works: the parent directory of its path, opened safely (system/fs/safe-path.ts: symlinks
 * on the way are followed only under the owner rule) and held for the whole check, so that every call on the path
 * goes through the parent's descriptor (`place.at`) and a parent swapped for a symlink meanwhile cannot redirect it.
 * A missing parent is only examined when it matters: under noop before saying what would be created, and when
 * applying before a create.
 */
import { isErrno } from '../../observe/errors.js';
import { openParentIfExists, openParentSync, type SafeEntry } from '../../system/fs/safe-path.js';
import type { Changes } from './changes.js';

export class Place {
  private entry: SafeEntry | undefined;

  /** Opens the parent of `fsPath` when it exists; `sweep`: remove stale temp files of ours there (when applying). */
  constructor(
    readonly fsPath: string,
    private readonly sweep: boolean,
  ) {
    this.entry = notADirectory(() => openParentIfExists(fsPath, { sweep }));
  }

  /** Whether the parent directory exists (was opened). */
  get hasParent(): boolean {
    return this.entry !== undefined;
  }

  /** The path itself, through the parent's descriptor; the parent must exist. */
  get at(): string {
    if (!this.entry) {
      const e: NodeJS.ErrnoException = new Error(`the parent directory of ${this.fsPath} does not exist`);
      e.code = 'ENOENT';
      e.path = this.fsPath;
      throw e;
    }
    return this.entry.at;
  }

  /**
   * Checks that the parent exists before a create: a missing one is created with `recurse` (under noop: reported
   * as what would be created) and is otherwise an error when applying; under noop it is reported, since an
   * earlier resource that did not run either may well be the one to create it. Returns `present`, `created`
   * (missing, and created or reported as such), or `missing` (under noop without recurse: reported).
   */
  ensureParent(ch: Changes, recurse: boolean): 'present' | 'created' | 'missing' {
    if (this.entry) return 'present';
    const parent = this.fsPath.slice(0, this.fsPath.lastIndexOf('/')) || '/';
    if (!recurse) {
      if (ch.apply) {
        throw new Error(`parent directory ${parent} does not exist; manage it (a file resource with path "${parent}/" and state: exists) or set recurse: true`);
      }
      ch.note('', `would create ${this.fsPath}, but its parent directory ${parent} does not exist (yet)`);
      return 'missing';
    }
    ch.note(`created parent directories ${parent}`, `would create parent directories ${parent}`);
    if (ch.apply) this.entry = notADirectory(() => openParentSync(this.fsPath, { sweep: this.sweep, mkdirMode: 0o755 }));
    return 'created';
  }

  /** An error from a call on `at`, naming the real path. */
  explain<E>(e: E): E {
    return this.entry ? this.entry.dir.explain(e) : e;
  }

  release(): void {
    this.entry?.dir.release();
    this.entry = undefined;
  }
}

/** Runs `open`; a directory on the way that is something else is named as the parent it was to be. */
function notADirectory<T>(open: () => T): T {
  try {
    return open();
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) throw new Error(`parent ${(e as NodeJS.ErrnoException).path ?? ''} is not a directory`);
    throw e;
  }
}

/** Whether `e` says the path (not its parent) vanished or became a symlink during a check. */
export function vanished(e: unknown, fsPath: string): boolean {
  return isErrno(e, 'ENOENT', 'ELOOP') && (e as NodeJS.ErrnoException).path === fsPath;
}
