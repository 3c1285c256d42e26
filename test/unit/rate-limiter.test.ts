import { afterEach, describe, expect, it, vi } from "vitest";
import { createRateLimiter } from "../../src/providers/rate-limiter.js";

/** The most events in any sliding window of `spanMs`, counted the way the provider simulator counts. */
function maxInSlidingWindow(times: number[], spanMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let head = 0;
  for (let i = 0; i < sorted.length; i++) {
    while ((sorted[head] as number) <= (sorted[i] as number) - spanMs) head++;
    max = Math.max(max, i - head + 1);
  }
  return max;
}

/**
 * Under fake timers (setTimeout and performance.now, all the limiter reads), whether `p` settles while the
 * clock stands still: what "at once" means, with no wall-clock bound.
 */
async function settlesAtOnce(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  p.then(mark, mark);
  await vi.advanceTimersByTimeAsync(0);
  return settled;
}

const fakeClock = () => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });

describe("createRateLimiter", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never lets more than maxRps start in any sliding second", async () => {
    const limiter = createRateLimiter({ maxRps: 20 });
    const t0 = performance.now();
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async () => {
        const release = await limiter.acquire();
        starts.push(performance.now());
        release();
      }),
    );
    expect(starts).toHaveLength(60);
    expect(maxInSlidingWindow(starts)).toBeLessThanOrEqual(20);
    // 60 requests at 20 per second: three windows, the third starting at least 2 s after the first.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(limiter.waiting).toBe(0);
  });

  it("lets a burst up to maxRps start at once, and the next one waits", async () => {
    fakeClock();
    const limiter = createRateLimiter({ maxRps: 5 });
    const burst = Promise.all(Array.from({ length: 5 }, async () => (await limiter.acquire())()));
    expect(await settlesAtOnce(burst)).toBe(true);
    expect(await settlesAtOnce(limiter.acquire())).toBe(false);
  });

  it("pauseFor delays every later acquire, and a shorter pause does not cut a longer one", async () => {
    const limiter = createRateLimiter({ maxRps: 100 });
    const t0 = performance.now();
    limiter.pauseFor(300);
    limiter.pauseFor(50);
    await Promise.all([limiter.acquire().then((r) => r()), limiter.acquire().then((r) => r())]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(299);
  });

  it("pauseFor also pushes back acquires that were already waiting", async () => {
    const limiter = createRateLimiter({ maxRps: 1 });
    (await limiter.acquire())();
    const t0 = performance.now();
    const waiting = limiter.acquire().then((r) => r()); // due about 1 s from now
    await vi.waitFor(() => expect(limiter.waiting).toBe(1), { timeout: 20_000, interval: 1 });
    limiter.pauseFor(1300);
    await waiting;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1300);
  });

  it("ignores pauses that are not positive finite durations", async () => {
    fakeClock();
    const limiter = createRateLimiter({ maxRps: 10 });
    for (const ms of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) limiter.pauseFor(ms);
    expect(await settlesAtOnce(limiter.acquire().then((release) => release()))).toBe(true);
    limiter.pauseFor(1);
    expect(await settlesAtOnce(limiter.acquire())).toBe(false);
  });

  it("rejects a waiting acquire at once when its signal aborts, and forgets it", async () => {
    fakeClock();
    const limiter = createRateLimiter({ maxRps: 1 });
    (await limiter.acquire())();
    const ctrl = new AbortController();
    const waiting = limiter.acquire(ctrl.signal);
    expect(await settlesAtOnce(waiting)).toBe(false);
    expect(limiter.waiting).toBe(1);
    ctrl.abort(new Error("pass stopped"));
    expect(await settlesAtOnce(waiting)).toBe(true);
    await expect(waiting).rejects.toThrow("pass stopped");
    expect(limiter.waiting).toBe(0);
  });

  it("rejects at once when the signal is already aborted, without using the budget", async () => {
    fakeClock();
    const limiter = createRateLimiter({ maxRps: 1 });
    const refused = limiter.acquire(AbortSignal.abort());
    expect(await settlesAtOnce(refused)).toBe(true);
    await expect(refused).rejects.toThrow();
    expect(await settlesAtOnce(limiter.acquire().then((release) => release()))).toBe(true);
  });

  it("serves waiters in order, and an aborted waiter does not hold up the next one", async () => {
    const limiter = createRateLimiter({ maxRps: 1, guardMs: 0 });
    (await limiter.acquire())();
    const ctrl = new AbortController();
    const order: string[] = [];
    const first = limiter.acquire(ctrl.signal).then(() => order.push("first"));
    const second = limiter.acquire().then((release) => {
      release();
      order.push("second");
    });
    const third = limiter.acquire().then((release) => {
      release();
      order.push("third");
    });
    ctrl.abort();
    await expect(first).rejects.toThrow();
    await second;
    expect(limiter.waiting).toBe(1);
    await third;
    expect(order).toEqual(["second", "third"]);
  });

  it("holds a request's place until it is released, then dates it at the release", async () => {
    // Timer-driven and on performance.now alone: a fake clock passes the window without waiting for it.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const limiter = createRateLimiter({ maxRps: 2, guardMs: 0 });
    const slow = await limiter.acquire();
    (await limiter.acquire())();
    const t0 = performance.now();
    const third = limiter.acquire().then((r) => {
      r();
      return performance.now();
    });
    // The slow request is still in flight after a whole window: its place is still taken.
    await vi.advanceTimersByTimeAsync(1100);
    expect(limiter.waiting).toBe(1);
    slow();
    await vi.runAllTimersAsync();
    const startedAt = await third;
    // A window after the release, not after the slow request's start.
    expect(startedAt - t0).toBeGreaterThanOrEqual(1100 + 999);
  });

  it("release is idempotent", async () => {
    const limiter = createRateLimiter({ maxRps: 1, guardMs: 0 });
    const release = await limiter.acquire();
    release();
    release();
    const t0 = performance.now();
    (await limiter.acquire())();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses maxRps %s", (maxRps) => {
    expect(() => createRateLimiter({ maxRps })).toThrow(RangeError);
  });
});
