/**
 * What both stores do around their read of the active rows of named Call SIDs (CallStore.activeByCallSids):
 * the bound on one read, and the page handed out, routed as a listing's rows are.
 */
import { type ActivePage, MAX_CALL_SIDS_PER_READ } from "./ports.js";

/** The SIDs of one read, each once; a RangeError past MAX_CALL_SIDS_PER_READ (one statement's parameter). */
export function callSidBatch(callSids: readonly string[]): string[] {
  const distinct = [...new Set(callSids)];
  if (distinct.length > MAX_CALL_SIDS_PER_READ)
    throw new RangeError(
      `${distinct.length} Call SIDs in one read: at most ${MAX_CALL_SIDS_PER_READ} (read them in batches)`,
    );
  return distinct;
}

/**
 * The rows read by SID, as a listing's rows are handed out (routed, with one id column for both providers),
 * kept only when their Twilio SID is one asked: an `rtc_` id passed as a SID names no Twilio call. `held`
 * keeps only the rows kept.
 */
export function callSidPage(page: ActivePage, asked: readonly string[]): ActivePage {
  const wanted = new Set(asked);
  const rows = page.rows.filter((r) => r.twilioSid !== null && wanted.has(r.twilioSid));
  const kept = new Set(rows.map((r) => r.id));
  return { rows, next: null, held: new Set([...page.held].filter((id) => kept.has(id))) };
}
