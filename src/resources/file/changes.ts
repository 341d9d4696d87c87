import type { Logger } from '../../observe/logger.js';
import type { ChangeNotes } from '../../system/fs/tree-copy.js';
import type { Change } from '../resource.js';

/** What a note is about, for the change record (`state` when unsaid: something was created, removed, replaced). */
export type ChangeWhat = Omit<Change, 'message' | 'member'>;

/**
 * Records what a check found and logs it: `done` when applying, `would` under noop. Each note also becomes a
 * change record in `found` (the file resource hands them to the engine once its check has finished).
 */
export class Changes implements ChangeNotes {
  ok = true;
  constructor(
    readonly apply: boolean,
    private readonly log: Logger,
    private readonly found?: Change[],
  ) {}

  /** Whether change records are built (someone listens: reports); without, a note's `what` may be left out. */
  get recording(): boolean {
    return this.found !== undefined;
  }

  note(done: string, would: string, what?: ChangeWhat): void {
    this.ok = false;
    const message = this.apply ? done : would;
    this.log.info(message);
    this.found?.push({ property: 'state', ...what, message: message || done || would });
  }
}
