/** Reads of a start or end column held as text or an epoch number, whose values the daemon parses itself. */
import type { CallsTableMapping } from "../../config/config.js";
import { quotedMapping } from "../../config/quoted-mapping.js";

/** How many of a column's values tell its format: enough for a majority, cheap without an index. */
export const TIME_SAMPLE_ROWS = 200;

/**
 * Up to TIME_SAMPLE_ROWS of the column's non-NULL values as text (`v`), to tell the format its rows are
 * written in. No order: a scan that stops after the first rows it meets stays cheap on any table.
 */
export function sampleTimeValuesSql(m: CallsTableMapping, column: "startedAt" | "endedAt"): string {
  const q = quotedMapping(m);
  const col = column === "startedAt" ? q.started : q.ended;
  return `SELECT ${col}::text AS v FROM ${q.table} WHERE ${col} IS NOT NULL LIMIT ${TIME_SAMPLE_ROWS}`;
}

/** The start of every active row ($1 active statuses), raw: the daemon counts those that name no time. */
export function activeStartsSql(m: CallsTableMapping): string {
  const { table, status, started, ended } = quotedMapping(m);
  return `SELECT ${started}::text AS v FROM ${table} WHERE ${status} = ANY($1) AND ${ended} IS NULL`;
}
