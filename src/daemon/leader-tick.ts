import type { PassResult } from "../reconcile/pass.js";
import type { PassGate, PassTrigger, RunningPass } from "./pass-gate.js";
import { runTick, type Tick, type TickDeps } from "./tick.js";

/** What the probes, /zombies and POST /reconcile read of the loop. */
export interface LoopState {
  leader: boolean;
  /** performance.now() of the last tick that did its job: a pass that did not fail, or a lease check. */
  lastTickOkAt: number;
  lastResult: PassResult | null;
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
