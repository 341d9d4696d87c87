/**
 * Path watching on top of one shared, ref-counted `fs.watch` per directory.
 *
 * A path is watched through its parent directory, filtered by base name: a watch on the file itself would die
 * with its inode (every atomic write replaces it). All subscribers in one directory share one watch and are found
 * by name in a Map, so 10,000 watched files in one directory cost one inotify watch and O(1) per event.
 *
 * Missing parents: the nearest existing ancestor is watched for the next path component, and the subscription
 * moves down as directories appear. Every watched directory is itself guarded through its parent's watch (the
 * entry with its own name), so when a directory is deleted, moved away or replaced, its subscribers move back up
 * and re-resolve. Guards go up to `/`, so a subscription costs one watch per ancestor directory, shared by all.
 *
 * Events are never delayed, coalesced or dropped here: each raw event is delivered synchronously (the engine
 * coalesces), and any move of a subscription delivers an event too, since the path may have changed meanwhile.
 *
 * When the kernel refuses a watch (ENOSPC: fs.inotify.max_user_watches reached; EMFILE: too many inotify
 * instances), that directory is polled with lstat instead, and one warning is printed per process.
 *
 * Known limit: if more than fs.inotify.max_queued_events (16,384 here) events pile up while the event loop is
 * blocked, the kernel drops the excess and libuv does not report the overflow, so it cannot be detected here.
 * Writers in this process must let the loop turn while they write in bulk (the file resource checks in 10 ms
 * slices for this reason: 10,000 back-to-back sync creates lost 8,107 events); the `poll` metaparam is the
 * safety net for bursts from other processes.
 */
import { lstatSync, readdirSync, statSync, watch as fsWatch } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { errnoCode } from '../../observe/errors.js';

