import { describe, expect, it } from "vitest";
import { endSchedule, quantile, summarizeLifetimes } from "../../bench/events-schedule.js";

describe("the moments the events bench ends its calls", () => {
  it("ends every call once, within the span, earliest first", () => {
    const s = endSchedule(1000, 180_000, 1);
    expect(s.map((e) => e.call).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, k) => k));
    expect(s.every((e) => Number.isInteger(e.atMs) && e.atMs >= 0 && e.atMs < 180_000)).toBe(true);
    expect(s.every((e, k) => k === 0 || (s[k - 1]?.atMs ?? 0) <= e.atMs)).toBe(true);
  });

  it("is the same for the same seed, and another for another seed", () => {
    expect(endSchedule(200, 60_000, 7)).toEqual(endSchedule(200, 60_000, 7));
    expect(endSchedule(200, 60_000, 8)).not.toEqual(endSchedule(200, 60_000, 7));
  });

  it("spreads the ends over the whole span, not bunched at one end of it", () => {
    const s = endSchedule(1000, 180_000, 1);
    const thirds = [0, 1, 2].map((t) => s.filter((e) => Math.floor(e.atMs / 60_000) === t).length);
    for (const n of thirds) expect(n).toBeGreaterThan(250);
  });
});

describe("lifetime figures", () => {
  it("takes quantiles by nearest rank: always a measured value", () => {
    const values = Array.from({ length: 20 }, (_, k) => (k + 1) * 10);
    expect(quantile(values, 0.5)).toBe(100);
    expect(quantile(values, 0.95)).toBe(190);
    expect(quantile(values, 1)).toBe(200);
    expect(quantile([42], 0.95)).toBe(42);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it("summarises unsorted lifetimes, and none as null", () => {
    expect(summarizeLifetimes([3000, 1000, 2000, 60_000])).toEqual({
      count: 4,
      medianMs: 2000,
      p95Ms: 60_000,
      maxMs: 60_000,
    });
    expect(summarizeLifetimes([])).toBeNull();
  });
});
