/** Token bucket for the `limit` (events per second) and `burst` (bucket size) metaparams. */
import { TIMER_MAX_MS } from '../resources/params.js';

export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Milliseconds to wait before the next event may pass (0: now); takes the token when it returns 0. */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    // A tiny (or zero) rate would ask for a wait longer than a timer can hold, which Node fires after 1 ms: wait
    // the longest a timer can, then ask again.
    return Math.min(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000), TIMER_MAX_MS);
  }
}
