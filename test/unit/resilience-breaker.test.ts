import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BreakerState } from "../../src/providers/resilience.js";
import { type Answer, HANG, policy, script } from "./resilience-fixtures.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A breaker that may open after `n` requests in its window (1 s here): rate > 50 % once n are in. */
const afterRequests = (n: number) => ({ breakerWindowMs: 1000, breakerMinThroughput: n });

/** A seeded generator, so that "random" runs are the same every time. */
function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("circuit breaker: judges the provider by its failure rate", () => {
  it("opens on the rate once the window holds enough requests, refuses a call that cannot wait, half-opens, closes on success", async () => {
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(3),
      breakerHalfOpenAfterMs: 200,
      breakerWaitMs: 0,
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
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 100,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 500 }).attempt);
    await sleep(120);
    await expect(p.execute(script({ status: 503 }).attempt)).resolves.toEqual({ status: 503 });
    expect(p.breakerState()).toBe("open");
    expect(states).toEqual(["open", "half-open", "open"]);
  });

  it("opens on a real outage: every request failing, at volume", async () => {
    const p = policy({
      breakerWindowMs: 2000,
      breakerMinThroughput: 10,
      breakerHalfOpenAfterMs: 60_000,
      breakerWaitMs: 0,
    });
    const attempts = script({ status: 503 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => p.execute(attempts.attempt)));
    expect(p.breakerState()).toBe("open");
    // 20 rows × 3 attempts would be 60 requests: it opened at 20, and at most the 10 already under way followed.
    expect(attempts.attempt.mock.calls.length).toBeLessThanOrEqual(30);
    expect(answers.every((a) => "kind" in a || a.status === 503)).toBe(true);
  });

  it("stays closed below its minimum throughput, however many of those requests failed", async () => {
    const p = policy({ maxAttempts: 1, ...afterRequests(10) });
    for (let i = 0; i < 9; i++) await p.execute(script({ status: 500 }).attempt);
    expect(p.breakerState()).toBe("closed");
  });

  it("stays closed with a few failing rows among many good ones (rate under the threshold)", async () => {
    const p = policy({ ...afterRequests(5) });
    const rows = Array.from({ length: 40 }, (_, i) => script({ status: i % 5 === 0 ? 500 : 200 }));
    await Promise.all(rows.map((r) => p.execute(r.attempt)));
    expect(p.breakerState()).toBe("closed");
    // The 8 failing rows were each asked maxAttempts times, the others once.
    expect(rows.filter((r) => r.attempt.mock.calls.length === 3)).toHaveLength(8);
  });

  it("stays closed when 30 % of requests are answered 429 at random, and every call is answered", async () => {
    const random = seeded(42);
    const p = policy({ maxAttempts: 1, ...afterRequests(5) });
    let limited = 0;
    const attempt = async (): Promise<Answer> => {
      if (random() < 0.3) {
        limited++;
        return { status: 429, retryAfterMs: 5 };
      }
      return { status: 200 };
    };
    const answers = await Promise.all(Array.from({ length: 60 }, () => p.execute(attempt)));
    expect(limited).toBeGreaterThan(10);
    expect(answers.every((a) => "status" in a && a.status === 200)).toBe(true);
    expect(p.breakerState()).toBe("closed");
  });

  it("counts timeouts and non-retried failures, one request each", async () => {
    const p = policy({ timeoutMs: 30, maxAttempts: 1, ...afterRequests(3) });
    await p.execute(script(HANG).attempt);
    const malformed = script({ status: 422 });
    await p.execute(malformed.attempt);
    await p.execute(malformed.attempt);
    expect(malformed.attempt).toHaveBeenCalledTimes(2);
    expect(p.breakerState()).toBe("open");
  });

  it("is never opened by good answers (404, terminal) or by wrong credentials (401, 403), however many", async () => {
    const states: BreakerState[] = [];
    const p = policy({ ...afterRequests(3), onBreakerStateChange: (s) => states.push(s) });
    for (let i = 0; i < 30; i++)
      await p.execute(script({ status: [404, 401, 403][i % 3] as number }).attempt);
    expect(p.breakerState()).toBe("closed");
    expect(states).toEqual([]);
  });

  it("forgets failures older than its window", async () => {
    const p = policy({ maxAttempts: 1, breakerWindowMs: 300, breakerMinThroughput: 10 });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 500 }).attempt);
    await sleep(320);
    // 2 old failures + 1 new would open it (3 requests ≥ 10/s × 0.3 s, all failed) if they still counted.
    await p.execute(script({ status: 500 }).attempt);
    expect(p.breakerState()).toBe("closed");
  });
});

