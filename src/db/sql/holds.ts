import type { CallsTableMapping } from "../../config/config.js";
import { quotedMapping } from "../../config/quoted-mapping.js";
import type { DaemonTables } from "./tables.js";

/**
 * Calls the daemon must not end (migration 5): one row per hold, kept after its release (`released_at`), so
 * the table is also the history of who held what and when. At most one current hold per call (a partial
 * unique index on `call_id WHERE released_at IS NULL`). `call_id` is the id as `id::text`, the form the
 * listing gives; `run_id` is the run whose end a revert undid (NULL for a hold by hand).
 */
export function holdsSql(t: DaemonTables) {
  return {
    /** Which of the ids $1 (text[], as the listing gives them) are held now. */
    heldAmong: `SELECT call_id FROM ${t.holds}
      WHERE call_id = ANY($1::text[]) AND released_at IS NULL`,
    /** Fails (42P01) before migration 5: checked at start-up. */
    probe: `SELECT call_id, released_at FROM ${t.holds} LIMIT 0`,
    /**
     * Holds a call unless it is held already. $1 call id (text), $2 reason, $3 held by, $4 run id (uuid or
     * NULL). Returns the hold when made now, no row when one already stood.
     */
    hold: `INSERT INTO ${t.holds} (call_id, reason, held_by, run_id)
      VALUES ($1, $2, $3, $4::uuid)
      ON CONFLICT (call_id) WHERE released_at IS NULL DO NOTHING
      RETURNING call_id, reason, held_by, run_id::text AS run_id, held_at`,
    /** The current hold of the call $1, if any. */
    current: `SELECT call_id, reason, held_by, run_id::text AS run_id, held_at
      FROM ${t.holds} WHERE call_id = $1 AND released_at IS NULL`,
    /** Ends the current hold of the call $1 (the row stays, as history). $2 released by. Returns the hold. */
    release: `UPDATE ${t.holds} SET released_at = now(), released_by = $2
      WHERE call_id = $1 AND released_at IS NULL
      RETURNING call_id, reason, held_by, run_id::text AS run_id, held_at`,
  };
}

/**
 * One call of the app's table by the id an operator typed ($1, left untyped so that PostgreSQL reads it as the
 * id column's type: `007` finds bigint 7), with its canonical `id::text` and its current status and end (as
 * the column holds it, for display).
 */
export function callByIdSql(m: CallsTableMapping): string {
  const { table, id, status, ended } = quotedMapping(m);
  return `SELECT ${id}::text AS call_id, ${status}::text AS status, ${ended}::text AS ended_at
    FROM ${table} WHERE ${id} = $1`;
}
