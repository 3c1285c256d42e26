import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q } from "../../config/fields/identifiers.js";
import { quotedMapping } from "../../config/quoted-mapping.js";
import { type ColumnTypes, checkedTypeName } from "./ends.js";
import { NAIVE_TIMESTAMP, rawTimeKind } from "./schema.js";
import { type DaemonTables, daemonTables } from "./tables.js";

/** The reads of revert candidates in the audit table. */
export function revertReadSql(t: DaemonTables) {
  /** The columns every read returns: one audit row with outcome 'ended', and its revert. */
  const endColumns = `a.id::text AS action_id, a.run_id::text AS run_id, a.call_id, a.previous_status,
    a.previous_ended_at, a.new_status, a.ended_at, a.duration_seconds, a.previous_duration_seconds, a.source,
    r.run_id::text AS reverted_by, r.recorded_at AS reverted_at
  FROM ${t.actions} AS a
  LEFT JOIN ${t.actions} AS r ON r.reverts = a.id`;
  return {
    /** The ends of run $1 (uuid), in audit order, after the audit row id $2 (keyset), at most $3. */
    runEnds: `SELECT ${endColumns}
      WHERE a.run_id = $1::uuid AND a.outcome = 'ended' AND a.id > $2::bigint
      ORDER BY a.id LIMIT $3`,
    /** The last end of call $1 (its `id::text`). */
    callLastEnd: `SELECT ${endColumns}
      WHERE a.call_id = $1 AND a.outcome = 'ended'
      ORDER BY a.id DESC LIMIT 1`,
    /** What the audit table holds for run $1, by outcome: tells a run that ended nothing from an unknown id. */
    runOutcomes: `SELECT outcome, count(*)::int AS n FROM ${t.actions}
      WHERE run_id = $1::uuid GROUP BY outcome ORDER BY outcome`,
  };
}

export interface RevertStatements {
  /**
   * Restores a batch of ended calls in one statement: each row is locked in id order (`SKIP LOCKED`: a row
   * the app holds is left, never waited for) and restored to its status and end time before the end (NULL when none)
   * only if its status and end time are still exactly what the end wrote and that end was not reverted yet;
   * one audit row (outcome `reverted`, `reverts` = the end's audit row, `ended_at` NULL, `previous_ended_at`
   * the end time it removed) and one hold per
   * restored call, all in the statement. Returns `call_id` (as `id::text`) and `action_id` (the end's audit
   * row) per restored call.
   * Per-call arrays, index i is one call: $1 ids, $2 audit row ids of the ends, $3 statuses the ends wrote,
   * $4 end times they wrote, $5 statuses to restore, $8 end times to restore (NULL: none); plus $6 this
   * revert's run id, $7 who reverts (user@host).
   * An end reverted already is never restored again (and a unique index keeps it so).
   * Ids and statuses are cast on the parameter side, to the column types, so the primary key serves the lookup.
   * A `timestamp without time zone` end column (`types.endedAt`) is compared in CALLS_TIME_ZONE, $8, as the
   * batched end wrote it, $9. A text or epoch end column (`types.endedAt`) is compared as its exact text with
   * $9, a text array aligned with $1 (the value `states` read and the daemon found to be what the end wrote),
   * and only restored to NULL: the end wrote it where it found none, so `$8[i]` must be NULL.
   * With CALLS_COL_DURATION (`types.duration`), two more arrays after those: the lengths the ends wrote (NULL:
   * that end wrote none, and the column is neither compared nor restored) and the lengths to restore.
   */
  restore: string;
  /**
   * Where each call stands now: $1 ids, $2 audit row ids of the ends, $3 statuses they wrote, $4 end times
   * they wrote. One row per input: `action_id`, `present` (the row exists), `status`, `ended_at`,
   * `as_written` (status and end time still what the end wrote), `reverted_by` (the revert run, if any).
   * A `timestamp without time zone` end column is read and compared in CALLS_TIME_ZONE, $5. A text or epoch
   * one is returned raw as `ended_raw` (`ended_at` NULL) and `as_written` compares the status only: the daemon
   * parses the value and compares the time itself. With CALLS_COL_DURATION, one more array after those: the
   * lengths the ends wrote, compared like for restore.
   */
  states: string;
}

