import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q } from "../../config/fields/identifiers.js";

/** Whether the file has a table or view named ?1 (names are case-insensitive in SQLite). */
export const CALLS_TABLE_EXISTS_SQL = `SELECT 1 AS present FROM main.sqlite_master
  WHERE type IN ('table', 'view') AND lower(name) = lower(?)`;

/** The file's index names, so that a new one takes a free name (they are one namespace in a file). */
export const INDEX_NAMES_SQL = "SELECT lower(name) AS name FROM main.sqlite_master WHERE type = 'index'";

/** The default table's subaccount column: CALLS_COL_TWILIO_ACCOUNT, else `twilio_account_sid`. */
const accountColumn = (m: CallsTableMapping): string => m.twilioAccount ?? "twilio_account_sid";

/**
 * The default calls table on a SQLite file, as an app writing Python `isoformat()` text keeps one: ids and
 * statuses TEXT, start and end ISO 8601 TEXT, the length (when CALLS_COL_DURATION names one) REAL seconds.
 * `name` is the bare table name (SQLite takes no schema on a table in CREATE INDEX, and `main` is the file).
 */
export function createCallsTableSql(m: CallsTableMapping, name: string): string {
  // An id column may be the id itself, or one column may hold both providers' ids: each is created once.
  const idColumn = (c: string | null, ...taken: (string | null)[]) =>
    c === null || taken.includes(c) ? [] : [`${q(c)} TEXT`];
  const columns = [
    `${q(m.id)} TEXT PRIMARY KEY`,
    ...idColumn(m.twilioSid, m.id),
    `${q(accountColumn(m))} TEXT`,
    ...idColumn(m.openaiId, m.id, m.twilioSid),
    `${q(m.status)} TEXT NOT NULL`,
    `${q(m.startedAt)} TEXT NOT NULL`,
    `${q(m.endedAt)} TEXT`,
    ...(m.duration === undefined ? [] : [`${q(m.duration)} REAL`]),
  ];
  return `CREATE TABLE main.${q(name)} (\n  ${columns.join(",\n  ")}\n)`;
}
