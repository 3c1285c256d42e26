/**
 * When each call of `--events` ends at Twilio, and what the lifetimes measured come to. Pure: the schedule is
 * drawn from a seed, so that the run with events and the run without end the same calls at the same moments.
 */
import { seededRandom } from "../src/sim/seeded-random.js";

export interface ScheduledEnd {
  /** The call's position (0-based) in the seeded table. */
  call: number;
  /** Milliseconds after the schedule starts. */
  atMs: number;
}

/** Every call's end, each at a moment drawn uniformly in [0, spanMs), earliest first (ties by call). */
export function endSchedule(calls: number, spanMs: number, seed: number): ScheduledEnd[] {
  const random = seededRandom(seed);
  const ends = Array.from({ length: calls }, (_, call) => ({ call, atMs: Math.floor(random() * spanMs) }));
  return ends.sort((a, b) => a.atMs - b.atMs || a.call - b.call);
}

/** The q-quantile of ascending values by nearest rank: a value that was measured, never an interpolation. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no values");
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface LifetimeSummary {
  count: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

/** Median, p95 and max of lifetimes in milliseconds; null when none was measured. */
export function summarizeLifetimes(lifetimesMs: readonly number[]): LifetimeSummary | null {
  if (lifetimesMs.length === 0) return null;
  const sorted = [...lifetimesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    medianMs: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    maxMs: sorted[sorted.length - 1] as number,
  };
}
