/**
 * Symlink-safe paths: every kind that writes files reaches the directory it writes in through this module, so that
 * a symlink an unprivileged user put above a managed path cannot make us write elsewhere.
 *
 * The rule (the one systemd applies when it resolves paths "safely"), checked at each symlink on the way:
 * - a symlink is followed out of a directory only when root or the link's owner owns that directory;
 * - a symlink root owns may lead anywhere (`/var/www -> /srv/www` keeps working);
 * - a symlink an unprivileged user owns may only lead to what that same user owns: the directory (or, for an
 *   edited file, the file) it resolves to must be theirs. So alice's `/home/alice/www -> /etc` is refused, and
 *   `/home/alice/.ssh/authorized_keys` through alice's own directories keeps working.
 * Plain directory steps are not checked: without a symlink, a name in a directory can only lead to a directory
 * someone could move there, and moving a directory to another parent needs write permission on it.
 *
 * How it cannot race: Node has no openat(2), but a descriptor's `/proc/self/fd/<fd>` path resolves to the very
 * directory the descriptor holds, wherever it has been moved since. The walk opens the path one component at a
 * time through the previous component's descriptor (O_PATH|O_DIRECTORY|O_NOFOLLOW), reads a symlink with readlink
 * through the same descriptor, and checks owners with fstat/lstat of what it holds. The caller then makes every
 * call (temp file, rename, mkdir, chmod, unlink...) through `<held dir>/name`: a parent swapped for a symlink after
 * the walk (rename, renameat2 RENAME_EXCHANGE) cannot redirect it; the write lands in the directory that was
 * checked, or fails.
 *
 * The fast case: when no symlink is on the way and every step of the path is one only root or we can change (each
 * directory on the way is root's or ours, and no one else may write it, or it is sticky as /tmp is and the next step
 * is root's or ours: `safeStep`), no one else can redirect the path, and `at(name)` may name entries by the plain
 * path: the kernel then resolves `/srv/www/f`, not `/proc/self/fd/N/f`, whose walk through /proc costs ~1 µs more
 * per call (~4 calls per file written; ~3% of a 10,000-file apply). That trust is checked again by lstat of every
 * step (`stillTrusted`) in each turn of the event loop that uses the directory a second time: a batch (an apply of
 * many files there) then names its entries by path for the rest of the turn, while a turn that uses the directory
 * once (one file repaired after drift) goes through the descriptor and saves the walk. When a step changed (a chmod,
 * a chown, a swap), the path is walked again, and from then on its entries go through the descriptor.
 *
 * Cost: the directories held are cached by path (at most CACHE_MAX, least recently used first out), and a cached
 * one is used only when `stat(path)` (one syscall, resolved by the kernel) still leads to the same inode; otherwise
 * the path is walked again. That stat is made once per turn of the event loop for each directory (an apply of 1,000
 * files in one directory, made in a few synchronous slices, stats it a few times, not 1,000), and again at once after
 * our own code removed an entry or put a symlink in place (`forgetChecks`, called by fs-entry.ts and atomic-write.ts),
 * which may be a directory on a cached path. A stale entry could at worst make us write into the directory that was
 * checked at its walk, never somewhere a walk would have refused.
 *
 * Temp files of ours (see atomic-write.ts) that a crash left behind are removed from a directory the first time this
 * process opens it for writing (`sweep`); see stale-temps.ts.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isErrno } from '../../observe/errors.js';
import { sweepStaleTemps } from './stale-temps.js';

/** Linux's O_PATH (not in node:fs constants): a descriptor that only names a place, needing no read permission. */
const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Symlinks followed in one resolution before giving up, as the kernel does (ELOOP). */
const MAX_FOLLOWS = 40;
const CACHE_MAX = 256;

/** A symlink on the way breaks the owner rule; the message says which and what to do. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly code = 'EUNSAFE';
}

/** The path is a symlink that leads to nothing (openEditedSync). */
export class DanglingLinkError extends Error {
  override readonly name = 'DanglingLinkError';
}

/** The path of an entry in the directory held by `fd`, resolved through that descriptor. */
export function fdPath(fd: number, name?: string): string {
  return name === undefined || name === '' ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

function errnoError(code: string, message: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  e.path = path;
  return e;
}

let rootFd: number | undefined;
function root(): number {
  rootFd ??= openSync('/', DIR_FLAGS);
  return rootFd;
}

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}

function join(shown: string, c: string): string {
  return shown.endsWith('/') ? shown + c : `${shown}/${c}`;
}

function uidText(uid: number): string {
  return uid === 0 ? 'root' : `uid ${uid}`;
}

