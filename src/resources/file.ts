/**
 * The file resource: a regular file, a directory or a symlink, with its content (inline, or copied from a local
 * source file or directory tree), owner, group and mode. Semantics follow mgmt's file resource; see the `file`
 * section of graph-format-and-engine.md.
 *
 * Safety rules: the path is only ever looked at with lstat, and owner/mode are applied through a descriptor opened
 * with O_NOFOLLOW (or lchown for symlinks), so a symlink the user did not ask for is never followed. Writes go
 * through a temp file and a rename. Nothing is cached between checks: every check reads what is on disk.
 *
 * Synchronous fs calls: the common path (lstat, comparing content, writing content, mode and owner changes,
 * creating files, directories and symlinks, removing a file) uses node:fs's sync calls. Each is a local syscall
 * of a few microseconds, while an fs/promises call adds a round trip through the libuv thread pool that costs
 * about ten times more than the call itself, and a file takes several calls (measured on a 2-core VM, 10,000 x
 * lstat + read of a small file: ~1,000 ms async, ~90 ms sync; 10,000 x create temp + write + rename: ~800 ms
 * async, ~530 ms sync). Content larger than SYNC_MAX_BYTES (1 MiB, known from the lstat size or the wanted
 * content's length) is still read, compared and written through fs/promises, so that a big file never blocks
 * the event loop for long; copying a source directory tree (and purge) and removing a directory with its
 * contents stay async as well. The trade-off: a sync call that hangs (a stuck network filesystem) stops the whole
 * engine, not just this resource, for as long as it hangs.
 *
 * Calls per check, common path: lstat, then for a file whose size matches the wanted content open, fstat, one
 * read, close (the content is always compared: no shortcut on size, times or inode). Creating a file: open of a
 * temp file, fchmod, write, close, rename; the parent directory is only examined (to name it in the error, or to
 * create it with recurse) when that create fails with ENOENT or ENOTDIR.
 *
 * Time slices: sync calls keep the event loop from running, and the watches need it to run. The kernel queues
 * inotify events until libuv reads them, at most fs.inotify.max_queued_events (16,384 by default); it drops the
 * excess, and libuv does not report the overflow. 10,000 files created back to back without a turn of the loop
 * queue ~50,000 events (temp file created, chmod-ed, written and renamed; file renamed to), so most of them would
 * be lost: our own, and any drift made meanwhile. So the sync work runs in slices of SLICE_MS: a check starts at
 * once while the current slice lasts; after that, checks wait in arrival order until the loop has turned (and
 * read the events), which costs one turn of the loop per slice.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  statSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import type { ParamsOf } from './params.js';
import type { Logger } from '../observe/logger.js';
import { defineKind, type Problem } from './resource.js';
import { untilAborted } from '../system/proc/abort.js';
import { atomicSymlink, atomicSymlinkSync, atomicWrite, atomicWriteSync, type AtomicWriteOptions } from '../system/fs/atomic-write.js';
import { applyMode, formatMode, parseMode, type ModeSpec } from '../system/fs/file-mode.js';
import { groupName, resolveGroup, resolveUser, userName } from '../system/tools/ids.js';
import { openPathWatch, type PathWatch, watchPath } from '../system/fs/path-watcher.js';

/** Content up to this size is read, compared and written with sync calls; larger content goes through fs/promises. */
export const SYNC_MAX_BYTES = 1024 * 1024;

/**
 * Time slices for the sync fs work (see the module comment): a check starts at once while the current slice has
 * time left; otherwise it waits, in arrival order, for a later slice, after the event loop has turned.
 */
const SLICE_MS = 10;
let sliceStart = -1; // -1: no slice open
const waiting: Array<() => void> = [];

function openSlice(now: number): void {
  sliceStart = now;
  // Ends in the next check phase. A slice opened in the poll phase ends before the loop polls again, so at most two
  // slices pass back to back before the poll phase reads the inotify events.
  setImmediate(endSlice);
}

function endSlice(): void {
  sliceStart = -1;
  releaseNext();
}