export function buildRevertStatements(m: CallsTableMapping, types: ColumnTypes): RevertStatements {
  const { table, id, status, ended } = quotedMapping(m);
  const own = daemonTables(m.daemonSchema);
  const idType = checkedTypeName(types.id, "CALLS_COL_ID");
  const statusType = checkedTypeName(types.status, "CALLS_COL_STATUS");
  // The end column as a timestamptz, and the end time the end wrote as the column holds it.
  const naive = types.endedAt === NAIVE_TIMESTAMP;
  const raw = rawTimeKind(types.endedAt) !== null;
  const endedNow = (zone: string) => (naive ? `(c.${ended} AT TIME ZONE ${zone}::text)` : `c.${ended}`);
  const restoreEnded = raw
    ? "NULL"
    : naive
      ? "(input.restore_ended_at AT TIME ZONE $9::text)"
      : "input.restore_ended_at";
  // The end time still what the end wrote: as an instant, or for a raw column the exact text the daemon checked
  // ($9, unnested with the others).
  const endedGuard = raw
    ? `c.${ended}::text = input.expected_raw AND input.restore_ended_at IS NULL`
    : `${endedNow("$9")} IS NOT DISTINCT FROM input.expected_ended_at`;
  const length = durationParts(m, types, naive || raw ? 10 : 9, naive ? 6 : 5);
  const restore = `WITH input AS (
      SELECT DISTINCT ON (u.id) u.id, u.action_id, u.expected_status, u.expected_ended_at, u.restore_status,
        u.restore_ended_at, ${raw ? "u.expected_raw, " : ""}${length.input}
      FROM unnest($1::${idType}[], $2::bigint[], $3::text[], $4::timestamptz[], $5::${statusType}[],
          $8::timestamptz[]${raw ? ", $9::text[]" : ""}${length.restoreParams})
        WITH ORDINALITY AS u(id, action_id, expected_status, expected_ended_at, restore_status, restore_ended_at,
          ${raw ? "expected_raw, " : ""}${length.alias}ord)
      ORDER BY u.id, u.ord
    ), target AS (
      SELECT c.${id} AS id, c.${status}::text AS current_status
      FROM ${table} AS c
      WHERE c.${id} IN (SELECT input.id FROM input)
      ORDER BY c.${id}
      FOR NO KEY UPDATE OF c SKIP LOCKED
    ), restored AS (
      UPDATE ${table} AS c SET ${status} = input.restore_status, ${ended} = ${restoreEnded}${length.set}
      FROM target JOIN input ON input.id = target.id
      WHERE c.${id} = target.id AND c.${status}::text = input.expected_status
        AND ${endedGuard}${length.guard("input")}
        AND NOT EXISTS (SELECT 1 FROM ${own.actions} AS r WHERE r.reverts = input.action_id)
      RETURNING c.${id}::text AS call_id, input.action_id, target.current_status,
        input.restore_status::text AS restored_status, input.expected_ended_at, input.expected_duration,
        CASE WHEN input.expected_duration IS NULL THEN NULL ELSE ${length.written} END AS restored_duration
    ), audited AS (
      INSERT INTO ${own.actions} (run_id, call_id, previous_status, previous_ended_at, new_status, ended_at,
          source, evidence, decided_at, outcome, detail, reverts, previous_duration_seconds, duration_seconds)
      SELECT $6::uuid, x.call_id, x.current_status, x.expected_ended_at, x.restored_status, NULL, a.source,
        jsonb_build_object('reverted', jsonb_build_object('auditId', a.id, 'runId', a.run_id,
          'status', a.new_status, 'endedAt', a.ended_at, 'source', a.source), 'by', $7::text),
        now(), 'reverted', 'revert of run ' || a.run_id::text || ' by ' || $7::text, a.id,
        x.expected_duration, x.restored_duration
      FROM restored AS x JOIN ${own.actions} AS a ON a.id = x.action_id
      RETURNING call_id
    ), held AS (
      INSERT INTO ${own.holds} (call_id, reason, held_by, run_id)
      SELECT x.call_id, 'end reverted (run ' || a.run_id::text || ')', 'revert:' || $7::text, a.run_id
      FROM restored AS x JOIN ${own.actions} AS a ON a.id = x.action_id
      ON CONFLICT (call_id) WHERE released_at IS NULL DO NOTHING
      RETURNING call_id
    )
    SELECT call_id, action_id::text AS action_id FROM restored`;
  const endedState = raw
    ? `NULL::timestamptz AS ended_at, c.${ended}::text AS ended_raw`
    : `${endedNow("$5")} AS ended_at, NULL::text AS ended_raw`;
  const endedWritten = raw ? "" : ` AND ${endedNow("$5")} IS NOT DISTINCT FROM u.expected_ended_at`;
  const states = `SELECT u.action_id::text AS action_id, c.${id} IS NOT NULL AS present,
      c.${status}::text AS status, ${endedState},
      COALESCE(c.${status}::text = u.expected_status${endedWritten}${length.guard("u")}, false) AS as_written,
      r.run_id::text AS reverted_by
    FROM unnest($1::${idType}[], $2::bigint[], $3::text[], $4::timestamptz[]${length.statesParam})
      AS u(id, action_id, expected_status, expected_ended_at${length.statesAlias})
    LEFT JOIN ${table} AS c ON c.${id} = u.id
    LEFT JOIN ${own.actions} AS r ON r.reverts = u.action_id`;
  return { restore, states };
}

/**
 * The fragments of restore and states that compare and restore CALLS_COL_DURATION (see the end's, in
 * ends.ts): empty, or a constant NULL, when it is unset. `restoreAt`/`statesAt`: the number of the first
 * length parameter of each statement (after the time zone, if any). The column is compared as a float8, as
 * the end recorded it; an end that wrote no length (NULL) neither compares nor restores it.
 */
function durationParts(m: CallsTableMapping, types: ColumnTypes, restoreAt: number, statesAt: number) {
  if (m.duration === undefined || types.duration === undefined) {
    return {
      input: "NULL::float8 AS expected_duration, NULL::float8 AS restore_duration",
      restoreParams: "",
      alias: "",
      set: "",
      guard: (_: string) => "",
      written: "NULL::float8",
      statesParam: "",
      statesAlias: "",
    };
  }
  const column = q(m.duration);
  const type = checkedTypeName(types.duration, "CALLS_COL_DURATION");
  return {
    input: "u.expected_duration, u.restore_duration",
    restoreParams: `, $${restoreAt}::float8[], $${restoreAt + 1}::float8[]`,
    alias: "expected_duration, restore_duration, ",
    set: `, ${column} = CASE WHEN input.expected_duration IS NULL THEN c.${column}
        ELSE input.restore_duration::${type} END`,
    guard: (from: string) =>
      ` AND (${from}.expected_duration IS NULL OR c.${column}::float8 IS NOT DISTINCT FROM ${from}.expected_duration)`,
    written: `c.${column}::float8`,
    statesParam: `, $${statesAt}::float8[]`,
    statesAlias: ", expected_duration",
  };
}