/** The follow count shared by one resolution and the symlinks it meets. */
interface Walk {
  follows: number;
  /** Create missing directories with this mode (mkdir -p), or undefined to fail with ENOENT. */
  readonly mkdirMode: number | undefined;
  /** No step so far could be changed by anyone but root or us (`safeStep`), and no symlink was followed. */
  trusted: boolean;
}

/**
 * Opens the directory reached by `rel` from the directory held by `start` (which stays open), following symlinks
 * under the rule; returns a new O_PATH descriptor. `shown` is `start`'s path, for messages.
 */
function walk(start: number, rel: string, shown: string, w: Walk): number {
  let cur = openSync(fdPath(start, '.'), DIR_FLAGS); // '.': O_NOFOLLOW would stop at the magic link itself
  try {
    let curSt = w.trusted ? fstatSync(cur) : undefined;
    for (const c of components(rel)) {
      const next = fdPath(cur, c);
      const here = join(shown, c);
      let fd: number;
      try {
        fd = openSync(next, DIR_FLAGS);
      } catch (e) {
        if (isErrno(e, 'ENOENT') && w.mkdirMode !== undefined) {
          try {
            mkdirSync(next, { mode: w.mkdirMode });
          } catch (m) {
            if (!isErrno(m, 'EEXIST')) throw m;
          }
          fd = openDirStep(cur, c, here, w);
        } else if (isErrno(e, 'ENOENT')) {
          throw errnoError('ENOENT', `${here} does not exist`, here);
        } else if (isErrno(e, 'ELOOP', 'ENOTDIR')) {
          w.trusted = false;
          fd = followStep(cur, c, here, w);
        } else throw e;
      }
      if (w.trusted && curSt !== undefined) {
        const st = fstatSync(fd);
        if (safeStep(curSt, st)) curSt = st;
        else {
          w.trusted = false;
          curSt = undefined;
        }
      }
      closeSync(cur);
      cur = fd;
      shown = here;
    }
    return cur;
  } catch (e) {
    closeSync(cur);
    throw e;
  }
}

/** Opens `c` in `dir` after a mkdir: a directory, or a symlink put there meanwhile (followed under the rule). */
function openDirStep(dir: number, c: string, here: string, w: Walk): number {
  try {
    return openSync(fdPath(dir, c), DIR_FLAGS);
  } catch (e) {
    if (isErrno(e, 'ELOOP', 'ENOTDIR')) {
      w.trusted = false;
      return followStep(dir, c, here, w);
    }
    throw e;
  }
}

const EUID = process.geteuid?.() ?? 0;
const S_ISVTX = 0o1000;

/**
 * Whether only root or we can change what the name of `child` in `parent` leads to: `parent` is root's or ours,
 * and no one else may write it, or it is sticky (as /tmp) and `child` is root's or ours (in a sticky directory
 * only an entry's owner may rename or remove it).
 */
function safeStep(parent: Stats, child: Stats): boolean {
  const ours = (uid: number) => uid === 0 || uid === EUID;
  return ours(parent.uid) && ((parent.mode & 0o022) === 0 || ((parent.mode & S_ISVTX) !== 0 && ours(child.uid)));
}