/** Lets the next waiting check go while the slice has time left; runs again after that check's first step. */
function releaseNext(): void {
  const next = waiting[0];
  if (next === undefined) return;
  const now = performance.now();
  if (sliceStart < 0) openSlice(now);
  else if (now - sliceStart >= SLICE_MS) return; // endSlice, already scheduled, goes on
  waiting.shift();
  next();
  queueMicrotask(releaseNext); // queued behind the released check's continuation, so it runs after its sync step
}

/** undefined: go ahead now; a promise: wait for it (resolved in a later slice). */
function fsTurn(): Promise<void> | undefined {
  if (waiting.length === 0) {
    const now = performance.now();
    if (sliceStart < 0) {
      openSlice(now);
      return undefined;
    }
    if (now - sliceStart < SLICE_MS) return undefined;
  }
  return new Promise((resolve) => waiting.push(resolve));
}

const params = {
  path: {
    type: 'string',
    doc: 'Absolute, normalized path to manage; defaults to the resource name, and a trailing `/` means a directory.',
  },
  state: {
    type: 'string',
    enum: ['exists', 'absent', ''],
    emptyIsUnset: true,
    doc: '`exists` creates the path if missing, `absent` removes it; unset leaves existence alone, so the other parameters only apply to a path that already exists.',
  },
  content: {
    type: 'string',
    doc: 'The exact content of the file; unset leaves the content alone, while an empty string makes the file empty.',
  },
  source: {
    type: 'string',
    doc: 'Absolute path of a local file to copy, or of a directory to copy recursively like rsync (the path must end with `/` and `recurse` must be set; copied entries keep the source permission bits); with `symlink`, the link target, which may be relative.',
  },
  owner: { type: 'string', doc: 'The owner, as a user name or a numeric uid; unset keeps the current owner.' },
  group: { type: 'string', doc: 'The group, as a group name or a numeric gid; unset keeps the current group.' },
  mode: {
    type: 'string',
    doc: 'Permissions as an octal string (`"0644"`, `"1777"`) or chmod-style symbolic clauses (`"u=rw,go=r"`, `"a+x"`); unset keeps the current mode, and new files get 0644, new directories 0755.',
  },
  recurse: {
    type: 'boolean',
    default: false,
    doc: 'Create missing parent directories, remove a directory together with its contents when absent, and copy and watch a directory source recursively.',
  },
  force: {
    type: 'boolean',
    default: false,
    doc: 'Allow replacing an object of another type at the path (a regular file, directory or symlink) and removing a directory when absent.',
  },
  replacenondir: {
    type: 'boolean',
    default: false,
    doc: 'Replace a regular file or symlink of another type at the path without `force` (Puppet’s rule); replacing a directory still needs `force`.',
  },
  purge: {
    type: 'boolean',
    default: false,
    doc: 'With a directory `source` and `recurse`, delete entries in the directory that are not in the source.',
  },
  symlink: {
    type: 'boolean',
    default: false,
    doc: 'Make the path a symlink whose target is `source`, written as given (relative targets stay relative).',
  },
} as const;

type FsType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'block device' | 'character device';
type WantType = 'file' | 'directory' | 'symlink';

function typeOf(st: Stats): FsType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice()) return 'block device';
  return 'character device';
}

function describe(t: FsType): string {
  return t === 'file' ? 'a regular file' : `a ${t}`;
}

function isErrno(e: unknown, ...codes: string[]): boolean {
  const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && codes.includes(code);
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

function lstatOrUndefinedSync(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false }); // no Error object built for the common ENOENT
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** The path without its directory-marking trailing slash (what the filesystem calls are given). */
function fsPathOf(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Opens for reading without following a symlink, and without blocking on a FIFO that replaced the file. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Reads a regular file through an O_NOFOLLOW descriptor (never through a symlink); async, for big files. */
async function readRegular(p: string): Promise<Buffer> {
  const fh = await open(p, READ_FLAGS);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${p} is no longer a regular file`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Whether the regular file at `p` (whose lstat is `st`) holds exactly `want`; async, for big files. */
async function sameContent(p: string, st: Stats, want: Buffer): Promise<boolean> {
  if (st.size !== want.length) return false;
  return (await readRegular(p)).equals(want);
}

/**
 * Whether the regular file at `p` holds exactly `want` (at most SYNC_MAX_BYTES), read through an O_NOFOLLOW
 * descriptor: open, fstat, read, close. The read asks for one byte more than wanted, so a file that grew since
 * the fstat shows as different; a short read that reaches the fstat size is the end of the file.
 */
function sameContentSync(p: string, want: Buffer): boolean {
  const fd = openSync(p, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${p} is no longer a regular file`);
    if (st.size !== want.length) return false;
    const buf = Buffer.allocUnsafe(want.length + 1);
    let n = 0;
    let got: number;
    do {
      got = readSync(fd, buf, n, buf.length - n, n);
      n += got;
    } while (got > 0 && n < want.length);
    return n === want.length && buf.subarray(0, n).equals(want);
  } finally {
    closeSync(fd);
  }
}

