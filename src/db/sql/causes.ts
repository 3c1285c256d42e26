/**
 * Why each zombie's end was lost: one row per call the daemon ended (migration 8). Written in the ending
 * transaction: an age-bound or realtime end's cause is its source, known at once; a Twilio end's cause is read
 * later from Twilio's own records of the call (Call Events, Notifications), which Twilio makes readable only
 * some minutes after the call ended, so it waits here (`cause` NULL) with the time it is due.
 */
import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier, quoteQualifiedIdentifier } from "../../config/fields/identifiers.js";
import type { DaemonTables } from "./tables.js";

/**
 * How many calls got an end time since $1: with the daemon's own ends subtracted, the calls the app ended
 * itself. A `timestamp without time zone` end column compares with $1 as wall time in CALLS_TIME_ZONE ($2);
 * a text or epoch one (`endedRaw`) with $1 written in the column's own format.
 */
export function endedSinceSql(m: CallsTableMapping, endedInZone: boolean, endedRaw = false): string {
  const ended = quoteIdentifier(m.endedAt);
  const since = endedRaw ? "$1" : endedInZone ? "($1::timestamptz AT TIME ZONE $2::text)" : "$1::timestamptz";
  return `SELECT count(*) AS n FROM ${quoteQualifiedIdentifier(m.table)} WHERE ${ended} >= ${since}`;
}

/**
 * Whether the end a cause row records (its call, its run) was undone by `revert`: the row stays, since a revert
 * writes only the audit table, and an end ended again later replaces it with the new run's.
 */
const reverted = (
  t: DaemonTables,
) => `EXISTS (SELECT 1 FROM ${t.actions} AS a JOIN ${t.actions} AS r ON r.reverts = a.id
      WHERE a.call_id = c.call_id AND a.run_id = c.run_id) AS reverted`;

export const causesSql = (t: DaemonTables) => ({
  /**
   * Per-call arrays, index i is one ended call: $1 call ids, $2 run ids, $3 sources, $4 Call SIDs, $5 Account
   * SIDs, $6 directions, $7 the providers' statuses, $8 started_at, $9 the provider's end time, $10 when it was
   * ended here, $11 the cause (NULL: to be asked), $12 when the asking is due. A call ended again (after a
   * revert) starts over.
   */
  record: `INSERT INTO ${t.causes} (call_id, run_id, source, call_sid, account_sid, direction, provider_status,
      started_at, provider_ended_at, ended_here_at, cause, due_at)
    SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::timestamptz[])
    ON CONFLICT (call_id) DO UPDATE SET run_id = EXCLUDED.run_id, source = EXCLUDED.source,
      call_sid = EXCLUDED.call_sid, account_sid = EXCLUDED.account_sid, direction = EXCLUDED.direction,
      provider_status = EXCLUDED.provider_status, started_at = EXCLUDED.started_at,
      provider_ended_at = EXCLUDED.provider_ended_at, ended_here_at = EXCLUDED.ended_here_at,
      cause = EXCLUDED.cause, due_at = EXCLUDED.due_at, detail = NULL, attempts = 0, last_error = NULL,
      diagnosed_at = NULL`,
  /** The diagnoses due now, oldest first, at most $1. */
  due: `SELECT call_id, call_sid, account_sid, direction, started_at, provider_ended_at, attempts FROM ${t.causes}
    WHERE cause IS NULL AND due_at <= statement_timestamp()
    ORDER BY due_at, call_id LIMIT $1`,
  /** $1 call id, $2 cause, $3 detail (JSON text): only while still undiagnosed, so a retry never overwrites. */
  settle: `UPDATE ${t.causes} SET cause = $2, detail = $3::jsonb, due_at = NULL, diagnosed_at = statement_timestamp(),
      attempts = attempts + 1
    WHERE call_id = $1 AND cause IS NULL`,
  /** $1 call id, $2 the next due time, $3 why this attempt failed. */
  retry: `UPDATE ${t.causes} SET due_at = $2, attempts = attempts + 1, last_error = $3
    WHERE call_id = $1 AND cause IS NULL`,
  /** How many diagnoses wait, and how many of them are due now. */
  backlog: `SELECT count(*) AS queued, count(*) FILTER (WHERE due_at <= statement_timestamp()) AS due
    FROM ${t.causes} WHERE cause IS NULL`,
  /** Every cause row of the calls ended here since $1, for `report`. */
  since: `SELECT call_id, source, call_sid, account_sid, direction, provider_status, started_at,
      provider_ended_at, ended_here_at, cause, detail, attempts, last_error, diagnosed_at, ${reverted(t)}
    FROM ${t.causes} AS c WHERE ended_here_at >= $1 ORDER BY ended_here_at, call_id`,
  /** What the daemon wrote about one call, oldest first, for `report --call`. */
  actionsOf: `SELECT run_id::text AS run_id, previous_status, new_status, ended_at, source, decided_at,
      coalesce(outcome, 'ended') AS outcome, evidence
    FROM ${t.actions} WHERE call_id = $1 ORDER BY id`,
  /** One call's row, for `report --call`. */
  one: `SELECT call_id, source, call_sid, account_sid, direction, provider_status, started_at,
      provider_ended_at, ended_here_at, cause, detail, attempts, last_error, diagnosed_at, ${reverted(t)}
    FROM ${t.causes} AS c WHERE call_id = $1`,
});