/** What the registry needs from an `fs.watch` handle. */
export interface WatchHandle {
  close(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Creates a watch on a directory; must throw synchronously (with an errno `code`) when it cannot. */
export type WatchFactory = (dir: string, listener: (eventType: string, filename: string | null) => void) => WatchHandle;

export interface PathWatcherConfig {
  /** Replaces `fs.watch` (tests inject failures with it). */
  readonly watchFactory?: WatchFactory;
  /** Where the one-time warning goes; default console.error. */
  readonly warn?: (msg: string) => void;
  /** Poll interval for directories that could not be watched; default 1000 ms. */
  readonly pollIntervalMs?: number;
}

export interface WatchPathOptions {
  /** When the path is a directory, also report changes anywhere below it (one watch per directory of the tree). */
  readonly recursive?: boolean;
}

const defaultFactory: WatchFactory = (dir, listener) => fsWatch(dir, { persistent: true }, (eventType, filename) => listener(eventType, filename ?? null));

interface Config {
  watchFactory: WatchFactory;
  warn: (msg: string) => void;
  pollIntervalMs: number;
}

let config: Config = { watchFactory: defaultFactory, warn: (m) => console.error(m), pollIntervalMs: 1000 };
let warned = false;

/** Changes the watch backend, the warning sink or the poll interval; returns a function restoring the previous. */
export function configurePathWatcher(c: PathWatcherConfig): () => void {
  const previous = config;
  const previousWarned = warned;
  config = {
    watchFactory: c.watchFactory ?? previous.watchFactory,
    warn: c.warn ?? previous.warn,
    pollIntervalMs: c.pollIntervalMs ?? previous.pollIntervalMs,
  };
  if (c.warn) warned = false;
  return () => {
    config = previous;
    warned = previousWarned;
  };
}

/** Errors that mean "the directory is not there (any more)": resolve the path again. */
function isGone(e: unknown): boolean {
  const c = errnoCode(e);
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'ESTALE';
}

function identityOf(dir: string): string | undefined {
  try {
    // throwIfNoEntry: a missing path is common here (10,000 files waiting for their directory) and must not
    // cost an Error object each.
    const st = statSync(dir, { bigint: true, throwIfNoEntry: false });
    return st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Directories just found missing. Subscribing 10,000 files whose directory does not exist yet would stat that
 * directory 10,000 times; a missing answer is remembered until the event loop moves on or any watch event
 * arrives (which may be the directory appearing), so no stale answer outlives the work that asked.
 */
let absent = new Set<string>();
let absentClearing = false;
function forgetAbsent(): void {
  if (absent.size > 0) absent = new Set();
}

function isDir(p: string): boolean {
  if (absent.has(p)) return false;
  if (identityOf(p) !== undefined) return true;
  absent.add(p);
  if (!absentClearing) {
    absentClearing = true;
    setImmediate(() => {
      absentClearing = false;
      forgetAbsent();
    });
  }
  return false;
}

function isRealDir(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function signatureOf(p: string): string {
  try {
    const s = lstatSync(p, { bigint: true, throwIfNoEntry: false });
    if (!s) return '-';
    return `${s.ino}:${s.mode}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.uid}:${s.gid}:${s.nlink}`;
  } catch {
    return '-';
  }
}

function goneError(dir: string): Error {
  return Object.assign(new Error(`${dir} changed while it was being watched`), { code: 'ESTALE' });
}

interface Listener {
  /**
   * A raw event for the name it attached to (null: the kernel did not say which entry changed). `rename` means
   * the entry was created, deleted or moved; `change` that its content or attributes changed.
   */
  event(name: string | null, type: string): void;
  /** The directory it was attached to is gone or replaced; the attachment no longer exists. */
  invalidated(): void;
}

interface Attachment {
  detach(): void;
  /** The directory is watched through inotify (not polled) and the watch is alive. */
  live(): boolean;
}

const registry = new Map<string, DirWatch>();
let openHandles = 0;
let pollingDirs = 0;

/** One watched directory: one fs.watch (or a poller) and its subscribers, by entry name. */
class DirWatch {
  readonly byName = new Map<string, Set<Listener>>();
  readonly all = new Set<Listener>();
  dead = false;
  private refs = 0;
  private handle: WatchHandle | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollNames = new Map<string, string>();
  private pollAll: Map<string, string> | undefined;
  private readonly selfName: string;

  get inotify(): boolean {
    return !this.dead && this.handle !== undefined;
  }

  private constructor(
    readonly dir: string,
    private readonly identity: string,
    private readonly guard: Attachment | undefined,
  ) {
    this.selfName = basename(dir);
  }

  /** Opens a watch on `dir` (guarded through its parent); throws an ENOENT/ENOTDIR/ESTALE error if it is not there. */
  static open(dir: string): DirWatch {
    const before = identityOf(dir);
    if (before === undefined) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    // eslint-disable-next-line prefer-const -- read by the guard callbacks above, which are created before it is assigned
    let dw: DirWatch | undefined;
    const guard =
      dir === '/'
        ? undefined
        : attach(dirname(dir), basename(dir), {
            // A created/deleted/moved entry may be a new directory with a recycled inode number, so the
            // identity check is not enough there: re-establish the watch.
            event: (_name, type) => (type === 'change' ? dw?.verify() : dw?.invalidate()),
            invalidated: () => dw?.invalidate(),
          });
    dw = new DirWatch(dir, before, guard);
    try {
      dw.start();
    } catch (e) {
      dw.dead = true;
      guard?.detach();
      throw e;
    }
    if (identityOf(dir) !== before) {
      dw.shutdown();
      throw goneError(dir);
    }
    registry.set(dir, dw);
    return dw;
  }

  private start(): void {
    try {
      const h = config.watchFactory(this.dir, (type, name) => this.onRaw(name, type));
      this.handle = h;
      openHandles++;
      h.on('error', () => this.invalidate());
    } catch (e) {
      if (isGone(e)) throw e;
      this.startPolling(errnoCode(e) ?? String(e));
    }
  }

  private startPolling(reason: string): void {
    const limit = reason === 'ENOSPC' || reason === 'EMFILE';
    if (!warned) {
      warned = true;
      const seconds = config.pollIntervalMs / 1000;
      config.warn(
        limit
          ? `path watcher: cannot watch ${this.dir} (${reason}: inotify limit reached); polling it every ${seconds} s instead. ` +
              `Raise the limit, e.g. \`sysctl -w fs.inotify.max_user_watches=524288\`` +
              (reason === 'EMFILE' ? ' (and fs.inotify.max_user_instances)' : '') +
              '. Further directories fall back to polling without this warning.'
          : `path watcher: cannot watch ${this.dir} (${reason}); polling it every ${seconds} s instead. ` +
              'Further directories fall back to polling without this warning.',
      );
    }
    pollingDirs++;
    this.pollTimer = setInterval(() => this.poll(), config.pollIntervalMs);
  }

  add(name: string | null, l: Listener): void {
    this.refs++;
    if (name === null) {
      if (this.pollTimer && !this.pollAll) this.pollAll = this.listing();
      this.all.add(l);
      return;
    }
    let set = this.byName.get(name);
    if (!set) {
      set = new Set();
      this.byName.set(name, set);
      if (this.pollTimer) this.pollNames.set(name, signatureOf(join(this.dir, name)));
    }
    set.add(l);
  }

  remove(name: string | null, l: Listener): void {
    if (this.dead) return;
    if (name === null) {
      if (!this.all.delete(l)) return;
      if (this.all.size === 0) this.pollAll = undefined;
    } else {
      const set = this.byName.get(name);
      if (!set?.delete(l)) return;
      if (set.size === 0) {
        this.byName.delete(name);
        this.pollNames.delete(name);
      }
    }
    if (--this.refs === 0) this.shutdown();
  }

  /** Checks that the path still names the directory we watch; if not, invalidates. */
  verify(): void {
    if (!this.dead && identityOf(this.dir) !== this.identity) this.invalidate();
  }

  /** The directory is gone or replaced: close, and tell every subscriber (they re-resolve). */
  invalidate(): void {
    if (this.dead) return;
    const listeners = [...this.all];
    for (const set of this.byName.values()) listeners.push(...set);
    this.shutdown();
    this.byName.clear();
    this.all.clear();
    for (const l of listeners) l.invalidated();
  }

  private shutdown(): void {
    if (this.dead) return;
    this.dead = true;
    if (registry.get(this.dir) === this) registry.delete(this.dir);
    if (this.handle) {
      this.handle.close();
      this.handle = undefined;
      openHandles--;
    }
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      pollingDirs--;
    }
    this.guard?.detach();
  }

  private onRaw(name: string | null, type: string): void {
    forgetAbsent();
    if (this.dead) return;
    if (name === null) {
      const everyone = [...this.all];
      for (const set of this.byName.values()) everyone.push(...set);
      for (const l of everyone) l.event(null, type);
      this.verify();
      return;
    }
    this.dispatch(name, type);
    // The kernel reports deletion or move of the watched directory itself under its own name. (A child with
    // the same name gives the same report; re-establishing the watch then is merely redundant.)
    if (name === this.selfName) {
      if (type === 'change') this.verify();
      else this.invalidate();
    }
  }

  private dispatch(name: string, type: string): void {
    const named = this.byName.get(name);
    if (!named && this.all.size === 0) return;
    const targets = named ? [...named, ...this.all] : [...this.all];
    for (const l of targets) {
      if (this.dead) return;
      l.event(name, type);
    }
  }

  private listing(): Map<string, string> {
    const out = new Map<string, string>();
    try {
      for (const n of readdirSync(this.dir)) out.set(n, signatureOf(join(this.dir, n)));
    } catch {
      // the directory is going away; the identity check in poll() handles it
    }
    return out;
  }

  private poll(): void {
    if (this.dead) return;
    if (identityOf(this.dir) !== this.identity) {
      this.invalidate();
      return;
    }
    const changed = new Map<string, string>();
    const note = (n: string, old: string | undefined, sig: string) => {
      if (old !== sig) changed.set(n, old === undefined || sig === '-' || old.split(':')[0] !== sig.split(':')[0] ? 'rename' : 'change');
    };
    for (const [name, old] of this.pollNames) {
      const sig = signatureOf(join(this.dir, name));
      this.pollNames.set(name, sig);
      note(name, old, sig);
    }
    if (this.pollAll) {
      const now = this.listing();
      for (const [n, sig] of now) note(n, this.pollAll.get(n), sig);
      for (const [n, old] of this.pollAll) if (!now.has(n)) note(n, old, '-');
      this.pollAll = now;
    }
    for (const [n, type] of changed) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
      if (this.dead) return;
      this.dispatch(n, type);
    }
  }
}

/** Attaches a listener to `name` in `dir` (null: every entry). Throws ENOENT/ENOTDIR/ESTALE if `dir` is gone. */
function attach(dir: string, name: string | null, l: Listener): Attachment {
  let dw = registry.get(dir);
  if (!dw || dw.dead) dw = DirWatch.open(dir);
  const target = dw;
  target.add(name, l);
  let done = false;
  return {
    detach: () => {
      if (done) return;
      done = true;
      target.remove(name, l);
    },
    live: () => !done && target.inotify,
  };
}

/** Recursive part of a subscription: one all-entries attachment per directory of the tree under `root`. */
class Tree {
  private readonly nodes = new Map<string, Attachment>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly onChange: () => void,
  ) {}

  /** Adds or drops the whole tree depending on whether the root is (now) a directory. */
  syncRoot(): void {
    if (this.closed) return;
    if (isDir(this.root)) this.add(this.root);
    else this.drop(this.root);
  }

  close(): void {
    this.closed = true;
    for (const a of this.nodes.values()) a.detach();
    this.nodes.clear();
  }

  private add(dir: string): void {
    if (this.closed || this.nodes.has(dir)) return;
    let a: Attachment;
    try {
      a = attach(dir, null, this.listenerFor(dir));
    } catch (e) {
      if (isGone(e)) return;
      throw e;
    }
    this.nodes.set(dir, a);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      // removed meanwhile; its invalidation follows
    }
    for (const n of entries) this.add(join(dir, n));
  }

  private drop(dir: string): void {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const [p, a] of [...this.nodes]) {
      if (p === dir || p.startsWith(prefix)) {
        a.detach();
        this.nodes.delete(p);
      }
    }
  }

