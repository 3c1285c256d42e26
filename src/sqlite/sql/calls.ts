/**
 * The statements on the app's calls table. Names come from the mapping (validated and quoted); every value is a
 * named parameter. The active statuses are `:s0`, `:s1`, … (see activeParams): compared one by one, as
 * `status = :s0 OR status = :s1`, because SQLite matches a partial index's WHERE against a bound parameter's
 * value only in that form (`IN (:s0, :s1)` never uses `WHERE status IN ('a', 'b')`).
 */
import type { CallsTableMapping } from "../../config/config-types.js";
import { idColumnShared, quotedMapping } from "../../config/quoted-mapping.js";
import { OWN_TABLES } from "../own-tables.js";

/** The named parameters of the active statuses, for statements built with `activeCount` of them. */
export function activeParams(statuses: readonly string[]): Record<string, string> {
  return Object.fromEntries(statuses.map((s, i) => [`s${i}`, s]));
}

export interface CallsStatements {
  /** :cutoff (raw, in the column's format), :limit; :afterStarted and :afterId in `nextPage`. */
  firstPage: string;
  nextPage: string;
  /** As firstPage without the holds: the plan the listing index is judged on. */
  firstPagePlan: string;
  /**
   * :sids (a JSON array of Call SIDs): the active rows whose Twilio SID column holds one of them, started at
   * any time, in the listing's columns and order. It relies on an index whose first column is the SID column,
   * as an app that looks its rows up by a status callback's CallSid has (the app's primary key when the id is
   * the SID): SQLite then looks each SID up in it; without one, each read scans the table. Null when the
   * table has no Twilio SID column.
   */
  activeByCallSids: string | null;
  /** count and the oldest start (raw) of the active rows. */
  summary: string;
  /** The raw start of every active row. */
  activeStarts: string;
  /** Per account (`account`), the raw starts of the active rows Twilio is asked about, in order. */
  twilioStarts: string | null;
  /** How many rows got an end time at or after :since (raw, in the end column's format), by anyone. */
  endedSince: string;
  /** The row :id still active, unheld and without an end: its status, end and length before the end. */
  endable: string;
  /** Ends the row :id only if still active without an end: :status, :ended, :duration. */
  end: string;
}

/**
 * `withoutHolds`: every row is listed unheld, without reading the daemon's holds table (`simulate` mirrors the
 * calls table alone, before `migrate` as after it).
 */
export function callsStatements(
  m: CallsTableMapping,
  quotedTable: string,
  activeCount: number,
  opts: { withoutHolds?: boolean } = {},
): CallsStatements {
  const { id, sid, rtc, status, started, ended, account, duration } = quotedMapping(m);
  const active = (alias: string) => {
    const terms = Array.from({ length: activeCount }, (_, i) => `${alias}${status} = :s${i}`);
    return terms.length === 1 ? terms[0] : `(${terms.join(" OR ")})`;
  };
  const held = `EXISTS (SELECT 1 FROM ${OWN_TABLES.holds} AS h
      WHERE h.call_id = CAST(c.${id} AS TEXT) AND h.released_at IS NULL)`;
  const columns = (withHolds: boolean) => `SELECT CAST(c.${id} AS TEXT) AS id,
      CAST(${sid === null ? "NULL" : `c.${sid}`} AS TEXT) AS twilio_sid,
      CAST(${rtc === null ? "NULL" : `c.${rtc}`} AS TEXT) AS openai_id,
      CAST(${account === null ? "NULL" : `c.${account}`} AS TEXT) AS twilio_account,
      CAST(c.${status} AS TEXT) AS status, c.${started} AS started_at,
      ${withHolds ? held : "0"} AS held
    FROM ${quotedTable} AS c`;
  const select = (withHolds: boolean) =>
    `${columns(withHolds)}
    WHERE ${active("c.")} AND c.${ended} IS NULL AND c.${started} <= :cutoff`;
  const order = `ORDER BY c.${started}, c.${id} LIMIT :limit`;
  const twilioRows =
    sid === null
      ? null
      : idColumnShared(m)
        ? `substr(CAST(${sid} AS TEXT), 1, 2) = 'CA'`
        : `${sid} IS NOT NULL`;
  return {
    firstPage: `${select(opts.withoutHolds !== true)} ${order}`,
    nextPage: `${select(opts.withoutHolds !== true)} AND (c.${started}, c.${id}) > (:afterStarted, :afterId) ${order}`,
    firstPagePlan: `${select(false)} ${order}`,
    activeByCallSids:
      sid === null
        ? null
        : `${columns(opts.withoutHolds !== true)}
    WHERE c.${sid} IN (SELECT value FROM json_each(:sids)) AND ${active("c.")} AND c.${ended} IS NULL
    ORDER BY c.${started}, c.${id}`,
    summary: `SELECT count(*) AS active, min(${started}) AS oldest FROM ${quotedTable}
      WHERE ${active("")} AND ${ended} IS NULL`,
    activeStarts: `SELECT CAST(${started} AS TEXT) AS v FROM ${quotedTable} WHERE ${active("")} AND ${ended} IS NULL`,
    twilioStarts:
      twilioRows === null
        ? null
        : `SELECT NULLIF(CAST(${account ?? "NULL"} AS TEXT), '') AS account, ${started} AS started_at
      FROM ${quotedTable} WHERE ${active("")} AND ${ended} IS NULL AND ${twilioRows}
      ORDER BY ${started}`,
    endedSince: `SELECT count(*) AS n FROM ${quotedTable} WHERE ${ended} >= :since`,
    endable: `SELECT CAST(c.${id} AS TEXT) AS id, CAST(c.${status} AS TEXT) AS status,
        ${duration === null ? "NULL" : `c.${duration}`} AS duration
      FROM ${quotedTable} AS c
      WHERE c.${id} = :id AND ${active("c.")} AND c.${ended} IS NULL AND NOT ${held}`,
    end: `UPDATE ${quotedTable} SET ${status} = :status, ${ended} = :ended${duration === null ? "" : `, ${duration} = :duration`}
      WHERE ${id} = :id AND ${active("")} AND ${ended} IS NULL`,
  };
}
