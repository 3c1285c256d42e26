import { ConstantBackoff, type IRetryBackoffContext } from "cockatiel";
import { describe, expect, it } from "vitest";
import { atLeastRetryAfter } from "../../src/retry/backoff.js";
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryAfterFromHeaders } from "../../src/retry/retry-after.js";

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("7")).toBe(7000);
    expect(parseRetryAfter("Wed, 25 Nov 2026 12:00:10 GMT", Date.parse("2026-11-25T12:00:00Z"))).toBe(10_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });

  it("rounds fractional seconds up, trims, and reads a past date as 0", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(" 1.5 ", now)).toBe(1500);
    expect(parseRetryAfter("0.0001", now)).toBe(1);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("  ", now)).toBeUndefined();
  });
});

describe("a provider's wait is capped", () => {
  it("at MAX_RETRY_AFTER_MS, however long the answer asks for (seconds, a date, milliseconds)", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("999999999999", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterFromHeaders({ "retry-after-ms": "1e400" }, now)).toBeUndefined();
    expect(retryAfterFromHeaders({ "retry-after-ms": "99999999999999" }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("59", now)).toBe(59_000);
    // Below the largest delay a Node timer takes (2^31 − 1 ms): no TimeoutOverflowWarning, ever.
    expect(MAX_RETRY_AFTER_MS).toBeLessThan(2 ** 31 - 1);
  });
});

describe("retryAfterFromHeaders", () => {
  it("reads retry-after-ms first, then retry-after seconds or date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterFromHeaders({ "retry-after-ms": "1500.5", "retry-after": "9" }, now)).toBe(1501);
    expect(retryAfterFromHeaders({ "retry-after": "7" }, now)).toBe(7000);
    expect(retryAfterFromHeaders({ "retry-after": "Thu, 01 Jan 2026 00:00:04 GMT" }, now)).toBe(4000);
    expect(retryAfterFromHeaders({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterFromHeaders({}, now)).toBeUndefined();
  });

  it("falls back to retry-after when retry-after-ms is unreadable, and takes the first of repeated headers", () => {
    expect(retryAfterFromHeaders({ "retry-after-ms": "soon", "retry-after": "2" })).toBe(2000);
    expect(retryAfterFromHeaders({ "retry-after": ["3", "9"] })).toBe(3000);
  });
});

describe("atLeastRetryAfter", () => {
  type Answer = { retryAfterMs?: number };
  const answer = (a: Answer): IRetryBackoffContext<unknown> => ({
    attempt: 1,
    signal: new AbortController().signal,
    result: { value: a },
  });
  const failure: IRetryBackoffContext<unknown> = {
    attempt: 1,
    signal: new AbortController().signal,
    result: { error: new Error("x") },
  };
  const hint = (a: Answer) => a.retryAfterMs;

  it("waits the larger of the backoff and the answer's Retry-After", () => {
    const backoff = atLeastRetryAfter<Answer>(new ConstantBackoff(100), { retryAfterMs: hint });
    expect(backoff.next(answer({ retryAfterMs: 300 })).duration).toBe(300);
    expect(backoff.next(answer({ retryAfterMs: 50 })).duration).toBe(100);
    expect(backoff.next(answer({})).duration).toBe(100);
    expect(backoff.next(failure).duration).toBe(100);
    expect(backoff.next(answer({ retryAfterMs: Number.POSITIVE_INFINITY })).duration).toBe(100);
  });

  it("caps the hint, not the backoff, and keeps the floor on later steps", () => {
    const backoff = atLeastRetryAfter<Answer>(new ConstantBackoff(100), { retryAfterMs: hint, capMs: 1000 });
    const first = backoff.next(answer({ retryAfterMs: 60_000 }));
    expect(first.duration).toBe(1000);
    expect(first.next(answer({ retryAfterMs: 400 })).duration).toBe(400);
    expect(first.next(answer({ retryAfterMs: Number.POSITIVE_INFINITY })).duration).toBe(1000);
  });
});
