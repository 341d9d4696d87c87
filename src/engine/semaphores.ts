/** Named counting semaphores (`sema` metaparam: `id` or `id:N`), created on first use with their size. */

class Semaphore {
  private held = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(readonly size: number) {}
  acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else this.held--;
  }
}

export class Semaphores {
  private readonly sems = new Map<string, Semaphore>();

  /** Parses `id:N` (N defaults to 1). */
  static parse(entry: string): { id: string; size: number } {
    const i = entry.lastIndexOf(':');
    if (i < 0) return { id: entry, size: 1 };
    const n = Number(entry.slice(i + 1));
    return { id: entry.slice(0, i), size: Number.isInteger(n) && n > 0 ? n : 1 };
  }

  /**
   * Takes every semaphore in sorted id order (a fixed order cannot deadlock) and returns the release
   * function.
   */
  async acquire(entries: readonly string[]): Promise<() => void> {
    if (entries.length === 0) return () => {};
    const wanted = new Map<string, number>();
    for (const e of entries) {
      const { id, size } = Semaphores.parse(e);
      if (!wanted.has(id)) wanted.set(id, size);
    }
    const taken: Semaphore[] = [];
    for (const id of [...wanted.keys()].sort()) {
      let s = this.sems.get(id);
      if (!s) this.sems.set(id, (s = new Semaphore(wanted.get(id)!)));
      await s.acquire();
      taken.push(s);
    }
    return () => {
      for (const s of taken.reverse()) s.release();
    };
  }
}
