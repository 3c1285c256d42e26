/**
 * A strict sliding-window request limiter for one provider, shared by every request to it (list and fetch
 * alike), that a 429's Retry-After can pause.
 *
 * Written here rather than taken from p-throttle (8.1.1, checked with `npm view`/its source): p-throttle has
 * no way to pause the budget for a Retry-After (its strict mode books each call's start time when the call is
 * queued, so a later 429 cannot push back calls already waiting), and it can only abort through one signal
 * given when the throttle is created, which rejects everything queued; we need each acquire to be abortable
 * on its own (one pass stopping, one attempt's signal). It is also not a dependency of this project.
 */

/** Call when the request's answer (or failure) is in: only then does its place in the window start to age. */
export type Release = () => void;

export interface RateLimiter {
  /**
   * Resolves when one more request may start; rejects with `signal.reason` if the signal aborts first.
   * The provider counts arrivals, and a request can take a while to leave this process (a new connection,
   * a busy event loop), so a request's place in the window is held until it is released, then dated at its
   * release. Request k + maxRps therefore never starts before request k has reached the provider plus one
   * window: the provider's count stays within maxRps whatever the send latency, at a cost of
   * latency / (1 s + latency) of throughput.
   */
  acquire(signal?: AbortSignal): Promise<Release>;
  /** No request starts before `ms` from now (never shortens an earlier pause). */
  pauseFor(ms: number): void;
  /** Acquires still waiting (for metrics and tests). */
  readonly waiting: number;
}

export interface RateLimiterOptions {
  /** Requests allowed to start in any sliding 1-second window. */
  maxRps: number;
  /**
   * Added to the 1-second window. The provider counts arrivals, not our start times: network jitter can bring
   * two requests spaced exactly 1000 ms apart closer together, and timer and clock rounding can shave a
   * millisecond. Default 20 ms (2 % of throughput) so that the provider's own count stays within maxRps.
   */
  guardMs?: number;
}

/**
 * An account's own limiter under an overall one (TWILIO_TOTAL_MAX_RPS): a request takes its own place first,
 * so waiting for the shared budget never holds another account back, then one in the shared window. A 429
 * pauses only `own`: Twilio's limits, and its Retry-After, are per account.
 */
export function underOverallLimit(own: RateLimiter, overall: RateLimiter): RateLimiter {
  return {
    async acquire(signal) {
      const releaseOwn = await own.acquire(signal);
      try {
        const releaseOverall = await overall.acquire(signal);
        return () => {
          releaseOwn();
          releaseOverall();
        };
      } catch (err) {
        releaseOwn();
        throw err;
      }
    },
    pauseFor: (ms) => own.pauseFor(ms),
    get waiting() {
      return own.waiting;
    },
  };
}

interface Waiter {
  grant(release: Release): void;
}

const WINDOW_MS = 1000;

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const { maxRps } = opts;
  if (!Number.isInteger(maxRps) || maxRps < 1) {
    throw new RangeError(`maxRps must be a whole number of at least 1, got ${maxRps}`);
  }
  const windowMs = WINDOW_MS + (opts.guardMs ?? 20);
  // Monotonic: wall-clock jumps (NTP) must neither burst nor stall the limiter.
  const now = () => performance.now();

  // The start times of the last maxRps grants, as a ring: `starts[next]` is the one maxRps grants ago.
  const starts: number[] = new Array(maxRps).fill(Number.NEGATIVE_INFINITY);
  let next = 0;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  const queue: Waiter[] = [];
  // Invariant: a timer is armed exactly when the queue is not empty. It is left referenced on purpose: it
  // only exists while someone awaits acquire(), and a one-shot `audit` may have nothing else keeping the
  // event loop alive; aborting the waiters clears it, so it never holds up a shutdown.
  let timer: ReturnType<typeof setTimeout> | undefined;

  const readyAt = (): number => Math.max(pausedUntil, (starts[next] as number) + windowMs);

  /** Books the next place in the window for a request in flight (it ages only once released). */
  const record = (): Release => {
    const slot = next;
    starts[slot] = Number.POSITIVE_INFINITY;
    next = (next + 1) % maxRps;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      starts[slot] = now();
      if (queue.length > 0) drain();
    };
  };

  const disarm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const drain = (): void => {
    disarm();
    while (queue.length > 0) {
      const t = now();
      const at = readyAt();
      if (at > t) {
        // A place held by a request in flight (Infinity) is freed by its release, which drains again.
        // Timers may fire a little early; drain re-checks and re-arms, waiting at least 1 ms each time.
        if (Number.isFinite(at)) timer = setTimeout(drain, Math.max(1, Math.ceil(at - t)));
        return;
      }
      (queue.shift() as Waiter).grant(record());
    }
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const t = now();
      // FIFO: a newcomer never overtakes a waiter, even when a slot happens to be free right now.
      if (queue.length === 0 && readyAt() <= t) return Promise.resolve(record());
      return new Promise<Release>((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          if (queue.length === 0) disarm();
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          grant(release) {
            signal?.removeEventListener("abort", onAbort);
            resolve(release);
          },
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        if (queue.length === 1) drain();
      });
    },

    pauseFor(ms) {
      if (!(ms > 0) || !Number.isFinite(ms)) return;
      pausedUntil = Math.max(pausedUntil, now() + ms);
      // The armed timer was computed before the pause: re-arm it for the later time.
      if (queue.length > 0) drain();
    },

    get waiting() {
      return queue.length;
    },
  };
}
