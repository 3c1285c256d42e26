import type { PassOutcome, PassResult } from "../reconcile/pass.js";
import type { Metrics } from "./metrics.js";

/** Publishes what one pass found. Gauges describe the last pass, so stale label values are reset first. */
export function recordPass(metrics: Metrics, result: PassResult | null, outcome: PassOutcome): void {
  metrics.passes.inc({ result: outcome });
  if (result === null) return;
  metrics.zombieCalls.reset();
  for (const [source, n] of Object.entries(result.zombies)) metrics.zombieCalls.set({ source }, n);
  metrics.unverifiedCalls.reset();
  for (const [reason, n] of Object.entries(result.unverified))
    metrics.unverifiedCalls.set({ reason }, n ?? 0);
}
