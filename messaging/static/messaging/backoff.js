/* Pacing without the DOM: reconnect delays and the send pace (tested with node --test). */

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 15000;

/** Exponential backoff with full jitter: a random delay below min(cap, base·2^attempt),
 * so that clients cut off together do not come back together. */
export function reconnectDelay(attempt, random = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS) {
  return random() * Math.min(cap, base * 2 ** Math.max(0, attempt));
}

/** A token bucket: `burst` at once, then `rate` a second. */
export class TokenBucket {
  constructor(burst, rate, now = () => Date.now()) {
    this.burst = burst;
    this.rate = rate;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  refill() {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Milliseconds until a token is free (0: one is free now). */
  waitMs() {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000 + 5;
  }

  take() {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
