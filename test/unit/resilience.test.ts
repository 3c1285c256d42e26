import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type BreakerState,
  type Classification,
  createProviderPolicy,
  type ProviderPolicyOptions,
} from "../../src/providers/resilience.js";

/** A provider answer as the adapters would normalise it, reduced to what the policy looks at. */
interface Answer {
  status: number;
  retryAfterMs?: number;
}

function classify(a: Answer): Classification {
  if (a.status === 200 || a.status === 404) return "ok";
  if (a.status === 401) return "fatal";
  if (a.status === 429 || a.status >= 500) return "retryable";
  return "breaker_failure_no_retry"; // e.g. a malformed 200 body
}

function policy(overrides: Partial<ProviderPolicyOptions<Answer>> = {}) {
  return createProviderPolicy<Answer>({
    provider: "twilio",
    maxRps: 1000,
    concurrency: 10,
    timeoutMs: 1000,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    classify,
    retryAfterMs: (a) => a.retryAfterMs,
    ...overrides,
  });
}

const HANG = Symbol("hang");

/** An attempt that gives the scripted answers in turn (the last one repeats) and records when each started. */
function script(...answers: Array<Answer | typeof HANG>) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  const attempt = vi.fn(async (signal: AbortSignal): Promise<Answer> => {
    starts.push(performance.now());
    signals.push(signal);
    const next = answers[Math.min(starts.length - 1, answers.length - 1)] as Answer | typeof HANG;
    if (next === HANG) return new Promise<Answer>(() => {});
    return next;
  });
  return { attempt, starts, signals };
}

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
    await sleep(30);
    const other = script({ status: 200 });
    await expect(p.execute(other.attempt)).resolves.toEqual({ status: 200 });
    await expect(first).resolves.toEqual({ status: 200 });

    const [t429, tRetry] = limited.starts as [number, number];
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(300);
    expect(tRetry - t429).toBeGreaterThanOrEqual(299);
    // The other call asked 30 ms after the 429, yet did not start before the Retry-After had passed.
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

describe("circuit breaker", () => {
  it("opens after N consecutive failures, refuses without calling, half-opens, then closes on success", async () => {
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      breakerThreshold: 3,
      breakerHalfOpenAfterMs: 200,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 3; i++) await p.execute(script({ status: 503 }).attempt);
    expect(p.breakerState()).toBe("open");
    expect(states).toEqual(["open"]);

    const refused = script({ status: 200 });
    await expect(p.execute(refused.attempt)).resolves.toMatchObject({
      kind: "error",
      reason: "circuit_open",
    });
    expect(refused.attempt).not.toHaveBeenCalled();

    await sleep(220);
    const trial = script({ status: 200 });
    await expect(p.execute(trial.attempt)).resolves.toEqual({ status: 200 });
    expect(trial.attempt).toHaveBeenCalledTimes(1);
    expect(p.breakerState()).toBe("closed");
    expect(states).toEqual(["open", "half-open", "closed"]);
  });

  it("re-opens when the half-open trial fails", async () => {
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      breakerThreshold: 2,
      breakerHalfOpenAfterMs: 100,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 500 }).attempt);
    await sleep(120);
    await expect(p.execute(script({ status: 503 }).attempt)).resolves.toEqual({ status: 503 });
    expect(p.breakerState()).toBe("open");
    expect(states).toEqual(["open", "half-open", "open"]);
  });

  it("counts each attempt, so an open breaker also stops the retries of calls already under way", async () => {
    const p = policy({ breakerThreshold: 5 });
    const a = script({ status: 503 });
    const b = script({ status: 503 });
    await expect(p.execute(a.attempt)).resolves.toEqual({ status: 503 });
    await expect(p.execute(b.attempt)).resolves.toMatchObject({ kind: "error", reason: "circuit_open" });
    expect(a.attempt).toHaveBeenCalledTimes(3);
    expect(b.attempt).toHaveBeenCalledTimes(2);
  });

  it("counts timeouts and non-retried failures, one attempt each", async () => {
    const p = policy({ timeoutMs: 30, maxAttempts: 1, breakerThreshold: 3 });
    await p.execute(script(HANG).attempt);
    const malformed = script({ status: 422 });
    await p.execute(malformed.attempt);
    await p.execute(malformed.attempt);
    expect(malformed.attempt).toHaveBeenCalledTimes(2);
    expect(p.breakerState()).toBe("open");
  });

  it("is never opened by good answers (404, terminal) or by fatal ones (401), however many", async () => {
    const states: BreakerState[] = [];
    const p = policy({ breakerThreshold: 3, onBreakerStateChange: (s) => states.push(s) });
    for (let i = 0; i < 20; i++) await p.execute(script({ status: i % 2 === 0 ? 404 : 401 }).attempt);
    expect(p.breakerState()).toBe("closed");
    expect(states).toEqual([]);
  });

  it("resets the consecutive count on a good answer", async () => {
    const p = policy({ maxAttempts: 1, breakerThreshold: 3 });
    for (const status of [503, 503, 404, 503, 503]) await p.execute(script({ status }).attempt);
    expect(p.breakerState()).toBe("closed");
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
      await sleep(30);
      inFlight--;
      return { status: 200 };
    };
    await Promise.all(Array.from({ length: 12 }, () => p.execute(attempt)));
    expect(maxInFlight).toBe(3);
  });

  it("frees the slot while a retry waits out its backoff", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5); // decorrelated jitter → a first delay of ~180 ms
    const p = policy({ concurrency: 1, initialBackoffMs: 200, maxBackoffMs: 1000 });
    const slow = script({ status: 503 }, { status: 200 });
    const first = p.execute(slow.attempt);
    await sleep(30);
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
    const t0 = performance.now();
    setTimeout(() => ctrl.abort(), 50);
    await expect(p.execute(waiting.attempt, ctrl.signal)).resolves.toMatchObject({ kind: "error" });
    expect(performance.now() - t0).toBeLessThan(900);
    expect(waiting.attempt).not.toHaveBeenCalled();
    expect(p.limiter.waiting).toBe(0);
  });

  it("stops waiting out a long backoff, and nothing is attempted afterwards", async () => {
    const p = policy();
    const ctrl = new AbortController();
    const limited = script({ status: 429, retryAfterMs: 5000 }, { status: 200 });
    const t0 = performance.now();
    setTimeout(() => ctrl.abort(), 50);
    const result = await p.execute(limited.attempt, ctrl.signal);
    expect(result).toMatchObject({ kind: "error", reason: "timeout" });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(limited.attempt).toHaveBeenCalledTimes(1);
    expect(p.breakerState()).toBe("closed");
  });

  it("aborts an attempt in flight and does not count it against the breaker", async () => {
    const p = policy({ maxAttempts: 1, breakerThreshold: 1, timeoutMs: 5000 });
    const ctrl = new AbortController();
    const { attempt, signals } = script(HANG);
    setTimeout(() => ctrl.abort(), 50);
    await expect(p.execute(attempt, ctrl.signal)).resolves.toMatchObject({
      kind: "error",
      reason: "timeout",
    });
    expect(signals[0]?.aborted).toBe(true);
    await sleep(10);
    expect(p.breakerState()).toBe("closed");
  });

  it("does nothing when already aborted", async () => {
    const p = policy();
    const { attempt } = script({ status: 200 });
    await expect(p.execute(attempt, AbortSignal.abort())).resolves.toMatchObject({ kind: "error" });
    expect(attempt).not.toHaveBeenCalled();
  });
});
