import { type PendingEnd, pendingFinding } from "./check-page.js";
import type { PassRun } from "./pass-deps.js";
import { addFindings, type PassResult } from "./pass-result.js";

/** Records the realtime ends a suspect pass does not write: each is a finding, their number is counted. */
export function holdBack(
  result: PassResult,
  held: readonly PendingEnd[],
  deps: PassRun,
  maxFindings: number,
): void {
  result.realtimeHeldBack = held.length;
  const why = result.realtimeSuspect;
  deps.logger.warn(
    { runId: result.runId, heldBack: held.length, dryRun: result.dryRun, why },
    "OpenAI's absences look suspect: no call is ended on OpenAI's word this pass",
  );
  addFindings(
    result,
    held.map((p) => pendingFinding(p, "evidence_suspect")),
    maxFindings,
  );
}

/** Records the age-bound ends a pass does not write (their share was unusual): findings, counted, said once. */
export function holdBackAgeBound(
  result: PassResult,
  held: readonly PendingEnd[],
  deps: PassRun,
  maxFindings: number,
): void {
  result.ageBoundHeldBack = held.length;
  deps.logger.warn(
    { runId: result.runId, heldBack: held.length, dryRun: result.dryRun, why: result.ageBoundSuspect },
    "no call is ended on the age bound this pass: check ACTIVE_STATUSES and the column mapping; if this backlog is real, run `call-reconciler audit --apply --confirm-age-bound`",
  );
  addFindings(
    result,
    held.map((p) => pendingFinding(p, "age_bound_share")),
    maxFindings,
  );
}
