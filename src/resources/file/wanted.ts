/** What a file resource wants, read once from its parameters when the resource is created. */
import { parseMode, type ModeSpec } from '../../system/fs/file-mode.js';
import type { FsType } from '../../system/fs/fs-entry.js';
import { nameGlob, type NameGlob } from '../../system/formats/name-glob.js';
import type { FileParams } from './params.js';

/** The types a file resource can make: a regular file, a directory (path ending in `/`) or a symlink. */
export type WantedType = 'file' | 'directory' | 'symlink';

export interface WantedFile {
  /** The path as written; a trailing `/` marks a directory. */
  readonly path: string;
  /** The path without its directory-marking trailing slash (what the filesystem calls are given). */
  readonly fsPath: string;
  readonly isDirPath: boolean;
  /** `exists`, `absent`, or undefined to leave existence alone. */
  readonly state: string | undefined;
  /** The type the path must have, or undefined when only owner and mode of what is there are managed. */
  readonly type: WantedType | undefined;
  /** The wanted content (inline `content`), or undefined. */
  readonly content: Buffer | undefined;
  /** The symlink target, or the file or directory to copy. */
  readonly source: string | undefined;
  /** The file or directory to copy (`source`, unless it is a symlink target). */
  readonly copySource: string | undefined;
  readonly owner: string | undefined;
  readonly group: string | undefined;
  /** The parsed mode, or the parse error. */
  readonly mode: ModeSpec | string | undefined;
  readonly recurse: boolean;
  readonly force: boolean;
  readonly replacenondir: boolean;
  readonly purge: boolean;
  /** Purge without a source: the ignore patterns, the depth limit and the entry bound (see params.ts). */
  readonly ignore: readonly NameGlob[];
  readonly recurselimit: number | undefined;
  readonly maxfiles: number;
}

export function wantedFile(p: FileParams): WantedFile {
  const path = p.path;
  const isDirPath = path.endsWith('/');
  const isSymlink = p.symlink;
  const source = p.source;
  const copySource = isSymlink ? undefined : source;
  // An absent file has no content: `content` beside `state: absent` is ignored (validation warns).
  const content = p.content === undefined || p.state === 'absent' ? undefined : Buffer.from(p.content);
  return {
    path,
    fsPath: path.length > 1 && isDirPath ? path.slice(0, -1) : path,
    isDirPath,
    state: p.state,
    type: isSymlink ? 'symlink' : isDirPath ? 'directory' : content !== undefined || copySource !== undefined ? 'file' : undefined,
    content,
    source,
    copySource,
    owner: p.owner,
    group: p.group,
    mode: p.mode === undefined ? undefined : parseMode(p.mode),
    recurse: p.recurse,
    force: p.force,
    replacenondir: p.replacenondir,
    purge: p.purge,
    ignore: (p.ignore ?? []).map(nameGlob),
    recurselimit: p.recurselimit,
    maxfiles: p.maxfiles,
  };
}

/** Whether an object of type `t` at the path may be replaced by one of another type. */
export function mayReplace(w: WantedFile, t: FsType): boolean {
  return w.force || (w.replacenondir && t !== 'directory');
}

/** The mode to apply, or undefined to keep the current one; an invalid mode is an error. */
export function modeSpec(w: WantedFile): ModeSpec | undefined {
  if (typeof w.mode === 'string') throw new Error(`invalid mode: ${w.mode}`);
  return w.mode;
}
