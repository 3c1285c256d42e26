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
