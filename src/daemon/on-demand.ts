import { randomUUID } from "node:crypto";
import { errorMessage } from "../error-message.js";
import type { WriterLease } from "../model/index.js";
import { passOutcome } from "../reconcile/pass.js";
import {
  type LoopState,
  leaderTick,
  type PassGate,
  type RunningPass,
  summaryFields,
  type TickDeps,
} from "./tick.js";

/** An HTTP answer, for the server adapter to send as JSON. */
export interface OnDemandAnswer {
  status: number;
  body: unknown;
}

export interface OnDemandDeps {
  tickDeps: TickDeps;
  lease: WriterLease;
  state: LoopState;
  gate: PassGate;
  /** The daemon's shutdown: a pass asked for stops on it as a timer pass does. */
  signal: AbortSignal;
}

const busyAnswer = (busy: RunningPass): OnDemandAnswer => ({
  status: 409,
  body: {
    error: "a pass is already running on this replica; its summary is logged when it finishes",
    running: { runId: busy.runId, trigger: busy.trigger, startedAt: busy.startedAt.toISOString() },
  },
});

/**
 * POST /reconcile: one pass now, on the leader, as a timer pass runs (same lease and heartbeat, deadline and
 * shutdown), answered with its summary. Refused while another pass runs (409, naming it): a pass may take up
 * to PASS_DEADLINE_SECONDS, longer than a caller or a proxy waits, and the pass running already reads the
 * table as it is now. A replica that does not lead answers 503 naming the lease holder, who can serve it.
 */
export async function reconcileNow(deps: OnDemandDeps, opts: { dryRun: boolean }): Promise<OnDemandAnswer> {
  const { lease, state, gate } = deps;
  if (deps.signal.aborted)
    return { status: 503, body: { error: "this replica is shutting down: ask the next leader" } };
  const running = gate.running;
  if (running !== null) return busyAnswer(running);
  if (!state.leader) return standingBy(lease);
  // Renewed first, as the loop does before its pass: the lease may be close to its end between two intervals.
  try {
    if (!(await lease.acquireOrRenew())) return standingBy(lease);
  } catch (err) {
    lease.drop();
    return { status: 503, body: { error: `could not renew the lease: ${errorMessage(err)}` } };
  }
  const runId = randomUUID();
  deps.tickDeps.logger.info({ runId, dryRun: opts.dryRun }, "pass requested (POST /reconcile)");
  const pass = leaderTick(
    deps.tickDeps,
    state,
    gate,
    { runId, trigger: "request", dryRun: opts.dryRun },
    deps.signal,
  );
  // The timer's pass may have started while the lease was renewed.
  if ("busy" in pass) return busyAnswer(pass.busy);
  const tick = await pass.started;
  if (tick.result === null)
    return { status: 500, body: { runId, error: `the pass failed: ${tick.error ?? "unknown error"}` } };
  const r = tick.result;
  return {
    status: 200,
    body: { runId, dryRun: r.dryRun, aborted: r.aborted, summary: summaryFields(r, passOutcome(r)) },
  };
}

async function standingBy(lease: WriterLease): Promise<OnDemandAnswer> {
  const holder = await lease.currentHolder().catch(() => null);
  return {
    status: 503,
    body: {
      error:
        holder === null
          ? "this replica is standing by and no replica holds the lease now; one takes it within RECONCILE_INTERVAL_SECONDS"
          : "this replica is standing by: ask the leader",
      leader:
        holder === null ? null : { holder: holder.holder, leaseExpiresAt: holder.expiresAt.toISOString() },
    },
  };
}