describe("circuit breaker: an open breaker makes calls wait for its half-open trial", () => {
  it("a call under way that already failed stops at the open breaker with its last answer", async () => {
    const p = policy({ ...afterRequests(5) });
    const a = script({ status: 503 });
    const b = script({ status: 503 });
    await expect(p.execute(a.attempt)).resolves.toEqual({ status: 503 });
    await expect(p.execute(b.attempt)).resolves.toEqual({ status: 503 });
    expect(a.attempt).toHaveBeenCalledTimes(3);
    expect(b.attempt).toHaveBeenCalledTimes(2);
    expect(p.breakerState()).toBe("open");
  });

  it("a call that meets it waits for the trial and gets the answer once the provider recovers; the others follow", async () => {
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 200,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 503 }).attempt);
    const t0 = performance.now();
    const waiting = Array.from({ length: 5 }, () => script({ status: 200 }));
    const answers = await Promise.all(waiting.map((w) => p.execute(w.attempt)));
    expect(answers).toEqual(Array(5).fill({ status: 200 }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    // One trial while half-open, then the rest once it closed.
    expect(states).toEqual(["open", "half-open", "closed"]);
    const firstStarts = waiting.map((w) => w.starts[0] as number);
    const trialStart = Math.min(...firstStarts);
    expect(firstStarts.filter((t) => t === trialStart)).toHaveLength(1);
    // The latest to arrive carried the trial.
    expect(waiting[4]?.starts[0]).toBe(trialStart);
  });

  it("waits through a failed trial for the next one within its budget; past it, circuit_open, never asked", async () => {
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 100,
      breakerWaitMs: 1000,
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 503 }).attempt);
    // Still down for the first trial, back for the next one.
    const provider = script({ status: 503 }, { status: 200 });
    const t0 = performance.now();
    const patient = p.execute(provider.attempt);
    // The latest waiter carries the first trial, which fails: it ends with its own 503.
    const trial = p.execute(provider.attempt);
    await expect(trial).resolves.toEqual({ status: 503 });
    // The other waits for the next trial (within its budget) and carries it.
    await expect(patient).resolves.toEqual({ status: 200 });
    expect(provider.attempt).toHaveBeenCalledTimes(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(p.breakerState()).toBe("closed");

    // Down for good, and a budget shorter than the half-open delay: it gives up without asking.
    const q = policy({
      maxAttempts: 1,
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 500,
      breakerWaitMs: 100,
    });
    for (let i = 0; i < 2; i++) await q.execute(script({ status: 503 }).attempt);
    const never = script({ status: 200 });
    await expect(q.execute(never.attempt)).resolves.toMatchObject({ kind: "error", reason: "circuit_open" });
    expect(never.attempt).not.toHaveBeenCalled();
  });

  it("stops waiting when its signal aborts: circuit_open, never an answer, and the trial is not spent", async () => {
    const p = policy({ maxAttempts: 1, ...afterRequests(2), breakerHalfOpenAfterMs: 5000 });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 503 }).attempt);
    const ctrl = new AbortController();
    const waiter = script({ status: 200 });
    setTimeout(() => ctrl.abort(), 50);
    const t0 = performance.now();
    await expect(p.execute(waiter.attempt, ctrl.signal)).resolves.toMatchObject({ reason: "circuit_open" });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(waiter.attempt).not.toHaveBeenCalled();
    expect(p.breakerState()).toBe("open");
  });
});
