/**
 * The parent directory of a path to create. It is only examined when it matters: under noop before saying what
 * would be created, and when applying after a create failed with ENOENT or ENOTDIR (so the common create costs no
 * extra call).
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { isErrno } from '../../observe/errors.js';
import type { Changes } from './changes.js';

/**
 * Checks the parent of `fsPath`: a parent that is not a directory is an error. A missing one is created with
 * `recurse` (under noop: reported as what would be created) and is otherwise an error when applying; under noop
 * it is reported, since an earlier resource that did not run either may well be the one to create it.
 * Returns `present` (the parent is a directory), `created` (missing, and created or reported as such), or
 * `missing` (under noop without recurse: reported).
 */
export function ensureParent(ch: Changes, fsPath: string, recurse: boolean): 'present' | 'created' | 'missing' {
  const parent = dirname(fsPath);
  let st: Stats | undefined;
  try {
    st = statSync(parent);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  if (st && !st.isDirectory()) throw new Error(`parent ${parent} is not a directory`);
  if (st) return 'present';
  if (!recurse) {
    if (ch.apply) {
      throw new Error(`parent directory ${parent} does not exist; manage it (a file resource with path "${parent}/" and state: exists) or set recurse: true`);
    }
    ch.note('', `would create ${fsPath}, but its parent directory ${parent} does not exist (yet)`);
    return 'missing';
  }
  ch.note(`created parent directories ${parent}`, `would create parent directories ${parent}`);
  if (ch.apply) mkdirSync(parent, { recursive: true, mode: 0o755 });
  return 'created';
}

/** After `e` from creating `fsPath`: whether the parent was missing and is now created, so the create may be tried again. */
function parentCreated(ch: Changes, fsPath: string, recurse: boolean, e: unknown): boolean {
  return isErrno(e, 'ENOENT', 'ENOTDIR') && ensureParent(ch, fsPath, recurse) === 'created';
}

/** Runs `create` (which makes `fsPath`); when it fails for want of a parent, see ensureParent, then once again. */
export function createInParent(ch: Changes, fsPath: string, recurse: boolean, create: () => void): void {
  try {
    create();
  } catch (e) {
    if (!parentCreated(ch, fsPath, recurse, e)) throw e;
    create();
  }
}

/** createInParent for an async `create`. */
export async function createInParentAsync(ch: Changes, fsPath: string, recurse: boolean, create: () => Promise<void>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (!parentCreated(ch, fsPath, recurse, e)) throw e;
    await create();
  }
}