interface Meta {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/**
 * Applies owner/group/mode without following a symlink: lchown for symlinks (mode does not apply to them),
 * otherwise fchown/fchmod on an O_NOFOLLOW descriptor. Objects that cannot be opened (sockets, unreadable files
 * when not root) fall back to lchown and chmod after an lstat check.
 */
function applyMeta(p: string, type: FsType, meta: Meta): void {
  const owner = meta.uid !== undefined || meta.gid !== undefined;
  if (type === 'symlink') {
    if (owner) lchownSync(p, meta.uid ?? -1, meta.gid ?? -1);
    return;
  }
  let fd: number;
  try {
    fd = openSync(p, READ_FLAGS);
  } catch (e) {
    if (isErrno(e, 'ELOOP')) throw new Error(`${p} was replaced by a symlink meanwhile; not following it`);
    if (!isErrno(e, 'EACCES', 'ENXIO', 'EPERM', 'EOPNOTSUPP')) throw e;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new Error(`${p} was replaced by a symlink meanwhile; not following it`);
    if (owner) lchownSync(p, meta.uid ?? -1, meta.gid ?? -1);
    if (meta.mode !== undefined) chmodSync(p, meta.mode);
    return;
  }
  try {
    if (owner) fchownSync(fd, meta.uid ?? -1, meta.gid ?? -1);
    if (meta.mode !== undefined) fchmodSync(fd, meta.mode);
  } finally {
    closeSync(fd);
  }
}

/** Removes whatever is at `p` (a directory with its contents, async; symlinks themselves, never their targets). */
async function removeAny(p: string, type: FsType): Promise<void> {
  if (type === 'directory') await rm(p, { recursive: true, force: false });
  else unlinkSync(p);
}

/** Writes small content with the sync calls and big content through fs/promises (see the module comment). */
/** Records what a check found and logs it: `done` when applying, `would` under noop. */
class Changes {
  ok = true;
  constructor(
    readonly apply: boolean,
    private readonly log: Logger,
  ) {}

