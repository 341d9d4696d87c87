/**
 * When a change to the collection is swapped in: at once when no swap started within the last window, else once at
 * the window's end for every change that came meanwhile. So a lone change waits for nothing, a burst costs at most
 * one swap per window, and a steady stream of changes cannot hold swaps back (a debounce, which waits for a pause,
 * would wait as long as the stream lasts).
 */
export class SwapWindow {
  private timer: NodeJS.Timeout | undefined;
  private last = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly run: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Something changed: runs now, or at the end of the current window (once, however many changes come). */
  changed(): void {
    if (this.timer !== undefined) return;
    const wait = this.last + this.windowMs - this.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, wait);
  }

  /** Whether a run waits for the window's end. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.last = this.now();
    this.run();
  }
}
