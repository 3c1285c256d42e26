import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q } from "../../config/fields/identifiers.js";
import { OWN_TABLES } from "../own-tables.js";
import { sqliteTableName } from "../table-name.js";

const t = OWN_TABLES;

/** One audit row with outcome `ended`, and its revert (if any): the columns every read of ends returns. */
const END_COLUMNS = `CAST(a.id AS TEXT) AS action_id, a.run_id, a.call_id, a.previous_status, a.previous_ended_at,
    a.new_status, a.ended_at, a.duration_seconds, a.previous_duration_seconds, a.source,
    r.run_id AS reverted_by, r.recorded_at AS reverted_at
  FROM ${t.actions} AS a
  LEFT JOIN ${t.actions} AS r ON r.reverts = a.id`;

/** The reads of revert candidates in the audit table. */
export const REVERT_READ_SQL = {
  /** The ends of run ?1, in audit order, after the audit row id ?2 (keyset), at most ?3. */
  runEnds: `SELECT ${END_COLUMNS}
    WHERE a.run_id = ? AND a.outcome = 'ended' AND a.id > CAST(? AS INTEGER)
    ORDER BY a.id LIMIT ?`,
  /** The last end of call ?1 (its canonical id). */
  callLastEnd: `SELECT ${END_COLUMNS}
    WHERE a.call_id = ? AND a.outcome = 'ended'
    ORDER BY a.id DESC LIMIT 1`,
  /** What the audit table holds for run ?1, by outcome: tells a run that ended nothing from an unknown id. */
  runOutcomes: `SELECT outcome, count(*) AS n FROM ${t.actions} WHERE run_id = ? GROUP BY outcome ORDER BY outcome`,
  /** The run of the revert that undid the end whose audit row is ?1, if any. */
  revertOf: `SELECT run_id FROM ${t.actions} WHERE reverts = CAST(? AS INTEGER)`,
};

/** The audit row of one restore: ?1 … ?14 in the order of the column list. */
export const REVERTED_AUDIT_SQL = `INSERT INTO ${t.actions} (run_id, call_id, previous_status, previous_ended_at,
    new_status, ended_at, source, evidence, decided_at, recorded_at, outcome, detail, reverts,
    previous_duration_seconds, duration_seconds)
  VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 'reverted', ?, CAST(? AS INTEGER), ?, ?)`;

export interface CallRowStatements {
  /**
   * The call ?1 (canonical id, compared as the id column compares so the primary key serves it): its status,
   * its end as text (the daemon parses and compares it, see RawTime.wrote), and its length when
   * CALLS_COL_DURATION is set (else NULL).
   */
  read: string;
  /**
   * Restores one call: ?1 status, then (`withDuration` only) ?2 the length to restore; then the id, and the
   * guard: the status and the exact end text the daemon read and checked, and (`withDuration`) the length the
   * end wrote. The end time goes back to NULL: an end writes only where the row had none.
   */
  restore: (withDuration: boolean) => string;
}

export function callRowSql(m: CallsTableMapping): CallRowStatements {
  const table = sqliteTableName(m).quoted;
  const id = q(m.id);
  const status = q(m.status);
  const ended = q(m.endedAt);
  const duration = m.duration === undefined ? null : q(m.duration);
  return {
    read: `SELECT CAST(${status} AS TEXT) AS status, CAST(${ended} AS TEXT) AS ended_raw,
        ${duration ?? "NULL"} AS duration FROM ${table} WHERE ${id} = ?`,
    restore: (withDuration) => {
      const length = withDuration && duration !== null;
      return `UPDATE ${table} SET ${status} = ?, ${ended} = NULL${length ? `, ${duration} = ?` : ""}
        WHERE ${id} = ? AND CAST(${status} AS TEXT) = ? AND CAST(${ended} AS TEXT) = ?${length ? ` AND ${duration} = ?` : ""}`;
    },
  };
}
