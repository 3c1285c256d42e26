import { errorMessage } from "../error-message.js";
import { type EndRequest, RowRefusedError } from "../model/index.js";
import type { PendingEnd } from "./check-page.js";
import { ageSeconds } from "./check-page.js";
import { hangupOrphans } from "./hangup-orphans.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";
import { emptyWriteTally, type Finding, type FindingOutcome, type WriteTally } from "./pass-result.js";

/** One page's write: what it did, and a finding for every zombie it was given. */
export interface PageWrite {
  tally: WriteTally;
  findings: Finding[];
}

interface EndAllResult {
  ended: Set<string>;
  failed: Set<string>;
  databaseTrouble: boolean;
}

/**
 * Writes a page's zombies with one conditional statement (DESIGN.md step 4, batched): 10,000 ends are 20
 * round trips, not 10,000. Then logs and announces each end that committed, and hangs up the realtime
 * sessions that outlived their phone leg. Never rejects.
 */
export async function writeEnds(
  pending: readonly PendingEnd[],
  deps: PassDeps,
  opts: PassOptions,
): Promise<PageWrite> {
  const tally = emptyWriteTally();
  const findings: Finding[] = [];
  const found = (p: PendingEnd, outcome: FindingOutcome) =>
    findings.push({
      call: p.row,
      ageSeconds: ageSeconds(p.row, p.decidedAt),
      evidence: p.evidence,
      verdict: p.verdict,
      outcome,
    });
  if (pending.length === 0) return { tally, findings };
  if (deps.leadership?.aborted === true) {
    tally.leadershipLost = true;
    for (const p of pending) found(p, "not_leader");
    return { tally, findings };
  }

  const { ended, failed, databaseTrouble } = await endAll(pending, deps, opts);
  tally.writeFailures = failed.size;
  tally.databaseLost = databaseTrouble;
  const orphans: { callId: string; realtimeId: string }[] = [];
  for (const p of pending) {
    if (failed.has(p.row.id)) {
      found(p, "write_failed");
    } else if (ended.has(p.row.id)) {
      tally.ended++;
      deps.logger.info(logFields(p, opts), "zombie call ended");
      deps.onEnded?.({
        callId: p.row.id,
        status: p.verdict.newStatus,
        endedAt: p.verdict.endedAt,
        source: p.verdict.source,
        runId: opts.runId,
      });
      if (p.verdict.source === "twilio" && p.row.openaiId !== null)
        orphans.push({ callId: p.row.id, realtimeId: p.row.openaiId });
      found(p, "ended");
    } else {
      tally.alreadyEnded++;
      deps.logger.info(logFields(p, opts), "zombie already ended by someone else; left as it is");
      found(p, "already_ended");
    }
  }
  tally.realtimeHangups = await hangupOrphans(orphans, deps, opts);
  return { tally, findings };
}

/**
 * One statement for the batch. If it fails as a whole (one row the app's table refuses, say an unknown enum
 * value), the rows are retried one by one so that one bad row does not hold up the rest; the first failure
 * there that is not about its row stops the pass (most often the database is gone) and leaves the rest for
 * the next pass.
 */
async function endAll(
  pending: readonly PendingEnd[],
  deps: PassDeps,
  opts: PassOptions,
): Promise<EndAllResult> {
  const { logger, store } = deps;
  try {
    const ended = await store.endCalls(pending.map((p) => endRequest(p, opts)));
    return { ended, failed: new Set(), databaseTrouble: false };
  } catch (err) {
    logger.warn(
      { runId: opts.runId, err: errorMessage(err), batch: pending.length },
      "batch end failed; ending one by one",
    );
  }
  const result: EndAllResult = { ended: new Set(), failed: new Set(), databaseTrouble: false };
  for (const p of pending) {
    if (result.databaseTrouble) {
      result.failed.add(p.row.id);
      continue;
    }
    try {
      if (await store.endCall(endRequest(p, opts))) result.ended.add(p.row.id);
    } catch (err) {
      result.failed.add(p.row.id);
      // A row the table refuses is that row's problem; anything else (connection lost, timeout) will fail
      // the next row too.
      result.databaseTrouble = !(err instanceof RowRefusedError);
      logger.error(
        { ...logFields(p, opts), err: errorMessage(err) },
        result.databaseTrouble
          ? "could not end zombie call; the pass stops here and the next one retries"
          : "the calls table refused this end; it is retried next pass",
      );
    }
  }
  return result;
}

function endRequest(p: PendingEnd, opts: PassOptions): EndRequest {
  return {
    call: p.row,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt,
    source: p.verdict.source,
    runId: opts.runId,
    evidence: p.evidence,
    decidedAt: p.decidedAt,
  };
}

function logFields(p: PendingEnd, opts: PassOptions) {
  return {
    runId: opts.runId,
    callId: p.row.id,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt.toISOString(),
    source: p.verdict.source,
    why: p.verdict.why,
  };
}