/** `c` in `dir` is no directory we can open without following: a symlink (followed under the rule) or an error. */
function followStep(dir: number, c: string, here: string, w: Walk): number {
  const link = lstatSync(fdPath(dir, c));
  if (!link.isSymbolicLink()) throw errnoError('ENOTDIR', `${here} is not a directory`, here);
  const target = readlinkSync(fdPath(dir, c));
  checkLinkInDir(fstatSync(dir), link, here, target);
  if (++w.follows > MAX_FOLLOWS) throw errnoError('ELOOP', `${here}: too many levels of symbolic links`, here);
  const fd = target.startsWith('/') ? walk(root(), target, '/', w) : walk(dir, target, dirname(here), w);
  try {
    checkLinkTarget(link, fstatSync(fd), here, target);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** A symlink is followed out of a directory only when root or the link's owner owns that directory. */
function checkLinkInDir(dir: Stats, link: Stats, here: string, target: string): void {
  if (dir.uid === 0 || dir.uid === link.uid) return;
  throw new UnsafePathError(
    `refusing to follow the symlink ${here} -> ${target}: it belongs to ${uidText(link.uid)} but its directory to ${uidText(dir.uid)}, who could have swapped it; replace the link with a real directory or have its directory's owner own it`,
  );
}

/** A symlink an unprivileged user owns may only lead to what that user owns. */
function checkLinkTarget(link: Stats, reached: Stats, here: string, target: string): void {
  if (link.uid === 0 || reached.uid === link.uid) return;
  throw new UnsafePathError(
    `refusing to follow the symlink ${here} -> ${target}: it belongs to ${uidText(link.uid)}, who may only lead us to what ${uidText(link.uid)} owns, and ${target} belongs to ${uidText(reached.uid)}; point the path at the real location, or make root own the link`,
  );
}

/** A directory held open, reached safely; `at(name)` names an entry in it through the descriptor. */
export interface SafeDir {
  /** The directory's path as given (for messages). */
  readonly path: string;
  readonly fd: number;
  /** `/proc/self/fd/<fd>/<name>`: every call on an entry goes through this. */
  at(name: string): string;
  /** Rewrites an error from a call on `at(...)` to name the real path (message and `path`), and returns it. */
  explain<E>(e: E): E;
  /** Done with it (the descriptor stays cached for the next caller). */
  release(): void;
}

interface Held {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Every step of the path is one only root or we can change (see the module comment): entries are named by path. */
  readonly trusted: boolean;
  refs: number;
  dropped: boolean;
  /** Stale temp files were swept (see stale-temps.ts). */
  swept: boolean;
}

const cache = new Map<string, Held>();

/**
 * How a cached directory was checked in this turn of the event loop (see the module comment): `fd`, its path stat'ed
 * (entries go through the descriptor); `path`, every step lstat'ed and trusted (entries by plain path).
 */
type Checked = 'fd' | 'path';
let checked = new Map<Held, Checked>();
let clearing = false;

function markChecked(h: Held, how: Checked): void {
  checked.set(h, how);
  if (clearing) return;
  clearing = true;
  setImmediate(forgetChecks).unref();
}

/**
 * Makes the next use of every cached directory stat its path again: called after our own code removed an entry or
 * replaced one with a symlink, which may have changed where a cached path leads.
 */
export function forgetChecks(): void {
  checked = new Map();
  clearing = false;
}

function drop(path: string, h: Held): void {
  if (cache.get(path) === h) cache.delete(path);
  checked.delete(h);
  h.dropped = true;
  if (h.refs === 0) closeSync(h.fd);
}

function handle(path: string, h: Held, byPath: boolean): SafeDir {
  h.refs++;
  const prefix = fdPath(h.fd);
  let released = false;
  return {
    path,
    fd: h.fd,
    at: byPath ? (name) => (name === '' ? path : join(path, name)) : (name) => fdPath(h.fd, name),
    explain<E>(e: E): E {
      if (e instanceof Error) {
        const shown = path === '/' ? '' : path;
        if (e.message.includes(prefix)) e.message = e.message.split(prefix).join(shown);
        const err = e as NodeJS.ErrnoException;
        if (typeof err.path === 'string' && err.path.startsWith(prefix)) err.path = shown + err.path.slice(prefix.length);
        const withDest = e as { dest?: unknown };
        if (typeof withDest.dest === 'string' && withDest.dest.startsWith(prefix)) withDest.dest = shown + withDest.dest.slice(prefix.length);
      }
      return e;
    },
    release() {
      if (released) return;
      released = true;
      h.refs--;
      if (h.dropped && h.refs === 0) closeSync(h.fd);
    },
  };
}

/**
 * The directory at `dir` if every step to it is still one only root or we can change (lstat of each, no symlink),
 * else undefined: the caller then walks the path again.
 */
function stillTrusted(dir: string): Stats | undefined {
  let parent = lstatSync('/');
  let p = '';
  for (const c of components(dir)) {
    p += `/${c}`;
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory() || !safeStep(parent, st)) return undefined;
    parent = st;
  }
  return parent;
}

/**
 * Whether the cached `h` may still be used for `dir` in this turn, and how its entries are named; undefined when the
 * path must be walked again. The first use in a turn stats the path (the same directory?) and names entries through
 * the descriptor; a second use in the same turn of a trusted one lstats every step (`stillTrusted`) and, when they
 * still hold, names entries by path for the rest of the turn.
 */
function recheck(dir: string, h: Held): Checked | undefined {
  const how = checked.get(h);
  if (how === 'path' || (how === 'fd' && !h.trusted)) return how;
  try {
    const st = how === 'fd' ? stillTrusted(dir) : statSync(dir, { throwIfNoEntry: false });
    if (st?.dev !== h.dev || st.ino !== h.ino) return undefined;
  } catch {
    return undefined;
  }
  const now: Checked = how === 'fd' ? 'path' : 'fd';
  markChecked(h, now);
  return now;
}

/**
 * Whether `path` names an entry of a directory held here, checked in this turn of the event loop (an `at(...)` of
 * a SafeDir): a `/proc/self/fd/...` path, or an entry of a trusted directory. Calls on it need no new walk.
 */
export function isHeldPath(path: string): boolean {
  if (path.startsWith('/proc/self/fd/')) return true;
  const h = cache.get(dirname(path));
  return h !== undefined && checked.get(h) === 'path';
}

export interface OpenDirOptions {
  /** Remove stale temp files of ours there the first time this process opens the directory (when applying). */
  readonly sweep?: boolean;
  /** Create missing directories on the way with this mode (mkdir -p). */
  readonly mkdirMode?: number;
}

/**
 * Opens the directory `dir` (absolute), following symlinks on the way under the owner rule. Throws an error with
 * code ENOENT (a component is missing), ENOTDIR, ELOOP, or an UnsafePathError.
 */
export function openDirSync(dir: string, opts: OpenDirOptions = {}): SafeDir {
  const cached = cache.get(dir);
  if (cached) {
    const how = recheck(dir, cached);
    if (how !== undefined) {
      cache.delete(dir); // most recently used last
      cache.set(dir, cached);
      if (opts.sweep && !cached.swept) {
        sweepStaleTemps(cached.fd, cached);
        cached.swept = true;
      }
      return handle(dir, cached, how === 'path');
    }
    drop(dir, cached);
  }
  const w: Walk = { follows: 0, mkdirMode: opts.mkdirMode, trusted: true };
  const fd = walk(root(), dir, '/', w);
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const h: Held = { fd, dev: st.dev, ino: st.ino, trusted: w.trusted, refs: 0, dropped: false, swept: opts.sweep === true };
  cache.set(dir, h);
  markChecked(h, w.trusted ? 'path' : 'fd');
  if (cache.size > CACHE_MAX) {
    const [oldPath, old] = cache.entries().next().value!;
    drop(oldPath, old);
  }
  if (opts.sweep) sweepStaleTemps(fd, st);
  return handle(dir, h, w.trusted);
}

/** An entry (the last component of a path) in its safely opened parent. */
export interface SafeEntry {
  readonly dir: SafeDir;
  readonly name: string;
  /** The entry's path through the parent's descriptor. */
  readonly at: string;
}

/** Opens the parent of `path` (see openDirSync); `/` is its own parent. Release it with `entry.dir.release()`. */
export function openParentSync(path: string, opts: OpenDirOptions = {}): SafeEntry {
  if (path === '/') {
    const dir = openDirSync('/', opts);
    return { dir, name: '', at: '/' };
  }
  const dir = openDirSync(dirname(path), opts);
  const name = basename(path);
  return { dir, name, at: dir.at(name) };
}

/** openParentSync, or undefined when the parent (or a directory above it) does not exist. */
export function openParentIfExists(path: string, opts: OpenDirOptions = {}): SafeEntry | undefined {
  try {
    return openParentSync(path, opts);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/**
 * For a file edited in place (line, ini), which follows a symlink at its path as Puppet does: the file the path
 * leads to, under the same rule (a link is followed out of a directory its owner or root owns, and a link an
 * unprivileged user owns must lead to a file that user owns). Returns the entry to read and write (the path's own
 * entry when it is not a symlink, or when it is missing) and its path for messages. Release `entry.dir`.
 */
export function openEditedSync(path: string, opts: OpenDirOptions = {}): { entry: SafeEntry; real: string } {
  let entry = openParentSync(path, opts);
  let real = path;
  const w: Walk = { follows: 0, mkdirMode: undefined, trusted: false };
  try {
    for (;;) {
      let link: Stats | undefined;
      try {
        link = lstatSync(entry.at);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return { entry, real };
        throw entry.dir.explain(e);
      }
      if (!link.isSymbolicLink()) {
        return { entry, real };
      }
      const target = readlinkSync(entry.at);
      checkLinkInDir(fstatSync(entry.dir.fd), link, real, target);
      if (++w.follows > MAX_FOLLOWS) throw errnoError('ELOOP', `${real}: too many levels of symbolic links`, real);
      const next = target.startsWith('/') ? target : join(dirname(real), target);
      const parentFd = target.startsWith('/') ? walk(root(), dirname(target), '/', w) : walk(entry.dir.fd, dirname(target), entry.dir.path, w);
      const h: Held = { fd: parentFd, dev: 0, ino: 0, trusted: false, refs: 0, dropped: true, swept: false }; // not cached: closed on release
      if (opts.sweep) sweepStaleTemps(parentFd, fstatSync(parentFd));
      const name = basename(target);
      const nextEntry: SafeEntry = { dir: handle(dirname(next), h, false), name, at: fdPath(parentFd, name) };
      try {
        const reached = lstatSync(nextEntry.at, { throwIfNoEntry: false });
        if (reached === undefined) {
          throw new DanglingLinkError(`${path} is a symlink to a missing file (${next}); create that file or remove the link`);
        }
        checkLinkTarget(link, reached, real, target);
      } catch (e) {
        nextEntry.dir.release();
        throw e;
      }
      entry.dir.release();
      entry = nextEntry;
      real = next;
    }
  } catch (e) {
    entry.dir.release();
    throw e;
  }
}
