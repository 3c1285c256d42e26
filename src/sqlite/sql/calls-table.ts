/**
 * Reads of the calls table's shape: whether it is there, its declared columns, and a sample of a time column's
 * values to tell the format its rows are written in. Table names are parameters of the pragma functions.
 */
import { quoteIdentifier } from "../../config/fields/identifiers.js";

/** The table or view $1 of the main schema, matched as SQLite matches names (case-insensitively). */
export const TABLE_SQL = `SELECT name, type FROM main.sqlite_master
  WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE`;

/** The tables of the main schema, for the message about a missing one. */
export const TABLE_NAMES_SQL = `SELECT name FROM main.sqlite_master
  WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'call_reconciler_%' ORDER BY name`;

/** The columns of table $1 with their declared types (`type`: '' when none was declared). */
export const COLUMNS_SQL = "SELECT name, type FROM pragma_table_xinfo(?, 'main') ORDER BY cid";

/** How many of a column's values tell its format: enough for a majority, cheap without an index. */
export const TIME_SAMPLE_ROWS = 200;

/**
 * Up to TIME_SAMPLE_ROWS of a column's non-NULL values as text (`v`) with their storage class (`t`). No order:
 * a scan that stops after the first rows it meets stays cheap on any table.
 */
export function sampleValuesSql(table: string, column: string): string {
  const col = quoteIdentifier(column);
  return `SELECT CAST(${col} AS TEXT) AS v, typeof(${col}) AS t FROM ${table}
    WHERE ${col} IS NOT NULL LIMIT ${TIME_SAMPLE_ROWS}`;
}
