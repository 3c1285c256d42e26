/**
 * What the database does have, when the configured table or a column is not there: the table that matches up
 * to case (`telephony.phonecalls` for `telephony."PhoneCalls"`), the CALLS_COL_* setting at fault with the
 * closest column; and, for a status column that holds no active status, the values it does hold. Names are
 * always double-quoted by the daemon, so case matters and is the usual culprit.
 */
import type pg from "pg";
import { columnSettings, statusColumnMessage } from "../config/column-settings.js";
import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier, quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import { closestName } from "../config/known-variables.js";
import { pgCode } from "./errors.js";
import { anyActiveSql, statusSampleSql, TABLE_COLUMNS_SQL, TABLES_LIKE_SQL } from "./sql/columns.js";

/**
 * The one line for a CALLS_TABLE that does not exist: with the table of that name up to case (or in another
 * schema) when there is one.
 */
export async function missingTableMessage(pool: pg.Pool, table: string): Promise<string> {
  const base = `CALLS_TABLE: table ${table} does not exist`;
  const [schema, name] = table.includes(".") ? table.split(".") : [null, table];
  const { rows } = await pool
    .query<{ schema: string; name: string; on_path: boolean }>(TABLES_LIKE_SQL, [name, schema])
    .catch(() => ({ rows: [] }));
  const found = rows[0];
  if (found === undefined)
    return `${base} (check the name, or run \`call-reconciler migrate --with-calls-table\`)`;
  const spelled = schema === null && found.on_path ? found.name : `${found.schema}.${found.name}`;
  return `${base}; names are case-sensitive and used exactly as written: did you mean CALLS_TABLE=${spelled}?`;
}

/**
 * The one line for a CALLS_COL_* setting naming a column the table lacks (the first such setting), with the
 * closest column of the table; null when every configured column is there (the error was about another).
 */
export async function missingColumnMessage(pool: pg.Pool, m: CallsTableMapping): Promise<string | null> {
  const { rows } = await pool.query<{ name: string }>(TABLE_COLUMNS_SQL, [quoteQualifiedIdentifier(m.table)]);
  return (
    missingColumnMessages(
      m,
      rows.map((r) => r.name),
    )[0] ?? null
  );
}

/** The columns of the calls table in table order, or null when it (or its schema) does not exist. */
export async function callsTableColumns(pool: pg.Pool, table: string): Promise<string[] | null> {
  try {
    const { rows } = await pool.query<{ name: string }>(TABLE_COLUMNS_SQL, [quoteQualifiedIdentifier(table)]);
    return rows.map((r) => r.name);
  } catch (err) {
    // 42P01: no such table; 3F000: no such schema.
    if (pgCode(err) === "42P01" || pgCode(err) === "3F000") return null;
    throw err;
  }
}

/** One line for each CALLS_COL_* setting naming a column `columns` lacks, with the closest column of the table. */
export function missingColumnMessages(m: CallsTableMapping, columns: readonly string[]): string[] {
  return columnSettings(m)
    .filter(([, column]) => !columns.includes(column))
    .map(([variable, column]) => {
      const guess = closestName(column, columns);
      const hint =
        guess !== undefined
          ? `did you mean ${variable}=${guess}? (names are case-sensitive: "${guess}" is not "${column}")`
          : `its columns are ${columns.slice(0, 20).join(", ")}${columns.length > 20 ? ", ..." : ""}`;
      return `${variable}: table ${m.table} has no column "${column}"; ${hint}`;
    });
}

/**
 * A warning when CALLS_COL_STATUS holds none of ACTIVE_STATUSES in a non-empty table (a wrong column, or
 * statuses spelt otherwise): every pass would check 0 calls and report all is well. Null when all is fine.
 * Reads at most 1000 rows, and only when those hold no active status asks whether any row does.
 */
export async function statusColumnWarning(
  pool: pg.Pool,
  m: CallsTableMapping,
  activeStatuses: readonly string[],
): Promise<string | null> {
  const [table, status] = [quoteQualifiedIdentifier(m.table), quoteIdentifier(m.status)];
  const sample = await pool.query<{ rows: number; any_active: boolean; values: string[] }>(
    statusSampleSql(table, status),
    [activeStatuses],
  );
  const s = sample.rows[0];
  if (s === undefined || s.rows === 0 || s.any_active) return null;
  const anywhere = await pool.query<{ any_active: boolean }>(anyActiveSql(table, status), [activeStatuses]);
  if (anywhere.rows[0]?.any_active === true) return null;
  return statusColumnMessage(m, activeStatuses, s.values);
}
