/**
 * One tick of the leader, timer or request alike: through the gate (one pass at a time per replica), one pass
 * under its lease's heartbeat, the metrics it publishes, and the summary line. The loop (loop.ts) and POST
 * /reconcile (on-demand.ts) both start passes here and nowhere else.
 */

import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ActiveSummary, WriterLease } from "../model/index.js";
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

/** What the probes, /zombies and POST /reconcile read of the loop. */
export interface LoopState {
  leader: boolean;
  /** performance.now() of the last tick that did its job: a pass that did not fail, or a lease check. */
  lastTickOkAt: number;
  lastResult: PassResult | null;
}

/**
 * When the loop last moved forward (a page read, a provider answer, a write; a lease check on a stand-by),
 * on the monotonic clock. A loop that stops moving (a database link gone silent, a hung request) is what
 * /healthz, the lease heartbeat and the stall alert look at. It lives with the tick, whose heartbeat reads it,
 * because the loop imports the tick and not the other way round.
 */
export class Progress {
  private last: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.last = now();
  }

  mark(): void {
    this.last = this.now();
  }

  msSince(): number {
    return this.now() - this.last;
  }
}

/** What started a pass: the daemon's interval, or POST /reconcile. */
export type PassTrigger = "timer" | "request";

export interface RunningPass {
  runId: string;
  trigger: PassTrigger;
  startedAt: Date;
}

/**
 * One pass at a time per replica, whoever starts it. Two passes at once would ask the providers twice and race
 * each other's ends; the second is refused rather than queued, so that the caller learns which run to look at.
 */
export class PassGate {
  private current: { pass: RunningPass; done: Promise<unknown> } | null = null;

  get running(): RunningPass | null {
    return this.current?.pass ?? null;
  }

  /**
   * Starts `pass` now, or names the one running. The check and the start happen in the same turn of the
   * event loop, so two callers can never both start.
   */
  start<T>(pass: RunningPass, run: () => Promise<T>): { started: Promise<T> } | { busy: RunningPass } {
    if (this.current !== null) return { busy: this.current.pass };
    const started = run().finally(() => {
      this.current = null;
    });
    this.current = { pass, done: started };
    return { started };
  }

  /** Resolves once no pass is running (at once when none is). Never rejects. */
  async idle(): Promise<void> {
    while (this.current !== null) await this.current.done.catch(() => undefined);
  }
}

export interface TickDeps {
  passDeps: PassDeps;
  lease: WriterLease;
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
 * The leader's pass, timer or request alike: through the gate (busy: another pass is running, named), and
 * into what the probes and /zombies read.
 */
export function leaderTick(
  deps: TickDeps,
  state: LoopState,
  gate: PassGate,
  run: { runId: string; trigger: PassTrigger; dryRun?: boolean },
  signal: AbortSignal,
): { started: Promise<Tick> } | { busy: RunningPass } {
  return gate.start({ runId: run.runId, trigger: run.trigger, startedAt: new Date() }, async () => {
    const t = await runTick(deps, run.runId, signal, { dryRun: run.dryRun });
    if (t.result !== null) state.lastResult = t.result;
    if (t.outcome !== "failed") state.lastTickOkAt = performance.now();
    return t;
  });
}

/**
 * The leader's tick: one pass under its lease's heartbeat, its metrics, and one summary line. Never throws:
 * a failed pass is logged and counted, and the next interval tries again.
 */
async function runTick(
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

/**
 * Publishes what one pass found; the loop counts a lease check that failed here too, as a failed pass. Gauges
 * describe the last pass, so stale label values are reset first.
 */
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
function recordActive(metrics: Metrics, summary: ActiveSummary, now: Date): void {
  metrics.activeCalls.set(summary.active);
  const oldest = summary.oldestStartedAt;
  metrics.oldestActiveCallAge.set(
    oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
  );
}
