import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BreakerState } from "../../src/providers/resilience.js";
import { type Answer, HANG, policy, script } from "./resilience-fixtures.js";

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/**
 * The breaker's window and half-open delay run on Date.now (cockatiel's clock): faking Date alone moves them on
 * without waiting, while timeouts, backoffs and the rate limit keep their real timers.
 */
function fakeBreakerClock(): (ms: number) => void {
  vi.useFakeTimers({ toFake: ["Date"] });
  return (ms) => vi.advanceTimersByTime(ms);
}

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
  it("opens on the rate once the window holds enough requests, refuses the calls that meet it, half-opens, closes on success", async () => {
    const pass = fakeBreakerClock();
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(3),
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

    pass(220);
    const trial = script({ status: 200 });
    await expect(p.execute(trial.attempt)).resolves.toEqual({ status: 200 });
    expect(trial.attempt).toHaveBeenCalledTimes(1);
    expect(p.breakerState()).toBe("closed");
    expect(states).toEqual(["open", "half-open", "closed"]);
  });

  it("re-opens when the half-open trial fails", async () => {
    const pass = fakeBreakerClock();
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 100,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 500 }).attempt);
    pass(120);
    await expect(p.execute(script({ status: 503 }).attempt)).resolves.toEqual({ status: 503 });
    expect(p.breakerState()).toBe("open");
    expect(states).toEqual(["open", "half-open", "open"]);
  });

  it("opens on a real outage: every request failing, at volume", async () => {
    const p = policy({
      breakerWindowMs: 2000,
      breakerMinThroughput: 10,
      breakerHalfOpenAfterMs: 60_000,
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
    const pass = fakeBreakerClock();
    const p = policy({ maxAttempts: 1, breakerWindowMs: 300, breakerMinThroughput: 10 });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 500 }).attempt);
    pass(320);
    // 2 old failures + 1 new would open it (3 requests ≥ 10/s × 0.3 s, all failed) if they still counted.
    await p.execute(script({ status: 500 }).attempt);
    expect(p.breakerState()).toBe("closed");
  });
});

describe("circuit breaker: an open breaker is a reason, never a wait", () => {
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

  it("a call that meets it open is answered circuit_open at once, never asked and never waiting", async () => {
    const p = policy({ maxAttempts: 1, ...afterRequests(2), breakerHalfOpenAfterMs: 60_000 });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 503 }).attempt);
    const waiting = Array.from({ length: 5 }, () => script({ status: 200 }));
    // A wait would last the half-open delay (60 s); the answers come at once.
    const answers = await Promise.race([
      Promise.all(waiting.map((w) => p.execute(w.attempt))),
      sleep(5000).then(() => "still waiting" as const),
    ]);
    expect(answers).not.toBe("still waiting");
    for (const a of answers as unknown[]) expect(a).toMatchObject({ kind: "error", reason: "circuit_open" });
    for (const w of waiting) expect(w.attempt).not.toHaveBeenCalled();
    expect(p.breakerState()).toBe("open");
  });

  it("the first call after the half-open delay carries the trial; a call meanwhile waits only for that request", async () => {
    const pass = fakeBreakerClock();
    const states: BreakerState[] = [];
    const p = policy({
      maxAttempts: 1,
      ...afterRequests(2),
      breakerHalfOpenAfterMs: 100,
      onBreakerStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) await p.execute(script({ status: 503 }).attempt);
    pass(120);
    let answerTrial = () => {};
    const trialAnswered = new Promise<void>((resolve) => {
      answerTrial = resolve;
    });
    const trial = vi.fn(async (): Promise<Answer> => {
      await trialAnswered;
      return { status: 200 };
    });
    const first = p.execute(trial);
    await vi.waitFor(() => expect(trial).toHaveBeenCalledTimes(1));
    // Arrives while the trial is under way (cockatiel holds it for that one request, bounded by its timeout),
    // and is asked once the trial has closed the breaker.
    const beside = script({ status: 200 });
    const second = p.execute(beside.attempt);
    expect(beside.attempt).not.toHaveBeenCalled();
    answerTrial();
    await expect(first).resolves.toEqual({ status: 200 });
    await expect(second).resolves.toEqual({ status: 200 });
    expect(beside.attempt).toHaveBeenCalledTimes(1);
    expect(states).toEqual(["open", "half-open", "closed"]);
  });
});
