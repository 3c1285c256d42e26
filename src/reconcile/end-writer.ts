import type { ActiveCall, Evidence, Verdict } from "../model/index.js";
import { type EndRequest, RowRefusedError } from "../model/index.js";
import type { PassDeps, PassOptions } from "./pass.js";
import type { FindingOutcome, PassResult } from "./pass-result.js";

/** A zombie decided during the pass, waiting for its page's batch write. */
export interface PendingEnd {
  row: ActiveCall;
  evidence: Evidence;
  verdict: Extract<Verdict, { action: "end" }>;
  decidedAt: Date;
}

/**
 * Writes a page's zombies with one conditional statement (DESIGN.md step 4, batched): 10,000 ends are 20
 * round trips, not 10,000. Then logs, counts and announces each end that committed.
 */
export function createEndWriter(
  deps: PassDeps,
  opts: PassOptions,
  result: PassResult,
  record: (p: PendingEnd, outcome: FindingOutcome) => void,
) {
  const { logger } = deps;
  const fields = (p: PendingEnd) => ({
    runId: opts.runId,
    callId: p.row.id,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt.toISOString(),
    source: p.verdict.source,
    why: p.verdict.why,
  });
  const request = (p: PendingEnd): EndRequest => ({
    call: p.row,
    newStatus: p.verdict.newStatus,
    endedAt: p.verdict.endedAt,
    source: p.verdict.source,
    runId: opts.runId,
    evidence: p.evidence,
    decidedAt: p.decidedAt,
  });

  /** The phone leg is over but the realtime session may still be billing: end it (a 404 means it was gone). */
  const hangupOrphan = async (callId: string, realtimeId: string) => {
    if (deps.probes.hangupRealtime === null) return;
    const outcome = await deps.probes.hangupRealtime(realtimeId, opts.signal);
    const label = outcome.kind === "error" ? "error" : outcome.kind;
    deps.metrics?.realtimeHangups.inc({ outcome: label });
    result.realtimeHangups[label]++;
    const f = { runId: opts.runId, callId, realtimeCallId: realtimeId, outcome: outcome.kind };
    if (outcome.kind === "error")
      logger.warn({ ...f, detail: outcome.detail }, "could not hang up orphaned realtime session");
    else logger.info(f, "orphaned realtime session hung up");
  };

  /**
   * One statement for the batch. If it fails as a whole (one row the app's table refuses, say an unknown
   * enum value), the rows are retried one by one so that one bad row does not hold up the rest; the first
   * failure there stops the pass (most often the database is gone) and leaves the rest for the next pass.
   */
  const endAll = async (
    pending: PendingEnd[],
  ): Promise<{ ended: Set<string>; failed: Set<string>; databaseTrouble: boolean }> => {
    try {
      return {
        ended: await deps.store.endCalls(pending.map(request)),
        failed: new Set(),
        databaseTrouble: false,
      };
    } catch (err) {
      logger.warn(
        { runId: opts.runId, err: message(err), batch: pending.length },
        "batch end failed; ending one by one",
      );
    }
    const ended = new Set<string>();
    const failed = new Set<string>();
    let databaseTrouble = false;
    for (const p of pending) {
      if (databaseTrouble) {
        failed.add(p.row.id);
        continue;
      }
      try {
        if (await deps.store.endCall(request(p))) ended.add(p.row.id);
      } catch (err) {
        failed.add(p.row.id);
        // A row the table refuses (a data or constraint error) is that row's problem; anything else
        // (connection lost, timeout) will fail the next row too.
        databaseTrouble = !(err instanceof RowRefusedError);
        logger.error(
          { ...fields(p), err: message(err) },
          databaseTrouble
            ? "could not end zombie call; the pass stops here and the next one retries"
            : "the calls table refused this end; it is retried next pass",
        );
      }
    }
    return { ended, failed, databaseTrouble };
  };

  return {
    async write(pending: PendingEnd[]): Promise<void> {
      if (pending.length === 0) return;
      if (result.leadershipLost || (deps.canWrite !== undefined && !(await deps.canWrite()))) {
        if (!result.leadershipLost)
          logger.warn({ runId: opts.runId }, "leader lease not renewed: this pass stops writing");
        result.leadershipLost = true;
        for (const p of pending) record(p, "not_leader");
        return;
      }
      const { ended, failed, databaseTrouble } = await endAll(pending);
      result.writeFailures += failed.size;
      if (databaseTrouble) result.databaseLost = true;
      const hangups: Promise<void>[] = [];
      for (const p of pending) {
        if (failed.has(p.row.id)) {
          record(p, "write_failed");
        } else if (ended.has(p.row.id)) {
          result.ended++;
          deps.metrics?.callsEnded.inc({ status: p.verdict.newStatus, source: p.verdict.source });
          logger.info(fields(p), "zombie call ended");
          deps.onEnded?.({
            callId: p.row.id,
            status: p.verdict.newStatus,
            endedAt: p.verdict.endedAt,
            source: p.verdict.source,
            runId: opts.runId,
          });
          if (p.verdict.source === "twilio" && p.row.openaiId !== null)
            hangups.push(hangupOrphan(p.row.id, p.row.openaiId));
          record(p, "ended");
        } else {
          result.alreadyEnded++;
          logger.info(fields(p), "zombie already ended by someone else; left as it is");
          record(p, "already_ended");
        }
      }
      await Promise.all(hangups);
    },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
