import type { CallsTableMapping } from "../../config/config.js";
import { quotedMapping } from "../../config/quoted-mapping.js";
import { ACTIONS_TABLE, LEASES_TABLE } from "./tables.js";

/** The reads of a pass and of the start-up checks. */
export interface PageStatements {
  /**
   * $1 active statuses (or the one active status, see `buildPageStatements`), $2 cutoff (only rows started at
   * or before it), $3 limit.
   */
  firstActivePage: string;
  /** As firstActivePage, plus $4 cursor started_at (text, exact to the microsecond), $5 cursor id. */
  nextActivePage: string;
  /** $1 active statuses. */
  activeSummary: string;
  /** Fails with 42P01/42703 when the table or a column is missing. */
  probeCallsTable: string;
  /** Fails with 42P01/42703 when the daemon's tables are missing or older than the last migration. */
  probeActionsTable: string;
}

/**
 * `oneActiveStatus`: the listing compares `status = $1` instead of `status = ANY($1)`. With one value (the
 * usual case) that lets an index on (status, started_at, id) return each keyset page in order; with ANY,
 * PostgreSQL reads and sorts every active row after the cursor for every page, a pass growing with N².
 */
export function buildPageStatements(
  m: CallsTableMapping,
  opts: { oneActiveStatus?: boolean } = {},
): PageStatements {
  const { table, id, sid, rtc, status, started, ended } = quotedMapping(m);
  // started_at::text round-trips exactly (microseconds); a JS Date cursor would lose them and repeat rows.
  const select = `SELECT ${id}::text AS id, ${sid}::text AS twilio_sid, ${rtc}::text AS openai_id,
      ${status}::text AS status, ${started} AS started_at, ${started}::text AS cursor_started_at
    FROM ${table}`;
  const activeWhere = `${status} ${opts.oneActiveStatus ? "= $1" : "= ANY($1)"} AND ${started} <= $2`;
  const order = `ORDER BY ${started}, ${id} LIMIT $3`;
  return {
    firstActivePage: `${select} WHERE ${activeWhere} ${order}`,
    nextActivePage: `${select} WHERE ${activeWhere} AND (${started}, ${id}) > ($4, $5) ${order}`,
    activeSummary: `SELECT count(*)::bigint AS active, min(${started}) AS oldest_started_at
      FROM ${table} WHERE ${status} = ANY($1)`,
    probeCallsTable: `SELECT ${id}, ${sid}, ${rtc}, ${status}, ${started}, ${ended} FROM ${table} LIMIT 0`,
    probeActionsTable: `SELECT a.id, a.provider_status, a.outcome, a.detail, l.name
      FROM ${ACTIONS_TABLE} a, ${LEASES_TABLE} l LIMIT 0`,
  };
}
