import type { CallsTableMapping } from "../../config/config-types.js";
import { quoteIdentifier } from "../../config/fields/identifiers.js";
import { sqliteTableName } from "../table-name.js";

/**
 * Whether the table has rows, whether any holds one of the active statuses (:s0, :s1, … as activeParams names
 * them), and up to ten statuses of its first 1000 rows: a bounded read, for the warning that CALLS_COL_STATUS
 * or ACTIVE_STATUSES is wrong.
 */
export function statusColumnSampleSql(m: CallsTableMapping, activeCount: number): string {
  const table = sqliteTableName(m).quoted;
  const status = quoteIdentifier(m.status);
  const active = Array.from({ length: activeCount }, (_, i) => `${status} = :s${i}`).join(" OR ");
  return `SELECT EXISTS (SELECT 1 FROM ${table}) AS any_rows,
      EXISTS (SELECT 1 FROM ${table} WHERE ${active}) AS any_active,
      (SELECT json_group_array(v) FROM (SELECT DISTINCT CAST(v AS TEXT) AS v
        FROM (SELECT ${status} AS v FROM ${table} LIMIT 1000) WHERE v IS NOT NULL LIMIT 10)) AS seen`;
}

/** The version of the daemon's tables in the file (NULL: none migrated). */
export const OWN_VERSION_SQL = "SELECT max(version) AS version FROM call_reconciler_migrations";

/** The SQLite library's version. */
export const VERSION_SQL = "SELECT sqlite_version() AS version";