  private listenerFor(dir: string): Listener {
    return {
      event: (name) => {
        if (this.closed) return;
        this.onChange();
        if (name === null) {
          this.drop(dir);
          if (dir === this.root) this.syncRoot();
          else if (isRealDir(dir)) this.add(dir);
          return;
        }
        const child = join(dir, name);
        if (isRealDir(child)) this.add(child);
        else this.drop(child);
      },
      invalidated: () => {
        if (this.closed) return;
        this.nodes.delete(dir);
        this.onChange();
        this.drop(dir);
        if (dir === this.root) this.syncRoot();
        else if (isRealDir(dir)) this.add(dir);
      },
    };
  }
}

/** One watchPath() subscription: attached to the path's parent, or to the nearest existing ancestor. */
class PathSub implements Listener {
  private at: Attachment | undefined;
  private atDir = '';
  private atName: string | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly parent: string;
  /** `rename` events of our own atomic renames onto the path, still to come (see expectOwnRename). */
  private ownRenames = 0;
  readonly tree: Tree | undefined;

  constructor(
    private readonly target: string,
    private readonly onChange: () => void,
    recursive: boolean,
  ) {
    this.parent = dirname(target);
    this.tree = recursive ? new Tree(target, onChange) : undefined;
  }

  event(_name: string | null, type: string): void {
    if (this.closed) return;
    if (type === 'rename' && this.ownRenames > 0) {
      this.ownRenames--;
      return;
    }
    this.onChange();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
    if (this.closed) return;
    if (this.atDir !== this.parent) this.resolve();
    this.tree?.syncRoot();
  }

