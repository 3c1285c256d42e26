import type { EndRequest } from "../model/index.js";
import { type PendingEnd, pendingFinding } from "./check-page.js";
import { endBatch } from "./end-batch.js";
import type { EndedEvent, PassOptions, PassRun } from "./pass-deps.js";
import { emptyWriteTally, type Finding, type FindingOutcome, type WriteTally } from "./pass-result.js";

/**
 * One page's write: what it did, a finding for every zombie it was given, the ends that committed (for the
 * pass to record), and the realtime sessions those ends left orphaned (for the pass to hang up).
 */
export interface PageWrite {
  tally: WriteTally;
  findings: Finding[];
  ended: EndedEvent[];
  orphans: { callId: string; realtimeId: string }[];
}

/** Writes a page's zombies (one batch, see endBatch) and says what became of each. Never rejects. */
export async function writeEnds(
  pending: readonly PendingEnd[],
  deps: PassRun,
  opts: PassOptions,
): Promise<PageWrite> {
  const tally = emptyWriteTally();
  const findings: Finding[] = [];
  const ended: EndedEvent[] = [];
  const orphans: PageWrite["orphans"] = [];
  const found = (p: PendingEnd, outcome: FindingOutcome) => findings.push(pendingFinding(p, outcome));
  if (pending.length === 0) return { tally, findings, ended, orphans };
  if (deps.leadership?.aborted === true) {
    tally.leadershipLost = true;
    for (const p of pending) found(p, "not_leader");
    return { tally, findings, ended, orphans };
  }

  const outcomes = await endBatch(
    pending.map((p) => endRequest(p, opts)),
    deps.store,
    deps.logger,
  );
  deps.onProgress?.();
  for (const p of pending) {
    const outcome = outcomes.get(p.row.id) ?? "failed";
    switch (outcome) {
      case "ended":
        tally.ended++;
        // Each end is in the audit trail with its evidence; the log has the pass's count, per call only at debug.
        deps.logger.debug(logFields(p), "zombie call ended");
        ended.push({
          callId: p.row.id,
          callSid: p.row.twilioSid,
          status: p.verdict.newStatus,
          endedAt: p.verdict.endedAt,
          decidedAt: p.decidedAt,
          source: p.verdict.source,
          runId: opts.runId,
        });
        if (p.verdict.source === "twilio" && p.row.openaiId !== null)
          orphans.push({ callId: p.row.id, realtimeId: p.row.openaiId });
        found(p, "ended");
        break;
      case "not_active":
        tally.alreadyEnded++;
        deps.logger.debug(logFields(p), "zombie already ended by someone else; left as it is");
        found(p, "already_ended");
        break;
      case "locked":
        tally.locked++;
        deps.logger.debug(
          logFields(p),
          "zombie row locked by the app; not waited for, tried again next pass",
        );
        found(p, "locked");
        break;
      case "refused_new":
      case "refused_known":
        tally.refused++;
        // Only a new refusal makes this pass partial; a known one is counted, and stays in the audit table.
        if (outcome === "refused_new") tally.refusedNew++;
        found(p, "refused");
        break;
      case "failed":
        tally.writeFailures++;
        tally.databaseLost = true;
        found(p, "write_failed");
        break;
    }
  }
  return { tally, findings, ended, orphans };
}

function endRequest(p: PendingEnd, opts: PassOptions): EndRequest {
  return {
    call: p.row,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt,
    durationSeconds: p.verdict.durationSeconds,
    source: p.verdict.source,
    runId: opts.runId,
    evidence: p.evidence,
    decidedAt: p.decidedAt,
  };
}

function logFields(p: PendingEnd) {
  return {
    callId: p.row.id,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt.toISOString(),
    source: p.verdict.source,
    why: p.verdict.why,
  };
}
