/**
 * Purge without a source (Puppet's File `recurse => true, purge => true`): every entry below the directory that no
 * other resource of the graph manages is removed, down to `recurselimit`, leaving alone what `ignore` matches;
 * a managed entry and everything below it belong to their resource, and a directory with a managed path below it
 * is never removed (its other entries are). Directories go only with `force` (Puppet's rule); `maxfiles` bounds the
 * entries a check may find. The walk itself is src/system/fs/tree-purge.ts.
 */
import type { Logger } from '../../observe/logger.js';
import type { BeforeFileRemoved } from '../../system/fs/fs-entry.js';
import type { EntryRule } from '../../system/fs/tree-purge.js';
import type { Changes } from './changes.js';
import type { WantedFile } from './wanted.js';

/** Above this many entries, `maxfiles: 0` (the default) warns, as Puppet does. */
export const SOFT_MAX_FILES = 1000;

/** The managed paths below one directory, by path relative to it: the paths themselves, and their ancestors. */
interface Below {
  readonly exact: ReadonlySet<string>;
  readonly holding: ReadonlySet<string>;
}

export class Purge {
  private cachedFor: ReadonlySet<string> | undefined;
  private cached: Below | undefined;

  constructor(
    private readonly want: WantedFile,
    private readonly managed: () => ReadonlySet<string>,
    private readonly log: Logger,
  ) {}

  /** Purges below the directory at `at` (the path through its held parent); `beforeRemove` keeps a file first. */
  async run(ch: Changes, at: string, signal: AbortSignal, beforeRemove?: BeforeFileRemoved): Promise<void> {
    const w = this.want;
    if (w.recurselimit === 0) return;
    const { countTree, purgeTree } = await import('../../system/fs/tree-purge.js'); // loaded by the graphs that purge
    if (w.maxfiles > 0) {
      const n = await countTree(at, w.fsPath, w.ignore, w.recurselimit, w.maxfiles);
      if (n > w.maxfiles) {
        throw new Error(
          `${w.fsPath} holds more than ${w.maxfiles} entries (maxfiles), so nothing was purged; raise maxfiles, narrow the purge with ignore or recurselimit, or set maxfiles: -1`,
        );
      }
    }
    const below = this.below();
    const rule = (rel: string): EntryRule => (below.exact.has(rel) ? 'skip' : below.holding.has(rel) ? 'descend' : 'free');
    const seen = await purgeTree(at, {
      changes: ch,
      shown: w.fsPath === '/' ? '' : w.fsPath,
      ignore: w.ignore,
      limit: w.recurselimit,
      force: w.force,
      signal,
      rule,
      beforeRemove,
      kept: (rel) => this.log.debug(`not purging directory ${rel}/: set force: true to purge directories`),
    });
    if (w.maxfiles === 0 && seen > SOFT_MAX_FILES) {
      this.log.warn(`${w.fsPath} holds ${seen} entries to examine at each check; set maxfiles to bound it (or -1 to silence this warning)`);
    }
  }

  /** The managed paths below the directory, recomputed only when the graph's set changes. */
  private below(): Below {
    const all = this.managed();
    if (this.cached && this.cachedFor === all) return this.cached;
    const root = this.want.fsPath;
    const prefix = root === '/' ? '/' : `${root}/`;
    const exact = new Set<string>();
    const holding = new Set<string>();
    for (const m of all) {
      if (m.length <= prefix.length || !m.startsWith(prefix)) continue;
      const rel = m.slice(prefix.length);
      exact.add(rel);
      for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) holding.add(rel.slice(0, i));
    }
    this.cachedFor = all;
    this.cached = { exact, holding };
    return this.cached;
  }
}
