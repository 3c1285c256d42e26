import { OWN_TABLES } from "../own-tables.js";

const t = OWN_TABLES;

/**
 * Whether the end a cause row records (its call, its run) was undone by `revert`: the cause row stays, since
 * a revert writes only the audit table, and an end ended again later replaces it with the new run's.
 */
const REVERTED = `EXISTS (SELECT 1 FROM ${t.actions} AS a JOIN ${t.actions} AS r ON r.reverts = a.id
    WHERE a.call_id = c.call_id AND a.run_id = c.run_id) AS reverted`;

const CAUSE_COLUMNS = `call_id, source, call_sid, account_sid, direction, provider_status, started_at,
  provider_ended_at, ended_here_at, cause, detail, attempts, last_error, diagnosed_at, ${REVERTED}`;

/** `report`'s reads of the causes table and the audit trail (times are ISO UTC text, so they compare as text). */
export const CAUSES_REPORT_SQL = {
  /** Every cause row of the calls ended here since ?1 (ISO UTC text). */
  since: `SELECT ${CAUSE_COLUMNS} FROM ${t.causes} AS c WHERE ended_here_at >= ? ORDER BY ended_here_at, call_id`,
  /** One call's row, for `report --call`. */
  one: `SELECT ${CAUSE_COLUMNS} FROM ${t.causes} AS c WHERE call_id = ?`,
  /** What the daemon wrote about one call, oldest first. */
  actionsOf: `SELECT run_id, previous_status, new_status, ended_at, source, decided_at,
      coalesce(outcome, 'ended') AS outcome, evidence
    FROM ${t.actions} WHERE call_id = ? ORDER BY id`,
};
