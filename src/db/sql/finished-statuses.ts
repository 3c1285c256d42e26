/**
 * The status words the app writes when a call ends, for `doctor` to compare with those the daemon would write.
 */

/** How many of the latest finished rows are read: enough to meet every status an app writes, on any table. */
export const FINISHED_SAMPLE_LIMIT = 1000;

/**
 * The distinct status values (at most 50) among the latest FINISHED_SAMPLE_LIMIT rows with an end time, read
 * newest first so that an index on the start column (which apps keep for their own listings) serves it. Built
 * from the validated, quoted table and column names; no parameters.
 */
export function finishedStatusesSql(
  quotedTable: string,
  cols: { status: string; startedAt: string; endedAt: string },
): string {
  return `SELECT ARRAY(SELECT DISTINCT s.v FROM (
      SELECT ${cols.status}::text AS v FROM ${quotedTable}
      WHERE ${cols.endedAt} IS NOT NULL
      ORDER BY ${cols.startedAt} DESC
      LIMIT ${FINISHED_SAMPLE_LIMIT}
    ) AS s WHERE s.v IS NOT NULL ORDER BY s.v LIMIT 50) AS statuses`;
}
