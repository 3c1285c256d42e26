import type { Metrics } from "../metrics/metrics.js";
import type { ActiveSummary } from "../model/index.js";
import type { PassOutcome, PassResult } from "../reconcile/pass.js";

/** Publishes what one pass found. Gauges describe the last pass, so stale label values are reset first. */
export function recordPass(metrics: Metrics, result: PassResult | null, outcome: PassOutcome): void {
  metrics.passes.inc({ result: outcome });
  if (result === null) return;
  metrics.passDuration.observe((result.finishedAt.getTime() - result.startedAt.getTime()) / 1000);
  if (outcome !== "failed") metrics.lastSuccess.set(result.finishedAt.getTime() / 1000);
  metrics.zombieCalls.reset();
  for (const [source, n] of Object.entries(result.zombies)) metrics.zombieCalls.set({ source }, n);
  metrics.unverifiedCalls.reset();
  for (const [reason, n] of Object.entries(result.unverified))
    metrics.unverifiedCalls.set({ reason }, n ?? 0);
}

/** The state of the calls table itself, whatever the last pass did. */
export function recordActive(metrics: Metrics, summary: ActiveSummary, now: Date): void {
  metrics.activeCalls.set(summary.active);
  const oldest = summary.oldestStartedAt;
  metrics.oldestActiveCallAge.set(
    oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
  );
}
