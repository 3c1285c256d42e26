import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import { type CallStore, type EndRequest, RowLockedError, RowRefusedError } from "../model/index.js";

/** What became of one requested end. */
export type RowEnd =
  | "ended"
  /** No longer active: a webhook won the race. */
  | "not_active"
  /** The app holds the row (or a lock the end needs): left for a later pass, never waited for. */
  | "locked"
  /** The table refused the values; `refused_new` when this refusal was recorded now, for the first time. */
  | "refused_new"
  | "refused_known"
  /** The database failed (connection lost, timeout): the pass stops writing. */
  | "failed";

/**
 * Ends a page's zombies with one conditional statement (batched): 10,000 ends are 20
 * round trips, not 10,000. When the batch fails as a whole because the table refuses a row (an enum without
 * the status, a CHECK), the ends already known to be refused are set aside and the rest goes again as one
 * batch; if that fails too, the rows go one by one, so that one bad row never holds up the others. The first
 * failure that is not about its row (most often the database gone) marks the rest `failed`.
 */
export async function endBatch(
  reqs: readonly EndRequest[],
  store: CallStore,
  /** The pass's: its lines carry the pass's runId. */
  logger: Logger,
): Promise<Map<string, RowEnd>> {
  const outcomes = new Map<string, RowEnd>();
  const byBatch = async (batch: readonly EndRequest[]): Promise<boolean> => {
    try {
      const { ended, locked } = await store.endCalls(batch);
      for (const r of batch)
        outcomes.set(
          r.call.id,
          ended.has(r.call.id) ? "ended" : locked.has(r.call.id) ? "locked" : "not_active",
        );
      return true;
    } catch (err) {
      logger.warn({ err: errorMessage(err), batch: batch.length }, "batch end failed");
      return false;
    }
  };
  if (await byBatch(reqs)) return outcomes;
  const known = await store.refusedBefore(reqs).catch(() => new Set<string>());
  const rest = reqs.filter((r) => !known.has(r.call.id));
  if (known.size > 0 && rest.length > 0 && (await byBatch(rest)))
    return oneByOne(reqs.filter((r) => known.has(r.call.id)));
  return oneByOne(reqs);

  async function oneByOne(rows: readonly EndRequest[]): Promise<Map<string, RowEnd>> {
    let databaseTrouble = false;
    for (const r of rows) {
      if (databaseTrouble) {
        outcomes.set(r.call.id, "failed");
        continue;
      }
      try {
        outcomes.set(r.call.id, await store.endCall(r));
      } catch (err) {
        if (err instanceof RowLockedError) outcomes.set(r.call.id, "locked");
        else if (err instanceof RowRefusedError) outcomes.set(r.call.id, await refused(r, err));
        else {
          // Anything else (connection lost, timeout) will fail the next row too.
          databaseTrouble = true;
          outcomes.set(r.call.id, "failed");
          logger.error(
            { callId: r.call.id, err: errorMessage(err) },
            "could not end zombie call; the pass stops writing and the next one retries",
          );
        }
      }
    }
    return outcomes;
  }

  async function refused(r: EndRequest, err: RowRefusedError): Promise<RowEnd> {
    const fields = { callId: r.call.id, newStatus: r.newStatus, err: err.message };
    try {
      if (!(await store.recordRefusal(r, err.message))) return "refused_known";
      logger.error(
        fields,
        "the calls table refused this end (recorded once in call_reconciler_actions; see STATUS_MAP)",
      );
      return "refused_new";
    } catch (recordErr) {
      logger.error({ ...fields, recordErr: errorMessage(recordErr) }, "the calls table refused this end");
      return "refused_new";
    }
  }
}
