import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HANG, policy, script } from "./resilience-fixtures.js";

// The circuit breaker's own tests are in resilience-breaker.test.ts.

afterEach(() => {
  vi.restoreAllMocks();
});

describe("retry", () => {
  it("retries retryable answers and returns the first good one", async () => {
    const retries: number[] = [];
    const p = policy({ onRetry: (r) => retries.push(r.attempt) });
    const { attempt } = script({ status: 503 }, { status: 500 }, { status: 200 });
    await expect(p.execute(attempt)).resolves.toEqual({ status: 200 });
    expect(attempt).toHaveBeenCalledTimes(3);
    expect(retries).toEqual([1, 2]);
  });

  it.each([200, 404, 401, 422])(
    "never retries an answer classified as not retryable (HTTP %i)",
    async (status) => {
      const p = policy();
      const { attempt } = script({ status }, { status: 200 });
      await expect(p.execute(attempt)).resolves.toEqual({ status });
      expect(attempt).toHaveBeenCalledTimes(1);
    },
  );

  it("gives up after maxAttempts, counting the first, and returns the last answer", async () => {
    const fourTimes = script({ status: 503 });
    await expect(policy({ maxAttempts: 4 }).execute(fourTimes.attempt)).resolves.toEqual({ status: 503 });
    expect(fourTimes.attempt).toHaveBeenCalledTimes(4);

    const byDefault = script({ status: 503 });
    await policy().execute(byDefault.attempt);
    expect(byDefault.attempt).toHaveBeenCalledTimes(3);

    const once = script({ status: 503 });
    await policy({ maxAttempts: 1 }).execute(once.attempt);
    expect(once.attempt).toHaveBeenCalledTimes(1);
  });

  it("waits at least Retry-After before the next attempt, and pauses the provider's other requests", async () => {
    const delays: number[] = [];
    const p = policy({ onRetry: (r) => delays.push(r.delayMs) });
    const limited = script({ status: 429, retryAfterMs: 300 }, { status: 200 });
    const first = p.execute(limited.attempt);
    // The 429 has come back, paused the provider and scheduled its retry.
    await vi.waitFor(() => expect(delays).toHaveLength(1), { timeout: 20_000, interval: 1 });
    const other = script({ status: 200 });
    await expect(p.execute(other.attempt)).resolves.toEqual({ status: 200 });
    await expect(first).resolves.toEqual({ status: 200 });

    const [t429, tRetry] = limited.starts as [number, number];
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(300);
    expect(tRetry - t429).toBeGreaterThanOrEqual(299);
    // The other call asked once the 429 was back, yet did not start before the Retry-After had passed.
    expect((other.starts[0] as number) - t429).toBeGreaterThanOrEqual(299);
  });

  it("keeps the jittered backoff within maxBackoffMs when there is no Retry-After", async () => {
    const delays: number[] = [];
    const p = policy({
      maxAttempts: 6,
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      onRetry: (r) => delays.push(r.delayMs),
    });
    await p.execute(script({ status: 503 }).attempt);
    expect(delays).toHaveLength(5);
    for (const d of delays) expect(d).toBeLessThanOrEqual(40);
  });
});

describe("429: back-pressure, bounded by time rather than by the attempts for failures", () => {
  it("a call answered 429 with Retry-After: 1 twice is asked a third time, and its answer returned", async () => {
    const states: string[] = [];
    // maxAttempts 1 and a breaker that one failure would open: neither is touched by 429s.
    const p = policy({
      maxAttempts: 1,
      breakerMinThroughput: 1 / 30,
      onBreakerStateChange: (s) => states.push(s),
    });
    const limited = script(
      { status: 429, retryAfterMs: 1000 },
      { status: 429, retryAfterMs: 1000 },
      { status: 200 },
    );
    await expect(p.execute(limited.attempt)).resolves.toEqual({ status: 200 });
    expect(limited.attempt).toHaveBeenCalledTimes(3);
    const [t1, t2, t3] = limited.starts as [number, number, number];
    expect(t2 - t1).toBeGreaterThanOrEqual(999);
    expect(t3 - t2).toBeGreaterThanOrEqual(999);
    expect(p.breakerState()).toBe("closed");
    expect(states).toEqual([]);
  });

  it("429s do not use up the attempts that failures have", async () => {
    const p = policy({ maxAttempts: 2 });
    const mixed = script({ status: 429 }, { status: 503 }, { status: 429 }, { status: 429 }, { status: 200 });
    await expect(p.execute(mixed.attempt)).resolves.toEqual({ status: 200 });
    expect(mixed.attempt).toHaveBeenCalledTimes(5);
  });

  it("stops retrying once the next retry would start after rateLimitBudgetMs, with the 429 answer", async () => {
    const p = policy({ rateLimitBudgetMs: 250 });
    const limited = script({ status: 429, retryAfterMs: 100 });
    await expect(p.execute(limited.attempt)).resolves.toEqual({ status: 429, retryAfterMs: 100 });
    expect(limited.attempt).toHaveBeenCalledTimes(3);

    const tooLong = script({ status: 429, retryAfterMs: 5000 }, { status: 200 });
    await expect(policy({ rateLimitBudgetMs: 1000 }).execute(tooLong.attempt)).resolves.toMatchObject({
      status: 429,
    });
    expect(tooLong.attempt).toHaveBeenCalledTimes(1);
  });
});

