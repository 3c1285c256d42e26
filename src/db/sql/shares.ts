import type { CallsTableMapping } from "../../config/config.js";
import { idColumnShared, quotedMapping } from "../../config/quoted-mapping.js";

/**
 * Per account, the active rows with a Call SID and the start times that cut them into equal shares: one scan
 * of the active rows per pass that lists Twilio, so that each account's listing can run as parallel slices.
 * $1 active statuses, $2 the fractions (float8[]); `startedInZone` (a `timestamp without time zone` start
 * column): $3 CALLS_TIME_ZONE, which turns the cuts into timestamptz; `startedRaw` (text or an epoch number):
 * the cuts as the column's text, parsed by the daemon. A blank account is the configured one.
 */
export function buildStartSharesSql(
  m: CallsTableMapping,
  opts: { startedInZone?: boolean; startedRaw?: boolean } = {},
): string {
  const { table, sid, status, started, account } = quotedMapping(m);
  // Rows Twilio is asked about: none without a Call SID column; in a column shared with OpenAI's ids, those
  // that start as a Call SID does. The shares only balance the listing's slices, so the prefix is enough: a
  // regular expression per active row cost the pass half a second at 100,000 rows.
  const twilioRows =
    sid === null ? "false" : idColumnShared(m) ? `starts_with(${sid}::text, 'CA')` : `${sid} IS NOT NULL`;
  const accountExpr = account === null ? "NULL::text" : `NULLIF(${account}::text, '')`;
  const cuts = opts.startedRaw
    ? "q.cuts::text[]"
    : opts.startedInZone
      ? "ARRAY(SELECT c AT TIME ZONE $3::text FROM unnest(q.cuts) AS c ORDER BY 1)"
      : "q.cuts";
  return `SELECT q.account, q.rows, ${cuts} AS cuts FROM (
      SELECT ${accountExpr} AS account, count(*)::bigint AS rows,
        percentile_disc($2::float8[]) WITHIN GROUP (ORDER BY ${started}) AS cuts
      FROM ${table} WHERE ${status} = ANY($1) AND ${twilioRows}
      GROUP BY 1
    ) AS q`;
}
