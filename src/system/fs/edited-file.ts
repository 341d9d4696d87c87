/**
 * A text file that a resource edits in place (a line, an INI setting): read it, and write the edited bytes back
 * atomically (temp file + rename) with the mode, owner and group it had. Like Puppet's file_line and ini_setting,
 * a symlink at the path is followed: the file it points to is edited, and the link stays. The path is resolved by
 * system/fs/safe-path.ts (openEditedSync): symlinks on the way and at the path are followed only under the owner
 * rule (an unprivileged user's link must lead to what that user owns), and the file is read and written through
 * its parent directory's descriptor.
 */
import { constants, realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { atomicWrite, type FileMeta } from './atomic-write.js';
import { untilAborted } from '../proc/abort.js';
import { watchPath } from './path-watcher.js';
import { isErrno } from '../../observe/errors.js';
import { openEditedSync } from './safe-path.js';

export interface EditedFile {
  /** The path given. */
  readonly path: string;
  /** The file that is read and written: `path` with a symlink at it resolved (`path` itself when missing). */
  readonly real: string;
  /** The content; undefined when there is no file. */
  readonly data?: Buffer;
  /** Mode, owner and group of the existing file. */
  readonly meta?: FileMeta;
}

/** Reads the file at `path`; throws an actionable Error when the path is something else than a regular file. */
export async function readEdited(path: string): Promise<EditedFile> {
  let opened;
  try {
    opened = openEditedSync(path);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return { path, real: path }; // a directory on the way is missing
    throw e;
  }
  const { entry, real } = opened;
  try {
    let fh;
    try {
      fh = await open(entry.at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return { path, real };
      if (isErrno(e, 'ELOOP')) throw new Error(`${real} was replaced by a symlink meanwhile; check again`);
      throw entry.dir.explain(e);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${path}${real !== path ? ` (${real})` : ''} is not a regular file`);
      const data = await fh.readFile();
      return { path, real, data, meta: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } };
    } finally {
      await fh.close();
    }
  } finally {
    entry.dir.release();
  }
}

/**
 * Replaces the file's content atomically, keeping its mode and owner; a new file gets mode 0644 and our owner.
 * The path is resolved again (under the same rule), and the write goes through the parent's descriptor.
 */
export async function writeEdited(file: EditedFile, data: Buffer): Promise<void> {
  let opened;
  try {
    opened = openEditedSync(file.path, { sweep: true });
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    throw new Error(
      `cannot create ${file.real}: its directory ${dirname(file.real)} does not exist; manage it (a file resource with a path ending in "/" and state: exists) or create it`,
    );
  }
  const { entry } = opened;
  try {
    await atomicWrite(entry.at, data, file.meta ? { existing: file.meta } : { mode: 0o644, existing: null });
  } catch (e) {
    throw entry.dir.explain(e);
  } finally {
    entry.dir.release();
  }
}

/**
 * Watches `path` and, when it is a symlink, the file it leads to: an edit of the target changes nothing at `path`
 * itself. `follow` moves the second watch when the link is found to lead elsewhere.
 */
export class EditedFileWatch {
  private readonly stopPath: () => void;
  private target: { readonly real: string; readonly stop: () => void } | undefined;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
  ) {
    this.stopPath = watchPath(path, onChange);
    try {
      this.follow(realpathSync(path));
    } catch {
      // missing: nothing to follow yet
    }
  }

  follow(real: string): void {
    if (real === (this.target?.real ?? this.path)) return;
    this.target?.stop();
    this.target = real === this.path ? undefined : { real, stop: watchPath(real, this.onChange) };
  }

  close(): void {
    this.target?.stop();
    this.target = undefined;
    this.stopPath();
  }
}

/**
 * A resource's watch of the file it edits: `run` watches until the signal aborts (reporting once at once, then on
 * every change); `follow` tells the running watch where a check found the symlink to lead.
 */
export class EditedFileWatching {
  private live: EditedFileWatch | undefined;

  constructor(private readonly path: string) {}

  async run(w: { readonly signal: AbortSignal; event(): void }): Promise<void> {
    const live = new EditedFileWatch(this.path, () => w.event());
    this.live = live;
    try {
      w.event();
      await untilAborted(w.signal);
    } finally {
      live.close();
      if (this.live === live) this.live = undefined;
    }
  }

  follow(real: string): void {
    this.live?.follow(real);
  }
}
