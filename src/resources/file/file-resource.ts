/**
 * A live file resource: its watch, and its check, which repairs when applying. The check reads what is on disk
 * every time (nothing is cached between checks) and goes in order: removal when the path must be absent;
 * otherwise, once everything that can fail is resolved, 1. existence and type, 2. content, source or symlink
 * target, 3. owner and group, 4. mode.
 *
 * The common path (an existing file with small content) runs without an await from its time slice's start to its
 * end, so that the slice measures it (src/system/fs/sync-slices.ts): awaits happen only where there is async work
 * (owner or group names to resolve, big content, a tree to copy, a path to create or remove).
 */
import { lchownSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import type { Logger } from '../../observe/logger.js';
import type { Change, CheckApplyContext, Resource, WatchContext } from '../resource.js';
import { untilAborted } from '../../system/proc/abort.js';
import { atomicSymlinkSync, atomicWrite, atomicWriteSync, type FileMeta } from '../../system/fs/atomic-write.js';
import { sha256Digest } from '../../system/fs/checksum.js';
import { applyMode, formatMode } from '../../system/fs/file-mode.js';
import { describeType, lstatOrUndefinedSync, removeEntry, typeOf, type FsType } from '../../system/fs/fs-entry.js';
import { applyOwnerMode, readRegularSync, sameContent, sameContentSync } from '../../system/fs/no-follow.js';
import { openPathWatch, type PathWatch, watchPath } from '../../system/fs/path-watcher.js';
import { fsTurn, SYNC_MAX_BYTES } from '../../system/fs/sync-slices.js';
import { groupName, resolveGroup, resolveUser, UnknownAccountError, userName } from '../../system/tools/ids.js';
import { Changes, type ChangeWhat } from './changes.js';
import { createPath } from './create.js';
import { Place, vanished } from './parent.js';
import { Purge } from './purge.js';
import type { Backup } from './backup.js';
import { checkSource, sourceData } from './source.js';
import { mayReplace, modeSpec, type WantedFile, type WantedType } from './wanted.js';

/** Owner, group and permission bits of what is at the path when the check found it. */
interface Found {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

const NONE: ReadonlySet<string> = new Set();

/** How often a check starts again when the path is replaced under it (see checkApply). */
const ATTEMPTS = 5;

export class FileResource implements Resource {
  /** The watch on the path while watching: told about our own atomic renames so that their echo is not a new event. */
  private ownWatch: PathWatch | undefined;
  private readonly expectOwnRename = (): void => {
    this.ownWatch?.expectOwnRename();
  };

  /** The purge without a source, when asked for. */
  private readonly purge: Purge | undefined;

  constructor(
    private readonly want: WantedFile,
    private readonly log: Logger,
    /** Keeps what the resource replaces or removes (`backup`). */
    private readonly backup: Backup,
    managedPaths: () => ReadonlySet<string> = () => NONE,
  ) {
    this.purge = want.purge && want.copySource === undefined && want.isDirPath ? new Purge(want, managedPaths, log) : undefined;
  }

  async watch(w: WatchContext): Promise<void> {
    const { fsPath, copySource, isDirPath, recurse } = this.want;
    const unsubscribe: (() => void)[] = [];
    try {
      const treeWatch = isDirPath && recurse && (copySource !== undefined || this.purge !== undefined);
      const own = openPathWatch(fsPath, () => w.event(), { recursive: treeWatch });
      this.ownWatch = own;
      unsubscribe.push(() => {
        if (this.ownWatch === own) this.ownWatch = undefined;
        own.close();
      });
      if (copySource !== undefined) unsubscribe.push(watchPath(copySource, () => w.event(), { recursive: recurse }));
      w.event();
      await untilAborted(w.signal);
    } finally {
      for (const u of unsubscribe) u();
    }
  }

  async checkApply(c: CheckApplyContext): Promise<boolean> {
    const turn = fsTurn();
    if (turn) await turn;
    c.reading?.();
    // Another process may remove or replace the path between two steps of a check (lstat, then open):
    // that is drift racing with the repair, not a failure of this resource, so check again from the start.
    for (let attempt = 1; ; attempt++) {
      // an attempt that ends with the path vanished records nothing; without a listener, nothing is built
      const found: Change[] | undefined = c.change ? [] : undefined;
      try {
        const ok = await this.check(c.apply, c.signal, found);
        if (found) for (const x of found) c.change!(x);
        return ok;
      } catch (e) {
        if (!vanished(e, this.want.fsPath) || attempt >= ATTEMPTS) throw e;
        this.log.debug(`${this.want.fsPath} changed during the check; checking again`);
      }
    }
  }

  /**
   * One check, repairing what differs when `apply`; true when nothing differed. Every call on the path goes
   * through its parent directory, opened safely and held until the check ends (see parent.ts).
   */
  private async check(apply: boolean, signal: AbortSignal, found: Change[] | undefined): Promise<boolean> {
    const place = new Place(this.want.fsPath, apply);
    try {
      return await this.checkAt(place, apply, signal, found);
    } catch (e) {
      throw place.explain(e);
    } finally {
      place.release();
    }
  }

  private async checkAt(place: Place, apply: boolean, signal: AbortSignal, found: Change[] | undefined): Promise<boolean> {
    const w = this.want;
    const ch = new Changes(apply, this.log, found);
    let cur = place.hasParent ? lstatOrUndefinedSync(place.at) : undefined;
    if (w.state === 'absent') return this.ensureAbsent(ch, place, cur);
    // State unset and nothing at the path: owner, group and mode apply only to an existing path (Puppet's File
    // without ensure, too); content, a source or a symlink describe something to create, which needs the state.
    if (!cur && w.state !== 'exists') {
      if (w.content === undefined && w.source === undefined && w.copySource === undefined && w.type !== 'symlink') {
        this.log.debug(`${w.fsPath} does not exist and state is unset: nothing to manage`);
        return true;
      }
      throw new Error(`${w.fsPath} does not exist; set state: exists to create it (without it, content and source only apply to an existing path)`);
    }

    // Resolve everything that can fail before touching anything. Under noop, an owner or group that does not
    // exist yet (the same run may create it first) is reported as a change, not a failure (as Puppet does).
    const spec = modeSpec(w);
    const uid = w.owner !== undefined ? await this.accountId(w.owner, (n) => resolveUser(n, signal), apply) : undefined;
    const gid = w.group !== undefined ? await this.accountId(w.group, (n) => resolveGroup(n, signal), apply) : undefined;
    if (uid === null) ch.note('', `would set owner to ${w.owner ?? ''} (not yet created)`, { property: 'owner', desired: w.owner });
    if (gid === null) ch.note('', `would set group to ${w.group ?? ''} (not yet created)`, { property: 'group', desired: w.group });
    const srcStat = checkSource(w);

    // 1. Existence and type.
    if (cur && w.type !== undefined && typeOf(cur) !== w.type) {
      this.noteReplace(ch, typeOf(cur), w.type);
      if (!apply) return false;
      await this.backup.keep(place.at, cur, w.fsPath);
      await removeEntry(place.at, typeOf(cur), this.keepFile, w.fsPath);
      cur = undefined;
    }
    if (!cur) {
      if (!apply || uid === null || gid === null) return this.noteCreate(ch, place);
      ch.note(await createPath(ch, w, place, { uid, gid, spec, srcStat, expectOwnRename: this.expectOwnRename }), '', {
        property: 'state',
        previous: 'absent',
        desired: w.type ?? 'file',
      });
      if (w.type === 'symlink' || w.copySource === undefined || !srcStat?.isDirectory()) return false;
      // A new directory from a directory source: fill it below.
      cur = lstatSync(place.at);
    }

    // 2. Content, source or symlink target.
    if (uid === null || gid === null) return this.noteWithPendingAccount(ch, place.at, cur, spec);
    const type = typeOf(cur);
    const before: Found = { uid: cur.uid, gid: cur.gid, mode: cur.mode & 0o7777 };
    const targetMode = type === 'symlink' || !spec ? undefined : applyMode(spec, before.mode, type === 'directory');
    let rewritten = false;
    if (w.type === 'symlink') {
      rewritten = this.ensureLinkTarget(ch, place.at, before, uid, gid);
    } else if (type === 'file' && (w.content !== undefined || w.copySource !== undefined)) {
      const data = w.content ?? (await sourceData(w, srcStat));
      const meta = { mode: targetMode ?? before.mode, uid: uid ?? before.uid, gid: gid ?? before.gid };
      const r = data.length > SYNC_MAX_BYTES ? this.ensureBigContent(ch, place.at, cur, data, meta) : this.ensureContent(ch, place.at, cur, data, meta);
      rewritten = typeof r === 'boolean' ? r : await r; // the common path stays without an await
    } else if (type === 'directory' && w.copySource !== undefined) {
      const { copyTree } = await import('../../system/fs/tree-copy.js'); // loaded by the graphs that copy trees
      await copyTree(w.copySource, place.at, {
        changes: ch,
        force: w.force,
        purge: w.purge,
        signal,
        warn: (m) => this.log.warn(m),
        beforeReplace: this.keepFile,
        shown: w.fsPath,
      });
    } else if (type === 'directory' && this.purge) {
      await this.purge.run(ch, place.at, signal, this.keepFile);
    }

    // 3. Owner and group.
    const ownerChange = uid !== undefined && uid !== before.uid;
    const groupChange = gid !== undefined && gid !== before.gid;
    if (ownerChange || groupChange) await this.noteOwnerGroup(ch, before, ownerChange ? uid : undefined, groupChange ? gid : undefined, signal);

    // 4. Mode (not for symlinks).
    const modeChange = targetMode !== undefined && targetMode !== before.mode;
    if (modeChange) {
      ch.note(`mode ${formatMode(before.mode)} -> ${formatMode(targetMode)}`, `would change mode ${formatMode(before.mode)} -> ${formatMode(targetMode)}`, {
        property: 'mode',
        previous: formatMode(before.mode),
        desired: formatMode(targetMode),
      });
    } else if (spec && type === 'symlink') {
      this.log.debug('mode does not apply to a symlink; ignored');
    }

    // 3 and 4 applied together, unless the path was rewritten with them.
    if (apply && !rewritten && (ownerChange || groupChange || modeChange)) {
      // chown clears set-uid/set-gid bits, so the mode is always re-applied after an owner change (not for symlinks).
      const keepMode = ownerChange || groupChange ? before.mode : undefined;
      applyOwnerMode(place.at, type, {
        uid: ownerChange ? uid : undefined,
        gid: groupChange ? gid : undefined,
        mode: modeChange ? targetMode : keepMode,
      });
    }
    return ch.ok;
  }

  /**
   * The uid or gid of an account; `null` under noop when it does not exist (yet): a user or group that the same
   * run creates before this file is only created when applying.
   */
  private async accountId(name: string, resolve: (n: string) => Promise<number>, apply: boolean): Promise<number | null> {
    try {
      return await resolve(name);
    } catch (e) {
      if (!apply && e instanceof UnknownAccountError) return null;
      throw e;
    }
  }

  /** Under noop, with an owner or group not created yet: the owner/group changes are noted; content and mode are checked as they are. */
  private noteWithPendingAccount(ch: Changes, at: string, cur: Stats, spec: ReturnType<typeof modeSpec>): false {
    const type = typeOf(cur);
    const w = this.want;
    if (type === 'file' && w.content !== undefined && !(cur.size === w.content.length && sameContentSync(at, w.content)))
      ch.note('', 'would change content', ch.recording ? contentChange(oldContent(at, cur), w.content) : undefined);
    const mode = cur.mode & 0o7777;
    const target = type === 'symlink' || !spec ? undefined : applyMode(spec, mode, type === 'directory');
    if (target !== undefined && target !== mode)
      ch.note('', `would change mode ${formatMode(mode)} -> ${formatMode(target)}`, {
        property: 'mode',
        previous: formatMode(mode),
        desired: formatMode(target),
      });
    return false;
  }

  /** state: absent: removes what is at the path (a directory only with recurse or force). */
  private async ensureAbsent(ch: Changes, place: Place, cur: Stats | undefined): Promise<boolean> {
    if (!cur) return true;
    const type = typeOf(cur);
    if (type === 'directory' && !this.want.recurse && !this.want.force) {
      throw new Error(`${this.want.fsPath} is a directory; set recurse: true (or force: true) to remove it with its contents`);
    }
    ch.note(`removed ${type}`, `would remove ${type}`, { property: 'state', previous: type, desired: 'absent' });
    if (!ch.apply) return false;
    await this.backup.keep(place.at, cur, this.want.fsPath);
    await removeEntry(place.at, type, this.keepFile, this.want.fsPath);
    return false;
  }

  /** Notes that the object of type `type` at the path is to be replaced by one of type `to`; an error when that is not allowed. */
  private noteReplace(ch: Changes, type: FsType, to: WantedType): void {
    const wanted = describeType(to);
    if (!mayReplace(this.want, type)) {
      throw new Error(`${this.want.fsPath} is ${describeType(type)}, not ${wanted}; set force: true to replace it`);
    }
    ch.note(`removed ${type} (to replace it with ${wanted})`, `would replace ${type} with ${wanted}`, { property: 'state', previous: type, desired: to });
  }

  /** Under noop, where nothing is created: reports what would be (or that the parent is missing). */
  private noteCreate(ch: Changes, place: Place): false {
    const w = this.want;
    if (place.ensureParent(ch, w.recurse) === 'missing') return false;
    const what = w.type === 'symlink' ? `symlink -> ${w.source ?? ''}` : w.type === 'directory' ? 'directory' : 'file';
    ch.note('', `would create ${what}`, { property: 'state', previous: 'absent', desired: w.type ?? 'file' });
    return false;
  }

  /** A symlink's target; returns whether the link was rewritten. */
  private ensureLinkTarget(ch: Changes, at: string, before: Found, uid: number | undefined, gid: number | undefined): boolean {
    const { source } = this.want;
    const old = readlinkSync(at);
    if (old === source) return false;
    ch.note(`symlink target ${old} -> ${source ?? ''}`, `would change symlink target ${old} -> ${source ?? ''}`, {
      property: 'target',
      previous: old,
      desired: source,
    });
    if (!ch.apply) return false;
    atomicSymlinkSync(source ?? '', at);
    // The new link belongs to us; give it the wanted (or the previous) owner.
    const now = lstatSync(at);
    const wantUid = uid ?? before.uid;
    const wantGid = gid ?? before.gid;
    if (now.uid !== wantUid || now.gid !== wantGid) lchownSync(at, wantUid, wantGid);
    return true;
  }

  /**
   * A regular file's content, at most SYNC_MAX_BYTES, with the sync calls; returns whether the file was rewritten
   * (with `meta`). Sizes differ: different content, nothing to read. Same size: the bytes are compared, every time.
   */
  private ensureContent(ch: Changes, at: string, cur: Stats, data: Buffer, meta: FileMeta): boolean | Promise<boolean> {
    if (cur.size === data.length && sameContentSync(at, data)) return false;
    // the old bytes, read once for the change record's digest and the backup (when either is wanted)
    const old = ch.recording || (ch.apply && this.backup.active) ? oldContent(at, cur) : undefined;
    ch.note('content changed', 'would change content', ch.recording ? contentChange(old, data) : undefined);
    if (!ch.apply) return false;
    if (this.backup.active) {
      if (cur.size > SYNC_MAX_BYTES) return this.rewriteKeepingBig(at, cur, data, meta);
      this.backup.keepSync(at, cur, this.want.fsPath, old);
    }
    atomicWriteSync(at, data, meta);
    this.ownWatch?.expectOwnRename();
    return true;
  }

  /** ensureContent for content over SYNC_MAX_BYTES, through fs/promises. */
  private async ensureBigContent(ch: Changes, at: string, cur: Stats, data: Buffer, meta: FileMeta): Promise<boolean> {
    if (cur.size === data.length && (await sameContent(at, cur, data))) return false;
    ch.note('content changed', 'would change content', contentChange(undefined, data));
    if (!ch.apply) return false;
    await this.backup.keep(at, cur, this.want.fsPath);
    await atomicWrite(at, data, meta);
    return true;
  }

  /** Small new content over a big old file: the old one is kept (async read) before the write. */
  private async rewriteKeepingBig(at: string, cur: Stats, data: Buffer, meta: FileMeta): Promise<true> {
    await this.backup.keep(at, cur, this.want.fsPath);
    atomicWriteSync(at, data, meta);
    this.ownWatch?.expectOwnRename();
    return true;
  }

  /** Keeps a regular file about to be rewritten or removed (`backup`); for the tree walks. */
  private readonly keepFile = (at: string, st: Stats, shown: string): Promise<void> => this.backup.keep(at, st, shown);

  /** Notes the owner and group changes (`uid`, `gid`: the new ids, or undefined for no change), by name. */
  private async noteOwnerGroup(ch: Changes, before: Found, uid: number | undefined, gid: number | undefined, signal: AbortSignal): Promise<void> {
    if (uid !== undefined) {
      const from = await userName(before.uid, signal);
      const to = await userName(uid, signal);
      ch.note(`owner ${from} -> ${to}`, `would change owner ${from} -> ${to}`, { property: 'owner', previous: from, desired: to });
    }
    if (gid !== undefined) {
      const from = await groupName(before.gid, signal);
      const to = await groupName(gid, signal);
      ch.note(`group ${from} -> ${to}`, `would change group ${from} -> ${to}`, { property: 'group', previous: from, desired: to });
    }
  }
}

/**
 * A content change as Puppet reports it: `{sha256}` digests (Puppet 7's default digest_algorithm) of the old and new bytes (the old ones only for a file
 * small enough to read in one slice; a bigger one is not read again just for the record).
 */
function contentChange(old: Buffer | undefined, data: Buffer): ChangeWhat {
  return { property: 'content', ...(old !== undefined ? { previous: sha256Digest(old) } : {}), desired: wantedDigest(data) };
}

/**
 * The content of the regular file at `at` (its lstat `cur`) for the change record and the backup: only a file small
 * enough to read in one slice, never through a symlink or from a FIFO put in its place; undefined when it is bigger,
 * gone or no longer a regular file (the backup then reads it itself, or refuses).
 */
function oldContent(at: string, cur: Stats): Buffer | undefined {
  if (cur.size > SYNC_MAX_BYTES) return undefined;
  try {
    return readRegularSync(at);
  } catch {
    return undefined;
  }
}

/** The wanted content's `{sha256}` digest, made once (it is the same Buffer at every repair). */
const digests = new WeakMap<Buffer, string>();
function wantedDigest(b: Buffer): string {
  let d = digests.get(b);
  if (d === undefined) digests.set(b, (d = sha256Digest(b)));
  return d;
}
