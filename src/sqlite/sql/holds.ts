import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q } from "../../config/fields/identifiers.js";
import { OWN_TABLES } from "../own-tables.js";
import { sqliteTableName } from "../table-name.js";

const t = OWN_TABLES;
const COLUMNS = "call_id, reason, held_by, run_id, held_at";

/**
 * The holds table's statements. `call_id` is the id as the listing gives it (`CAST(id AS TEXT)`); `run_id`
 * the run whose end a revert undid (NULL for a hold by hand); times are ISO UTC text.
 */
export const HOLDS_SQL = {
  /** Holds a call unless a hold stands: ?1 call id, ?2 reason, ?3 held by, ?4 run id, ?5 held at. */
  hold: `INSERT INTO ${t.holds} (call_id, reason, held_by, run_id, held_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (call_id) WHERE released_at IS NULL DO NOTHING
    RETURNING ${COLUMNS}`,
  /** The current hold of call ?1. */
  current: `SELECT ${COLUMNS} FROM ${t.holds} WHERE call_id = ? AND released_at IS NULL`,
  /** Ends the current hold (the row stays, as history): ?1 released at, ?2 released by, ?3 call id. */
  release: `UPDATE ${t.holds} SET released_at = ?, released_by = ?
    WHERE call_id = ? AND released_at IS NULL RETURNING ${COLUMNS}`,
};

/**
 * One call by the id an operator typed (?1), compared as the id column compares: its affinity reads `007` as 7
 * in an INTEGER column (as PostgreSQL reads it as the column's type), and the primary key serves the lookup.
 * Returns its canonical id (the text the listing gives), status and end as the columns hold them.
 */
export function callByIdSql(m: CallsTableMapping): string {
  return `SELECT CAST(${q(m.id)} AS TEXT) AS call_id, CAST(${q(m.status)} AS TEXT) AS status,
      CAST(${q(m.endedAt)} AS TEXT) AS ended_at
    FROM ${sqliteTableName(m).quoted} WHERE ${q(m.id)} = ?`;
}
