import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket of messages per minute, shared by every batch in the process. Its capacity is
 * one second's worth (at least one message), so a batch starts at once but never bursts a
 * minute's quota at the server. 0 turns it off.
 */
export class MailRateLimiter {
  private tokens: number;
  private last: number;
  private readonly capacity: number;
  /** Serialises waiters so they are served in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, Math.ceil(perMinute / 60));
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /** Waits until a message may go; rejects when the signal fires meanwhile. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.perMinute <= 0) return Promise.resolve();
    const turn = this.queue.then(() => this.acquire(signal));
    // A cancelled waiter must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      this.tokens = Math.min(
        this.capacity,
        this.tokens + ((now - this.last) * this.perMinute) / 60_000,
      );
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute);
      await sleep(waitMs, undefined, signal ? { signal } : {});
    }
  }
}
