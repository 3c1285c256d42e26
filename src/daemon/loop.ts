import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../error-message.js";
import type { WriterLease } from "../model/index.js";
import { type LoopState, leaderTick, type PassGate, recordPass, type TickDeps } from "./tick.js";

export type { LoopState } from "./tick.js";

/**
 * Every interval: take or renew the lease; the leader runs a tick, the others stand by. A failed pass
 * (database down, provider outage) is logged and the next interval tries again, so the daemon heals by
 * itself. Returns once `signal` is aborted and the tick in flight has finished.
 */
export async function reconcileLoop(
  deps: TickDeps & { intervalMs: number; lease: WriterLease },
  state: LoopState,
  signal: AbortSignal,
  gate: PassGate,
): Promise<void> {
  const { lease, logger } = deps;
  // What this replica last said it was: a stand-by says so once at start, as a leader does.
  let said: boolean | null = null;
  while (!signal.aborted) {
    const runId = randomUUID();
    const leader = await checkLease(lease, deps, runId);
    if (leader !== null && leader !== said) {
      said = leader;
      logger.info(
        { leader },
        leader ? "became the leader: reconciling" : "standing by: another replica leads",
      );
    }
    state.leader = leader === true;
    // A replica that does not lead has no findings to serve: its last report is stale (and it is not reused
    // if it leads again later).
    if (!state.leader) state.lastResult = null;
    deps.metrics.isLeader.set(state.leader ? 1 : 0);
    if (leader !== null) deps.progress.mark();
    if (leader === false) {
      // A stand-by replica is doing its job when it can see the lease: it is ready to take over.
      state.lastTickOkAt = performance.now();
    } else if (leader === true) {
      const pass = leaderTick(deps, state, gate, { runId, trigger: "timer" }, signal);
      // A pass someone asked for (POST /reconcile) is running: it is this interval's pass.
      if ("busy" in pass) await gate.idle();
      else await pass.started;
    }
    await sleep(deps.intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Whether this replica leads this interval; null when the lease could not be checked (database trouble). */
async function checkLease(lease: WriterLease, deps: TickDeps, runId: string): Promise<boolean | null> {
  try {
    return await lease.acquireOrRenew();
  } catch (err) {
    // No lease, no pass: for the operator this is a pass that failed on the database.
    lease.drop();
    recordPass(deps.metrics, null, "failed");
    deps.logger.error(
      { runId, outcome: "failed", stage: "lease", err: errorMessage(err) },
      "pass failed; retrying next interval",
    );
    return null;
  }
}
