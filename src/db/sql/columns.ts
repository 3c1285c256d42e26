/**
 * Look-ups that turn a wrong CALLS_TABLE / CALLS_COL_* / CALLS_COL_STATUS into a hint naming what the database
 * does have. Only run after a start-up check failed (or, for the status sample, once at start-up), and each
 * reads a bounded amount.
 */

/** The columns of table $1 (quoted, possibly schema-qualified, as `$1::regclass`), in table order. */
export const TABLE_COLUMNS_SQL = `SELECT a.attname::text AS name
  FROM pg_attribute AS a
  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

/**
 * Tables (and views) named $1 up to case, in schema $2 up to case (NULL: any schema but the system ones); those
 * on the search path first. `schema` and `name` are as the catalog spells them.
 */
export const TABLES_LIKE_SQL = `SELECT n.nspname::text AS schema, c.relname::text AS name,
    n.nspname = ANY (current_schemas(false)) AS on_path
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  WHERE lower(c.relname) = lower($1::text)
    AND ($2::text IS NULL OR lower(n.nspname) = lower($2::text))
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  ORDER BY on_path DESC, n.nspname, c.relname
  LIMIT 5`;

/**
 * Up to 10 distinct values of the status column among at most 1000 rows, whether any of those rows holds one
 * of the active statuses ($1, text[]), and how many rows were read: enough to tell a CALLS_COL_STATUS that names
 * the wrong column, reading 1000 rows. Built from the validated, quoted table and column names.
 */
export function statusSampleSql(quotedTable: string, quotedStatus: string): string {
  return `WITH sample AS (SELECT ${quotedStatus}::text AS v FROM ${quotedTable} LIMIT 1000)
  SELECT (SELECT count(*) FROM sample)::int AS rows,
    EXISTS (SELECT 1 FROM sample WHERE v = ANY ($1::text[])) AS any_active,
    ARRAY(SELECT DISTINCT v FROM sample WHERE v IS NOT NULL ORDER BY v LIMIT 10) AS values`;
}

/**
 * Whether any row at all holds an active status ($1, text[]): asked only when the sample held none, so that
 * a table whose first 1000 rows are all ended is not mistaken for a wrong column. Stops at the first match.
 */
export function anyActiveSql(quotedTable: string, quotedStatus: string): string {
  return `SELECT EXISTS (SELECT 1 FROM ${quotedTable} WHERE ${quotedStatus}::text = ANY ($1::text[])) AS any_active`;
}