  /**
   * The caller has just renamed a file onto the path itself (an atomic write), synchronously, in this turn of the
   * event loop: the one `rename` event the kernel queued for it need not be reported. Honoured only while the
   * path's own parent directory is watched through inotify, so that the event is certain to come; returns
   * whether it was. Any earlier `rename` still queued is swallowed instead, which is equally right: it described
   * a state the rename has replaced, and the later one is then reported.
   */
  expectOwnRename(): boolean {
    if (this.closed || !this.at || this.atDir !== this.parent || !this.at.live()) return false;
    this.ownRenames++;
    return true;
  }

  invalidated(): void {
    if (this.closed) return;
    this.ownRenames = 0;
    this.at = undefined;
    this.atDir = '';
    this.onChange();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
    if (this.closed) return;
    this.resolve();
    this.tree?.syncRoot();
  }

  /** Attaches at the deepest existing directory on the way to the target (moving only when that changes). */
  resolve(): void {
    for (let attempt = 0; attempt < 64 && !this.closed; attempt++) {
      let d = this.parent;
      // A directory we already watch exists (if it just went away, its invalidation is on the way).
      while (d !== '/' && !registry.get(d) && !isDir(d)) d = dirname(d);
      const name = this.target === '/' ? null : (this.target.slice(d === '/' ? 1 : d.length + 1).split('/')[0] ?? '');
      if (this.at && d === this.atDir && name === this.atName) return;
      let next: Attachment;
      try {
        next = attach(d, name, this);
      } catch (e) {
        if (isGone(e)) continue;
        throw e;
      }
      this.at?.detach();
      this.at = next;
      this.ownRenames = 0;
      this.atDir = d;
      this.atName = name;
      if (d === this.parent || name === null || !isDir(join(d, name))) return;
      // The next component appeared between the lookup and the watch: move down (and report, it may be new).
      this.onChange();
    }
    // A directory keeps flapping under us: try again a little later rather than spin.
    if (!this.closed && !this.retry) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.resolve();
      }, config.pollIntervalMs);
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.at?.detach();
    this.at = undefined;
    this.tree?.close();
  }
}

