import type { Lease } from "../db/lease.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ActiveSummary } from "../model/index.js";
import {
  type PassDeps,
  type PassOutcome,
  type PassResult,
  passOutcome,
  runPass,
  totalUnverified,
  totalZombies,
} from "../reconcile/pass.js";
import { holdLeadership } from "./leadership.js";
import type { Progress } from "./progress.js";
import { recordActive, recordPass } from "./record-pass.js";

export interface TickDeps {
  passDeps: PassDeps;
  lease: Lease;
  leaseSeconds: number;
  dryRun: boolean;
  metrics: Metrics;
  activeSummary(): Promise<ActiveSummary>;
  logger: Logger;
  progress: Progress;
  /** A pass stops taking rows at this age (the rest waits for the next pass). */
  passDeadlineMs: number;
}

/** What one tick did: the outcome, and the pass's result unless the pass itself failed (then why). */
export interface Tick {
  outcome: PassOutcome;
  result: PassResult | null;
  error?: string;
}

/**
 * The leader's tick: one pass under its lease's heartbeat, its metrics, and one summary line. Never throws:
 * a failed pass is logged and counted, and the next interval tries again.
 */
export async function runTick(
  deps: TickDeps,
  runId: string,
  signal: AbortSignal,
  opts: { dryRun?: boolean } = {},
): Promise<Tick> {
  const { logger, metrics } = deps;
  const { progress } = deps;
  progress.mark();
  const leadership = holdLeadership(deps.lease, deps.leaseSeconds, logger, {
    stalled: () => progress.msSince() > (deps.leaseSeconds * 1000) / 2,
  });
  const deadline = AbortSignal.timeout(deps.passDeadlineMs);
  let r: PassResult;
  try {
    r = await runPass(
      {
        ...deps.passDeps,
        leadership: leadership.signal,
        onProgress: () => progress.mark(),
      },
      {
        runId,
        // DRY_RUN=true is never overridden: such a daemon writes nothing, whoever asks.
        dryRun: deps.dryRun || opts.dryRun === true,
        signal: AbortSignal.any([signal, deadline]),
        diagnose: true,
      },
    );
  } catch (err) {
    recordPass(metrics, null, "failed");
    logger.error({ runId, outcome: "failed", err: errorMessage(err) }, "pass failed; retrying next interval");
    return { outcome: "failed", result: null, error: errorMessage(err) };
  } finally {
    leadership.stop();
  }
  if (deadline.aborted && !signal.aborted)
    logger.warn(
      { runId, deadlineSeconds: deps.passDeadlineMs / 1000 },
      "pass stopped at its deadline; the next pass goes on",
    );
  metrics.clockSkew.set(r.clockSkewMs / 1000);
  metrics.evidenceSuspect.set({ provider: "openai" }, r.realtimeSuspect === null ? 0 : 1);
  metrics.evidenceSuspect.set({ provider: "age_bound" }, r.ageBoundSuspect === null ? 0 : 1);
  const outcome = passOutcome(r);
  recordPass(metrics, r, outcome);
  await deps.activeSummary().then(
    (summary) => recordActive(metrics, summary, r.finishedAt),
    (err: unknown) => logger.warn({ err: errorMessage(err) }, "could not count the active calls"),
  );
  const queue = deps.passDeps.diagnosis?.queue;
  if (queue !== undefined) {
    await queue.backlog().then(
      (b) => metrics.diagnosesQueued.set(b.queued),
      (err: unknown) => logger.warn({ err: errorMessage(err) }, "could not count the diagnosis queue"),
    );
  }
  logger.info(summaryFields(r, outcome), "pass finished");
  return { outcome, result: r };
}

/** The pass's summary line, as logged and as POST /reconcile answers it. */
export function summaryFields(r: PassResult, outcome: PassOutcome) {
  return {
    runId: r.runId,
    outcome,
    checked: r.checked,
    live: r.live,
    zombies: totalZombies(r),
    ended: r.ended,
    alreadyEnded: r.alreadyEnded,
    writeFailures: r.writeFailures,
    unverified: totalUnverified(r),
    unverifiedByReason: r.unverified,
    realtimeHangups: r.realtimeHangups,
    diagnosed: r.diagnoses.settled,
    diagnosisRequests: r.diagnoses.requests,
    leadershipLost: r.leadershipLost,
    durationMs: r.finishedAt.getTime() - r.startedAt.getTime(),
  };
}
