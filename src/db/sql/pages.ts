import type { CallsTableMapping } from "../../config/config.js";
import { quotedMapping } from "../../config/quoted-mapping.js";
import { daemonTables } from "./tables.js";

/**
 * The reads of a pass and of the start-up checks. Built with `startedInZone` (a `timestamp without time zone`
 * start column), the listing and the summary take one more parameter, last: the time zone (CALLS_TIME_ZONE)
 * the column's wall times are in — $4, $6, $3 and $2 below.
 */
export interface PageStatements {
  /**
   * $1 active statuses (or the one active status, see `buildPageStatements`), $2 cutoff (only rows started at
   * or before it), $3 limit. Each row also says whether the call is held now (`held`).
   */
  firstActivePage: string;
  /** As firstActivePage, plus $4 cursor started_at (text, exact to the microsecond), $5 cursor id. */
  nextActivePage: string;
  /**
   * $1 active statuses (the list), $2 Call SIDs (text[]): the active rows whose Twilio SID column holds one of
   * them, started at any time, in the listing's columns and order (`held` included). It relies on an index
   * whose first column is the SID column, as an app that looks its rows up by the CallSid of a status
   * callback has (the app's primary key when the id is the SID): without one, each read scans the table.
   * Null when the table has no Twilio SID column.
   */
  activeByCallSids: string | null;
  /** $1 active statuses. */
  activeSummary: string;
  /**
   * $1 active statuses (as the listing takes them): how many rows with one of them already have an end time,
   * per status (`status`, `n`), counting at most FINISHED_ACTIVE_LIMIT rows so that a big history stays cheap
   * (the listing's partial index serves it).
   */
  finishedActive: string;
  /** Fails with 42P01/42703 when the table or a column is missing. */
  probeCallsTable: string;
  /** Fails with 42P01/42703 when the daemon's tables are missing or older than the last migration. */
  probeActionsTable: string;
}

/** The most finished rows the start-up check of the active statuses reads (see `finishedActive`). */
export const FINISHED_ACTIVE_LIMIT = 1000;

/**
 * A row with an end time is over whatever its status says: it is neither listed nor counted (an end status
 * slipped into ACTIVE_STATUSES would otherwise have the age bound rewrite the table's history). The extra
 * condition keeps the partial listing index usable: it filters the rows the index returns.
 *
 * `oneActiveStatus`: the listing compares `status = $1` instead of `status = ANY($1)`. With one value (the
 * usual case) that lets an index on (status, started_at, id) return each keyset page in order; with ANY,
 * PostgreSQL reads and sorts every active row after the cursor for every page, a pass growing with N².
 *
 * `startedInZone`: the start column is `timestamp without time zone`. Its value is read as
 * `started AT TIME ZONE $tz` (a timestamptz, whatever the session's TimeZone), but every comparison stays on
 * the raw column: the cutoff is converted into the column's type (`$2::timestamptz AT TIME ZONE $tz`) and
 * the cursor is the column's own text, so the (status, started_at, id) index still serves each page.
 *
 * `startedRaw`: the start column is ISO 8601 text or an epoch number (see time/raw-time.ts). `started_at`
 * (and the summary's oldest) is then its text, parsed by the daemon: a cast in SQL would abort the page on
 * one bad row. The cutoff ($2) is passed in the column's own format and compared raw, like the cursor.
 */
export function buildPageStatements(
  m: CallsTableMapping,
  opts: {
    oneActiveStatus?: boolean;
    startedInZone?: boolean;
    startedRaw?: boolean;
    /**
     * `held` is read as false, without the daemon's holds table: for reads that concern the calls table alone
     * (which index serves the listing; `simulate`'s mirror of the active rows), which must work before
     * `migrate` and without privileges on the daemon's tables.
     */
    withoutHolds?: boolean;
  } = {},
): PageStatements {
  const { table, id, sid, rtc, status, started, ended, account, duration } = quotedMapping(m);
  const own = daemonTables(m.daemonSchema);
  const zoned = opts.startedInZone === true;
  // The time zone is always a parameter, never SQL text: $4 in the first page, $6 in the next, $2 in the summary.
  const raw = opts.startedRaw === true;
  const read = (expr: string, tz: string) =>
    raw ? `(${expr})::text` : zoned ? `(${expr} AT TIME ZONE ${tz}::text)` : expr;
  const cutoff = (tz: string) => (zoned ? `($2::timestamptz AT TIME ZONE ${tz}::text)` : "$2");
  // started_at::text round-trips exactly (microseconds); a JS Date cursor would lose them and repeat rows.
  // A naive column's text has no offset and is compared as the column's own type: exact too.
  // `held`: whether the call has a current hold, read here rather than by a statement of its own per page (it
  // doubled a pass's statements); one probe of the holds' partial unique index per listed row.
  const select = (
    tz: string,
  ) => `SELECT ${id}::text AS id, ${sid ?? "NULL"}::text AS twilio_sid, ${rtc ?? "NULL"}::text AS openai_id,
      ${account === null ? "NULL" : account}::text AS twilio_account, ${status}::text AS status, ${read(started, tz)} AS started_at, ${started}::text AS cursor_started_at,
      ${opts.withoutHolds === true ? "false" : `EXISTS (SELECT 1 FROM ${own.holds} AS h WHERE h.call_id = c.${id}::text AND h.released_at IS NULL)`} AS held
    FROM ${table} AS c`;
  const activeWhere = (tz: string) =>
    `${status} ${opts.oneActiveStatus ? "= $1" : "= ANY($1)"} AND ${ended} IS NULL AND ${started} <= ${cutoff(tz)}`;
  // Qualified: a bare name in ORDER BY means the output column first (the converted start, or `id::text`),
  // which would sort by something the index and the keyset comparison do not follow.
  const order = `ORDER BY c.${started}, c.${id} LIMIT $3`;
  return {
    firstActivePage: `${select("$4")} WHERE ${activeWhere("$4")} ${order}`,
    nextActivePage: `${select("$6")} WHERE ${activeWhere("$6")} AND (${started}, ${id}) > ($4, $5) ${order}`,
    // The zone (when a naive start column needs one) is $3 here.
    activeByCallSids:
      sid === null
        ? null
        : `${select("$3")} WHERE c.${sid} = ANY($2::text[]) AND ${status} = ANY($1) AND ${ended} IS NULL
      ORDER BY c.${started}, c.${id}`,
    activeSummary: `SELECT count(*)::bigint AS active, ${read(`min(${started})`, "$2")} AS oldest_started_at
      FROM ${table} WHERE ${status} = ANY($1) AND ${ended} IS NULL`,
    finishedActive: `SELECT s.status, count(*)::int AS n FROM (
        SELECT ${status}::text AS status FROM ${table}
        WHERE ${status} ${opts.oneActiveStatus ? "= $1" : "= ANY($1)"} AND ${ended} IS NOT NULL
        LIMIT ${FINISHED_ACTIVE_LIMIT}
      ) AS s GROUP BY s.status ORDER BY n DESC, s.status`,
    probeCallsTable: `SELECT ${[id, sid, rtc, status, started, ended, account, duration].filter((c) => c !== null).join(", ")}
      FROM ${table} LIMIT 0`,
    probeActionsTable: `SELECT a.id, a.provider_status, a.outcome, a.detail, a.previous_ended_at,
        a.previous_duration_seconds, a.duration_seconds, l.name
      FROM ${own.actions} a, ${own.leases} l LIMIT 0`,
  };
}