/**
 * Calls `onChange` synchronously on every raw change to `path` (created, written, chmod-ed, replaced, deleted,
 * or any change to a missing ancestor on the way to it); with `recursive`, also on changes anywhere below it
 * when it is a directory. The path need not exist. Returns the unsubscribe function.
 */
export function watchPath(path: string, onChange: () => void, opts: WatchPathOptions = {}): () => void {
  const w = openPathWatch(path, onChange, opts);
  return () => w.close();
}

/** A subscription made by `openPathWatch`. */
export interface PathWatch {
  close(): void;
  /** See PathSub.expectOwnRename: call right after a synchronous rename onto the path; true if honoured. */
  expectOwnRename(): boolean;
}

/** `watchPath` for a writer of the path, which can tell the watch about its own atomic renames. */
export function openPathWatch(path: string, onChange: () => void, opts: WatchPathOptions = {}): PathWatch {
  const sub = new PathSub(resolvePath(path), onChange, opts.recursive === true);
  try {
    sub.resolve();
    sub.tree?.syncRoot();
  } catch (e) {
    sub.close();
    throw e;
  }
  return { close: () => sub.close(), expectOwnRename: () => sub.expectOwnRename() };
}

/** The number of open fs.watch handles (one per watched directory, shared by all its subscribers). */
export function watcherStats(): number {
  return openHandles;
}

/** The number of directories polled because the kernel refused a watch. */
export function pollingStats(): number {
  return pollingDirs;
}
