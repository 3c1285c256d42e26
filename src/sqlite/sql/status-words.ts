import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q } from "../../config/fields/identifiers.js";
import { sqliteTableName } from "../table-name.js";

/** How many of the latest finished rows are read: enough to meet every status an app writes. */
export const FINISHED_SAMPLE_LIMIT = 1000;

/**
 * The distinct statuses (at most 50) among the latest FINISHED_SAMPLE_LIMIT rows with an end time, newest
 * first so that the app's own index on the start column serves it.
 */
export function finishedStatusesSql(m: CallsTableMapping): string {
  return `SELECT DISTINCT s.v AS status FROM (
      SELECT CAST(${q(m.status)} AS TEXT) AS v FROM ${sqliteTableName(m).quoted}
      WHERE ${q(m.endedAt)} IS NOT NULL
      ORDER BY ${q(m.startedAt)} DESC
      LIMIT ${FINISHED_SAMPLE_LIMIT}
    ) AS s WHERE s.v IS NOT NULL ORDER BY s.v LIMIT 50`;
}