  note(done: string, would: string): void {
    this.ok = false;
    this.log.info(this.apply ? done : would);
  }
}

function validate(name: string, p: FileParams): Problem[] {
  const out: Problem[] = [];
  const path = p.path ?? name;
  const state = p.state === '' ? undefined : p.state;
  const isDirPath = path.endsWith('/');
  if (path === '') {
    out.push({ param: 'path', message: 'path is empty; give an absolute path such as /etc/motd' });
  } else if (!path.startsWith('/')) {
    out.push({ param: 'path', message: `path "${path}" is not absolute; it must start with "/"` });
  } else {
    const normal = posix.normalize(path); // keeps one trailing slash
    if (normal !== path) {
      out.push({ param: 'path', message: `path "${path}" is not normalized (no "//", "/./" or "/../"); write "${normal}"` });
    }
  }
  if (state !== undefined && state !== 'exists' && state !== 'absent') {
    out.push({ param: 'state', message: `state "${state}" is not one of exists, absent (or unset to leave existence alone)` });
  }
  const hasContent = p.content !== undefined;
  const hasSource = p.source !== undefined && p.source !== '';
  if (hasContent && hasSource) {
    out.push({ param: 'content', message: '`content` and `source` are both set; keep only one of them' });
  }
  if (state === 'absent') {
    if (hasContent) out.push({ param: 'content', message: '`content` is set but state is absent; remove `content` or set state: exists' });
    if (hasSource) out.push({ param: 'source', message: '`source` is set but state is absent; remove `source` or set state: exists' });
    for (const k of ['mode', 'owner', 'group'] as const) {
      if (p[k] !== undefined) out.push({ param: k, message: `\`${k}\` cannot apply to an absent file; remove \`${k}\` or set state: exists` });
    }
  }
  if (isDirPath && hasContent) {
    out.push({
      param: 'content',
      message: `path "${path}" ends with "/" (a directory), which cannot take \`content\`; remove the trailing "/" or \`content\``,
    });
  }
  if (p.symlink) {
    if (!hasSource) out.push({ param: 'symlink', message: '`symlink: true` needs `source` (the link target)' });
    if (hasContent) out.push({ param: 'content', message: 'a symlink cannot take `content`; remove `content` or `symlink`' });
    if (isDirPath && path !== '/') {
      out.push({ param: 'path', message: `path "${path}" ends with "/" (a directory) but \`symlink\` is set; remove the trailing "/"` });
    }
  } else if (hasSource && p.source !== undefined) {
    if (!isAbsolute(p.source)) {
      out.push({ param: 'source', message: `source "${p.source}" is not absolute; it must start with "/" (only symlink targets may be relative)` });
    } else if (p.source.endsWith('/') && p.source !== '/' && !isDirPath) {
      out.push({ param: 'source', message: `source "${p.source}" is a directory (trailing "/") but path "${path}" is not; end path with "/" too` });
    }
    if (isDirPath && !p.recurse) {
      out.push({ param: 'recurse', message: 'copying a directory source needs `recurse: true`' });
    }
  }
  if (p.purge) {
    if (!p.recurse) out.push({ param: 'purge', message: '`purge` needs `recurse: true` (and a directory `source`)' });
    if (!hasSource || p.symlink) out.push({ param: 'purge', message: '`purge` needs a directory `source` to compare against; set `source` or remove `purge`' });
    else if (!isDirPath) out.push({ param: 'purge', message: `\`purge\` needs a directory path; end path "${path}" with "/"` });
  }
  if (p.mode !== undefined) {
    const m = parseMode(p.mode);
    if (typeof m === 'string') out.push({ param: 'mode', message: m });
  }
  for (const k of ['owner', 'group'] as const) {
    const v = p[k];
    if (v !== undefined && (v === '' || /[:\s]/.test(v))) {
      out.push({ param: k, message: `${k} "${v}" is not a name or a numeric id` });
    }
  }
  return out;
}

export type FileParams = ParamsOf<typeof params>;

export const fileKind = defineKind({
  kind: 'file',
  doc: 'Manages a regular file, a directory (path ending in `/`) or a symlink: its existence, its content (inline or copied from a local file or directory tree), owner, group and mode. Without `state: exists` it only manages a path that already exists. Changes are written atomically, symlinks are never followed, and the path is watched for drift.',
  params,
  nameParam: 'path',
  refreshable: false,
  validate,
  autoEdges: (name, p) => {
    const path = p.path ?? name;
    return { manages: [path], afterNearestAncestor: [path] };
  },
  create: (name, p, ctx) => {
    const path = p.path ?? name;
    const fsPath = fsPathOf(path);
    /** The watch on fsPath while watching: told about our own atomic renames so that their echo is not a new event. */
    let ownWatch: PathWatch | undefined;
    const isDirPath = path.endsWith('/');
    const state = p.state === '' ? undefined : p.state;
    const recurse = p.recurse === true;
    const force = p.force === true;
    /** Whether an object of type `t` at the path may be replaced by one of another type. */
    const mayReplace = (t: FsType) => force || (p.replacenondir === true && t !== 'directory');
    const isSymlink = p.symlink === true;
    const source = p.source === '' ? undefined : p.source;
    const copySource = isSymlink ? undefined : source;
    const content = p.content === undefined ? undefined : Buffer.from(p.content);
    const parsedMode = p.mode === undefined ? undefined : parseMode(p.mode);

    const wanted: WantType | undefined = isSymlink
      ? 'symlink'
      : isDirPath
        ? 'directory'
        : content !== undefined || copySource !== undefined
          ? 'file'
          : undefined;

    function modeSpec(): ModeSpec | undefined {
      if (typeof parsedMode === 'string') throw new Error(`invalid mode: ${parsedMode}`);
      return parsedMode;
    }

    function checkSource(): Stats | undefined {
      if (copySource === undefined) return undefined;
      let st: Stats;
      try {
        st = statSync(copySource);
      } catch (e) {
        if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new Error(`source ${copySource} does not exist`);
        throw e;
      }
      if (st.isDirectory() && !isDirPath) {
        throw new Error(`source ${copySource} is a directory; end path with "/" and set recurse: true to copy it`);
      }
      if (!st.isDirectory() && isDirPath) {
        throw new Error(`source ${copySource} is not a directory but path "${path}" ends with "/"; remove the trailing "/" to copy a file`);
      }
      if (!st.isDirectory() && !st.isFile()) throw new Error(`source ${copySource} is neither a regular file nor a directory`);
      if (st.isDirectory() && !recurse) throw new Error(`source ${copySource} is a directory; set recurse: true to copy it`);
      return st;
    }

    /**
     * The content of the source file, whose stat is `st`: read with the sync calls when it is small, through
     * fs/promises otherwise. The source may be a symlink (it is followed); O_NONBLOCK and the fstat check keep a
     * FIFO put there meanwhile from blocking the read.
     */
    async function readSource(st: Stats): Promise<Buffer> {
      const src = copySource ?? '';
      if (st.size > SYNC_MAX_BYTES) return readFile(src);
      const fd = openSync(src, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        if (!fstatSync(fd).isFile()) throw new Error(`source ${src} is neither a regular file nor a directory`);
        return readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    }

    /** The source file's content, or empty without a source (callers use `content` first, without an await). */
    async function sourceData(srcStat: Stats | undefined): Promise<Buffer> {
      return srcStat !== undefined && copySource !== undefined ? readSource(srcStat) : Buffer.alloc(0);
    }

    /**
     * After `e` from creating the path: when the parent is missing or not a directory, throws the error that says
     * so, or (with recurse) creates the missing parents and returns true to try again. Returns false when the
     * parent is fine, so that `e` stands. The parent is only examined here, after a failed create.
     */
    function parentProblem(ch: Changes, e: unknown): boolean {
      if (!isErrno(e, 'ENOENT', 'ENOTDIR')) return false;
      const parent = dirname(fsPath);
      let st: Stats | undefined;
      try {
        st = statSync(parent);
      } catch (e2) {
        if (!isErrno(e2, 'ENOENT')) throw e2;
      }
      if (st && !st.isDirectory()) throw new Error(`parent ${parent} is not a directory`);
      if (st) return false;
      if (!recurse) {
        throw new Error(`parent directory ${parent} does not exist; manage it (a file resource with path "${parent}/" and state: exists) or set recurse: true`);
      }
      ch.note(`created parent directories ${parent}`, `would create parent directories ${parent}`);
      mkdirSync(parent, { recursive: true, mode: 0o755 });
      return true;
    }

    /** Runs `create` (which makes fsPath); on a missing parent, see parentProblem. */
    function inParent(ch: Changes, create: () => void): void {
      try {
        create();
      } catch (e) {
        if (!parentProblem(ch, e)) throw e;
        create();
      }
    }

    async function inParentAsync(ch: Changes, create: () => Promise<void>): Promise<void> {
      try {
        await create();
      } catch (e) {
        if (!parentProblem(ch, e)) throw e;
        await create();
      }
    }

    /** Creates the missing path as `type` with its final owner and mode (apply only). */
    async function createPath(
      ch: Changes,
      type: WantType | undefined,
      meta: { uid?: number; gid?: number },
      spec: ModeSpec | undefined,
      srcStat: Stats | undefined,
    ): Promise<string> {
      const owner = meta.uid !== undefined || meta.gid !== undefined;
      if (type === 'symlink') {
        inParent(ch, () => atomicSymlinkSync(source ?? '', fsPath));
        if (owner) lchownSync(fsPath, meta.uid ?? -1, meta.gid ?? -1);
        return `created symlink -> ${source ?? ''}`;
      }
      if (type === 'directory') {
        const mode = spec ? applyMode(spec, 0o755, true) : 0o755;
        inParent(ch, () => mkdirSync(fsPath, { mode: mode & 0o777 }));
        applyMeta(fsPath, 'directory', { ...meta, mode });
        return `created directory (mode ${formatMode(mode)})`;
      }
      const mode = spec ? applyMode(spec, 0o644, false) : 0o644;
      const data = content ?? (await sourceData(srcStat));
      // existing: null, the path was just seen missing: no lstat for the defaults (the owner is `meta`'s, or ours).
      const opts: AtomicWriteOptions = { mode, uid: meta.uid, gid: meta.gid, existing: null };
      if (data.length > SYNC_MAX_BYTES) await inParentAsync(ch, () => atomicWrite(fsPath, data, opts));
      else {
        inParent(ch, () => atomicWriteSync(fsPath, data, opts));
        ownWatch?.expectOwnRename();
      }
      return `created (mode ${formatMode(mode)})`;
    }

    /**
     * Under noop, where nothing is created: reports a missing parent (false: already reported). A parent that is
     * not a directory is an error.
     */
    function checkParentNoop(ch: Changes): boolean {
      const parent = dirname(fsPath);
      let st: Stats | undefined;
      try {
        st = statSync(parent);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
      if (st && !st.isDirectory()) throw new Error(`parent ${parent} is not a directory`);
      if (st) return true;
      if (!recurse) {
        // The parent may well be created by an earlier resource that did not run either.
        ch.note('', `would create ${fsPath}, but its parent directory ${parent} does not exist (yet)`);
        return false;
      }
      ch.note('', `would create parent directories ${parent}`);
      return true;
    }

    async function ensureAbsent(ch: Changes, cur: Stats | undefined): Promise<boolean> {
      if (!cur) return true;
      const type = typeOf(cur);
      if (type === 'directory' && !recurse && !force) {
        throw new Error(`${fsPath} is a directory; set recurse: true (or force: true) to remove it with its contents`);
      }
      ch.note(`removed ${type}`, `would remove ${type}`);
      if (ch.apply) await removeAny(fsPath, type);
      return false;
    }

    /** Copies the directory tree `src` onto `dst` (both existing directories), rsync-like. */
    async function syncTree(ch: Changes, src: string, dst: string, rel: string, signal: AbortSignal): Promise<void> {
      const entries = (await readdir(src)).sort();
      const names = new Set(entries);
      for (const n of entries) {
        if (signal.aborted) throw new Error('aborted while copying the source tree');
        const s = join(src, n);
        const d = join(dst, n);
        const r = rel === '' ? n : `${rel}/${n}`;
        const sst = await lstat(s);
        const stype = typeOf(sst);
        if (stype !== 'file' && stype !== 'directory' && stype !== 'symlink') {
          ctx.log.warn(`skipping ${s}: cannot copy ${describe(stype)}`);
          continue;
        }
        let dst0 = await lstatOrUndefined(d);
        if (dst0 && typeOf(dst0) !== stype) {
          const dtype = typeOf(dst0);
          if (!force) {
            throw new Error(`${d} is ${describe(dtype)} but the source ${s} is ${describe(stype)}; set force: true to replace it`);
          }
          ch.note(`removed ${dtype} ${r} (to replace it with ${describe(stype)})`, `would replace ${dtype} ${r} with ${describe(stype)}`);
          if (!ch.apply) continue;
          await removeAny(d, dtype);
          dst0 = undefined;
        }
        if (stype === 'directory') {
          if (!dst0) {
            ch.note(`created directory ${r}/`, `would create directory ${r}/ and copy its contents`);
            if (!ch.apply) continue;
            await mkdir(d, { mode: sst.mode & 0o777 });
            applyMeta(d, 'directory', { mode: sst.mode & 0o7777 });
          }
          await syncTree(ch, s, d, r, signal);
        } else if (stype === 'symlink') {
          const target = await readlink(s);
          if (!dst0) {
            ch.note(`created symlink ${r} -> ${target}`, `would create symlink ${r} -> ${target}`);
          } else {
            const old = await readlink(d);
            if (old === target) continue;
            ch.note(`symlink ${r} target ${old} -> ${target}`, `would change symlink ${r} target ${old} -> ${target}`);
          }
          if (ch.apply) await atomicSymlink(target, d);
        } else {
          const data = await readRegular(s);
          if (!dst0) {
            ch.note(`created ${r}`, `would create ${r}`);
            if (ch.apply) await atomicWrite(d, data, { mode: sst.mode & 0o7777, existing: null });
          } else if (!(await sameContent(d, dst0, data))) {
            ch.note(`content changed ${r}`, `would change content of ${r}`);
            if (ch.apply) await atomicWrite(d, data, { existing: { mode: dst0.mode & 0o7777, uid: dst0.uid, gid: dst0.gid } });
          }
        }
      }
      if (!p.purge) return;
      for (const n of (await readdir(dst)).sort()) {
        if (names.has(n)) continue;
        const d = join(dst, n);
        const st = await lstatOrUndefined(d);
        if (!st) continue;
        const r = rel === '' ? n : `${rel}/${n}`;
        ch.note(`purged ${typeOf(st)} ${r}`, `would purge ${typeOf(st)} ${r}`);
        if (ch.apply) await removeAny(d, typeOf(st));
      }
    }

    async function checkApply(apply: boolean, signal: AbortSignal): Promise<boolean> {
      const ch = new Changes(apply, ctx.log);
      let cur = lstatOrUndefinedSync(fsPath);
      if (state === 'absent') return ensureAbsent(ch, cur);

      // Resolve everything that can fail before touching anything.
      const spec = modeSpec();
      const uid = p.owner !== undefined ? await resolveUser(p.owner) : undefined;
      const gid = p.group !== undefined ? await resolveGroup(p.group) : undefined;
      const srcStat = checkSource();
      const managesSomething = wanted !== undefined || spec !== undefined || uid !== undefined || gid !== undefined;

      // 1. Existence and type.
      if (cur && wanted && typeOf(cur) !== wanted) {
        const type = typeOf(cur);
        if (!mayReplace(type)) {
          throw new Error(`${fsPath} is ${describe(type)}, not ${describe(wanted)}; set force: true to replace it`);
        }
        ch.note(`removed ${type} (to replace it with ${describe(wanted)})`, `would replace ${type} with ${describe(wanted)}`);
        if (!apply) return false;
        await removeAny(fsPath, type);
        cur = undefined;
      } else if (!cur) {
        if (state !== 'exists') {
          if (!managesSomething) return true;
          throw new Error(
            `${fsPath} does not exist; set state: exists to create it (without it, content, source, owner and mode only apply to an existing path)`,
          );
        }
      }
      if (!cur) {
        if (!apply) {
          if (!checkParentNoop(ch)) return false;
          const what = wanted === 'symlink' ? `symlink -> ${source ?? ''}` : wanted === 'directory' ? 'directory' : 'file';
          ch.note('', `would create ${what}`);
          return false;
        }
        ch.note(await createPath(ch, wanted, { uid, gid }, spec, srcStat), '');
        if (wanted === 'symlink' || copySource === undefined || !srcStat?.isDirectory()) return false;
        // A new directory from a directory source: fill it below.
        cur = lstatSync(fsPath);
      }

      // 2. Content, source or symlink target.
      const type = typeOf(cur);
      let rewritten = false;
      const before = { uid: cur.uid, gid: cur.gid, mode: cur.mode & 0o7777 };
      const targetMode = type === 'symlink' || !spec ? undefined : applyMode(spec, before.mode, type === 'directory');
      if (wanted === 'symlink') {
        const old = readlinkSync(fsPath);
        if (old !== source) {
          ch.note(`symlink target ${old} -> ${source ?? ''}`, `would change symlink target ${old} -> ${source ?? ''}`);
          if (apply) {
            atomicSymlinkSync(source ?? '', fsPath);
            // The new link belongs to us; give it the wanted (or the previous) owner.
            const now = lstatSync(fsPath);
            const wantUid = uid ?? before.uid;
            const wantGid = gid ?? before.gid;
            if (now.uid !== wantUid || now.gid !== wantGid) lchownSync(fsPath, wantUid, wantGid);
            rewritten = true;
          }
        }
      } else if (type === 'file' && (content !== undefined || copySource !== undefined)) {
        const data = content ?? (await sourceData(srcStat));
        // Sizes differ: different content, nothing to read. Same size: the bytes are compared, every time.
        const same = cur.size === data.length && (data.length > SYNC_MAX_BYTES ? await sameContent(fsPath, cur, data) : sameContentSync(fsPath, data));
        if (!same) {
          ch.note('content changed', 'would change content');
          if (apply) {
            const meta = { mode: targetMode ?? before.mode, uid: uid ?? before.uid, gid: gid ?? before.gid };
            if (data.length > SYNC_MAX_BYTES) await atomicWrite(fsPath, data, meta);
            else {
              atomicWriteSync(fsPath, data, meta);
              ownWatch?.expectOwnRename();
            }
            rewritten = true;
          }
        }
      } else if (type === 'directory' && copySource !== undefined) {
        await syncTree(ch, copySource, fsPath, '', signal);
      }

      // 3. Owner and group.
      const ownerChange = uid !== undefined && uid !== before.uid;
      const groupChange = gid !== undefined && gid !== before.gid;
      if (ownerChange) {
        const from = await userName(before.uid);
        const to = await userName(uid);
        ch.note(`owner ${from} -> ${to}`, `would change owner ${from} -> ${to}`);
      }
      if (groupChange) {
        const from = await groupName(before.gid);
        const to = await groupName(gid);
        ch.note(`group ${from} -> ${to}`, `would change group ${from} -> ${to}`);
      }
      // 4. Mode (not for symlinks).
      const modeChange = targetMode !== undefined && targetMode !== before.mode;
      if (modeChange) {
        ch.note(`mode ${formatMode(before.mode)} -> ${formatMode(targetMode)}`, `would change mode ${formatMode(before.mode)} -> ${formatMode(targetMode)}`);
      } else if (spec && type === 'symlink') {
        ctx.log.debug('mode does not apply to a symlink; ignored');
      }
      if (apply && !rewritten && (ownerChange || groupChange || modeChange)) {
        // chown clears set-uid/set-gid bits, so the mode is always re-applied after an owner change (not for symlinks).
        const keepMode = ownerChange || groupChange ? before.mode : undefined;
        applyMeta(fsPath, type, {
          uid: ownerChange ? uid : undefined,
          gid: groupChange ? gid : undefined,
          mode: modeChange ? targetMode : keepMode,
        });
      }
      return ch.ok;
    }

    return {
      async watch(w) {
        const unsubscribe: Array<() => void> = [];
        try {
          const treeWatch = isDirPath && recurse && copySource !== undefined;
          const own = openPathWatch(fsPath, () => w.event(), { recursive: treeWatch });
          ownWatch = own;
          unsubscribe.push(() => {
            if (ownWatch === own) ownWatch = undefined;
            own.close();
          });
          if (copySource !== undefined) unsubscribe.push(watchPath(copySource, () => w.event(), { recursive: recurse }));
          w.event();
          await untilAborted(w.signal);
        } finally {
          for (const u of unsubscribe) u();
        }
      },
      async checkApply(c) {
        const turn = fsTurn();
        if (turn) await turn;
        c.reading?.();
        // Another process may remove or replace the path between two steps of a check (lstat, then open):
        // that is drift racing with the repair, not a failure of this resource, so check again from the start.
        for (let attempt = 1; ; attempt++) {
          try {
            return await checkApply(c.apply, c.signal);
          } catch (e) {
            const vanished = isErrno(e, 'ENOENT', 'ELOOP') && (e as NodeJS.ErrnoException).path === fsPath;
            if (!vanished || attempt >= 5) throw e;
            ctx.log.debug(`${fsPath} changed during the check; checking again`);
          }
        }
      },
    };
  },
});
