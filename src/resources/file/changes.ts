import type { Logger } from '../../observe/logger.js';
import type { ChangeNotes } from '../../system/fs/tree-copy.js';

/** Records what a check found and logs it: `done` when applying, `would` under noop. */
export class Changes implements ChangeNotes {
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
