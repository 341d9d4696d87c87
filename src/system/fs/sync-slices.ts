/**
 * Synchronous filesystem work, and the time slices it runs in.
 *
 * Synchronous fs calls: the common path of the file resource (lstat, comparing content, writing content, mode and
 * owner changes, creating files, directories and symlinks, removing a file) uses node:fs's sync calls. Each is a
 * local syscall of a few microseconds, while an fs/promises call adds a round trip through the libuv thread pool
 * that costs about ten times more than the call itself, and a file takes several calls (measured on a 2-core VM,
 * 10,000 x lstat + read of a small file: ~1,000 ms async, ~90 ms sync; 10,000 x create temp + write + rename:
 * ~800 ms async, ~530 ms sync). Content larger than SYNC_MAX_BYTES (1 MiB, known from the lstat size or the wanted
 * content's length) is still read, compared and written through fs/promises, so that a big file never blocks the
 * event loop for long; copying a source directory tree (and purge) and removing a directory with its contents
 * stay async as well. The trade-off: a sync call that hangs (a stuck network filesystem) stops the whole engine,
 * not just one resource, for as long as it hangs.
 *
 * Time slices: sync calls keep the event loop from running, and the watches need it to run. The kernel queues
 * inotify events until libuv reads them, at most fs.inotify.max_queued_events (16,384 by default); it drops the
 * excess, and libuv does not report the overflow. 10,000 files created back to back without a turn of the loop
 * queue ~50,000 events (temp file created, chmod-ed, written and renamed; file renamed to), so most of them would
 * be lost: our own, and any drift made meanwhile. So the sync work runs in slices of SLICE_MS: a check starts at
 * once while the current slice lasts; after that, checks wait in arrival order until the loop has turned (and
 * read the events), which costs one turn of the loop per slice.
 */

/** Content up to this size is read, compared and written with sync calls; larger content goes through fs/promises. */
export const SYNC_MAX_BYTES = 1024 * 1024;

/**
 * Time slices for the sync fs work: a check starts at once while the current slice has time left; otherwise it
 * waits, in arrival order, for a later slice, after the event loop has turned.
 */
const SLICE_MS = 10;
let sliceStart = -1; // -1: no slice open
const waiting: (() => void)[] = [];

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

/**
 * A turn for a piece of sync fs work: undefined to go ahead now, or a promise to wait for (resolved in a later
 * slice). The work must run synchronously from there up to its first await, so that the slice can measure it.
 */
export function fsTurn(): Promise<void> | undefined {
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