describe("timeout", () => {
  it("times out an attempt that never answers, aborts its signal, retries, then reports a timeout", async () => {
    const p = policy({ timeoutMs: 50, maxAttempts: 2 });
    const { attempt, signals } = script(HANG);
    const result = await p.execute(attempt);
    expect(result).toMatchObject({ kind: "error", reason: "timeout" });
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it("returns the answer of a retry that follows a timeout", async () => {
    const p = policy({ timeoutMs: 50 });
    const { attempt } = script(HANG, { status: 200 });
    await expect(p.execute(attempt)).resolves.toEqual({ status: 200 });
    expect(attempt).toHaveBeenCalledTimes(2);
  });
});

describe("concurrency", () => {
  it("never has more than `concurrency` attempts in flight", async () => {
    const p = policy({ concurrency: 3 });
    let inFlight = 0;
    let maxInFlight = 0;
    const attempt = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // A sleep: the attempt's own duration, so that the calls overlap.
      await sleep(30);
      inFlight--;
      return { status: 200 };
    };
    await Promise.all(Array.from({ length: 12 }, () => p.execute(attempt)));
    expect(maxInFlight).toBe(3);
  });

  it("frees the slot while a retry waits out its backoff", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5); // decorrelated jitter → a first delay of ~180 ms
    let retries = 0;
    const p = policy({ concurrency: 1, initialBackoffMs: 200, maxBackoffMs: 1000, onRetry: () => retries++ });
    const slow = script({ status: 503 }, { status: 200 });
    const first = p.execute(slow.attempt);
    await vi.waitFor(() => expect(retries).toBe(1), { timeout: 20_000, interval: 1 });
    const other = script({ status: 200 });
    await p.execute(other.attempt);
    await first;
    expect(other.starts[0]).toBeLessThan(slow.starts[1] as number);
  });
});

describe("outer signal", () => {
  it("stops waiting for the rate limiter", async () => {
    const p = policy({ maxRps: 1 });
    await p.execute(script({ status: 200 }).attempt);
    const ctrl = new AbortController();
    const waiting = script({ status: 200 });
    setTimeout(() => ctrl.abort(), 50);
    await expect(p.execute(waiting.attempt, ctrl.signal)).resolves.toMatchObject({ kind: "error" });
    // Had it waited for the limiter's next slot (a second away), the attempt would have run.
    expect(waiting.attempt).not.toHaveBeenCalled();
    expect(p.limiter.waiting).toBe(0);
  });

  it("stops waiting out a long backoff, and nothing is attempted afterwards", async () => {
    const p = policy();
    const ctrl = new AbortController();
    const limited = script({ status: 429, retryAfterMs: 5000 }, { status: 200 });
    setTimeout(() => ctrl.abort(), 50);
    const result = await p.execute(limited.attempt, ctrl.signal);
    expect(result).toMatchObject({ kind: "error", reason: "timeout" });
    // Had it waited out the 5 s Retry-After, the second attempt would have run (and answered 200).
    expect(limited.attempt).toHaveBeenCalledTimes(1);
    expect(p.breakerState()).toBe("closed");
  });

  it("aborts an attempt in flight and does not count it against the breaker", async () => {
    const p = policy({ maxAttempts: 1, breakerMinThroughput: 1 / 30, timeoutMs: 5000 });
    const ctrl = new AbortController();
    const { attempt, signals } = script(HANG);
    setTimeout(() => ctrl.abort(), 50);
    await expect(p.execute(attempt, ctrl.signal)).resolves.toMatchObject({
      kind: "error",
      reason: "timeout",
    });
    expect(signals[0]?.aborted).toBe(true);
    // A sleep: a failure counted late, once the abandoned attempt settles, would show after a few turns.
    await sleep(10);
    expect(p.breakerState()).toBe("closed");
  });

  it("aborted with an error value: calls not yet started answer with it and are never attempted", async () => {
    const p = policy({ concurrency: 1 });
    const stop = new AbortController();
    const first = script(HANG);
    const queued = script({ status: 200 });
    const inFlight = p.execute(first.attempt, stop.signal);
    const waiting = p.execute(queued.attempt, stop.signal);
    await vi.waitFor(() => expect(first.attempt).toHaveBeenCalledTimes(1), { timeout: 20_000, interval: 1 });
    const answer = {
      kind: "error",
      reason: "auth_failed",
      detail: "credentials rejected earlier in this pass",
    };
    stop.abort(answer);
    await expect(inFlight).resolves.toBe(answer);
    await expect(waiting).resolves.toBe(answer);
    await expect(p.execute(queued.attempt, stop.signal)).resolves.toBe(answer);
    expect(first.attempt).toHaveBeenCalledTimes(1);
    expect(queued.attempt).not.toHaveBeenCalled();
    expect(p.breakerState()).toBe("closed");
  });

  it("does nothing when already aborted", async () => {
    const p = policy();
    const { attempt } = script({ status: 200 });
    await expect(p.execute(attempt, AbortSignal.abort())).resolves.toMatchObject({ kind: "error" });
    expect(attempt).not.toHaveBeenCalled();
  });
});
