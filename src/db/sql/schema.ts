/**
 * Start-up reads of the app table's columns: what the status column accepts, and whether the start and end
 * columns carry a time zone. $1 the table (quoted, possibly schema-qualified, as `$1::regclass`), $2 the
 * column's name (or names).
 */

/** The labels of the column's enum type (or of the enum under its domain), in order; none if not an enum. */
export const ENUM_LABELS_SQL = `SELECT e.enumlabel::text AS label, format_type(t.oid, NULL) AS type
  FROM pg_attribute AS a
  JOIN pg_type AS t ON t.oid = a.atttypid
  JOIN pg_enum AS e ON e.enumtypid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY e.enumsortorder`;

/**
 * The CHECK constraints that involve the column: the table's (on it alone or with other columns) and those of
 * its domain type, each with its expression as PostgreSQL prints it for re-reading (`VALUE` stands for the
 * value in a domain's) and the other columns of the table it reads.
 */
export const STATUS_CHECKS_SQL = `SELECT c.conname::text AS name,
    pg_get_expr(c.conbin, CASE WHEN c.contypid <> 0 THEN 0 ELSE c.conrelid END) AS expr,
    c.contypid <> 0 AS domain,
    ARRAY(SELECT o.attname::text FROM pg_attribute AS o
      WHERE c.contypid = 0 AND o.attrelid = c.conrelid AND o.attnum = ANY (c.conkey) AND o.attnum <> a.attnum
      ORDER BY o.attnum) AS others
  FROM pg_attribute AS a
  JOIN pg_constraint AS c ON c.contype = 'c'
    AND ((c.conrelid = a.attrelid AND a.attnum = ANY (c.conkey)) OR c.contypid = a.atttypid)
  WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY c.conname`;

/**
 * The table's columns as a CHECK expression sees them: each name quoted, its type with domains resolved (their
 * own checks are not this one's) and without typmod (a cast to `varchar(5)` would cut the value), and the
 * table's own name, quoted, for an expression that names the whole row.
 */
export const CHECK_ROW_SQL = `WITH RECURSIVE col(num, name, typ) AS (
    SELECT a.attnum, a.attname, a.atttypid FROM pg_attribute AS a
    WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT col.num, col.name, t.typbasetype FROM col JOIN pg_type AS t ON t.oid = col.typ WHERE t.typtype = 'd'
  )
  SELECT quote_ident(col.name) AS ident, format_type(col.typ, NULL) AS type, col.name = $2 AS subject,
    (SELECT quote_ident(r.relname) FROM pg_class AS r WHERE r.oid = $1::regclass) AS alias
  FROM col JOIN pg_type AS t ON t.oid = col.typ WHERE t.typtype <> 'd'
  ORDER BY col.num`;

/** A column of CHECK_ROW_SQL: its quoted name and type; `subject` for the status column. */
export interface CheckRowColumn {
  ident: string;
  type: string;
  subject: boolean;
}

/**
 * Evaluates one CHECK expression (STATUS_CHECKS_SQL's `expr`, from the catalog, never from config) for the
 * status value $1, over a one-row derived table shaped like the calls table: its status column holds $1, every
 * other column NULL. A domain's expression reads `VALUE`, which PostgreSQL then takes for the one column named
 * value. The answer is PostgreSQL's own: false refuses, true or NULL passes (as a CHECK does).
 */
export function checkEvaluationSql(
  expr: string,
  row: { alias: string; columns: readonly CheckRowColumn[] } | { domainValueType: string },
): string {
  const from =
    "domainValueType" in row
      ? `(SELECT $1::${row.domainValueType} AS value) AS domain_value`
      : `(SELECT ${row.columns.map((c) => `${c.subject ? "$1" : "NULL"}::${c.type} AS ${c.ident}`).join(", ")}) AS ${row.alias}`;
  return `SELECT (${expr}) AS accepts FROM ${from}`;
}

/** How `format_type` spells the type of a start or end column that holds no time zone (see TIME_COLUMN_TYPES_SQL). */
export const NAIVE_TIMESTAMP = "timestamp without time zone";

/**
 * The base types (domains resolved, typmod left out) of the columns named in $2 (`name[]`) of the table $1 (as
 * for COLUMN_TYPES_SQL): a start or end column of type NAIVE_TIMESTAMP is read and written through
 * `AT TIME ZONE` and CALLS_TIME_ZONE; one of a type `rawTimeKind` knows is read raw and converted by the
 * daemon; a timestamptz is used as it is.
 */
export const TIME_COLUMN_TYPES_SQL = `WITH RECURSIVE col(name, typ) AS (
    SELECT a.attname::text, a.atttypid FROM pg_attribute AS a
    WHERE a.attrelid = $1::regclass AND a.attname = ANY($2::name[]) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT col.name, t.typbasetype FROM col JOIN pg_type AS t ON t.oid = col.typ WHERE t.typtype = 'd'
  )
  SELECT col.name, format_type(col.typ, -1) AS type
  FROM col JOIN pg_type AS t ON t.oid = col.typ WHERE t.typtype <> 'd'`;

/** Fails with 22023 when PostgreSQL does not know the time zone $1 (checked at start-up, before any pass). */
export const CHECK_TIME_ZONE_SQL = "SELECT now() AT TIME ZONE $1::text AS local";

/** Start or end column types the daemon reads raw and converts itself (see time/raw-time.ts). */
const TEXT_TIME_TYPES: ReadonlySet<string> = new Set(["text", "character varying"]);
const EPOCH_TIME_TYPES: ReadonlySet<string> = new Set(["integer", "bigint", "numeric"]);

/** `text` for ISO 8601 text, `epoch` for a count since the Unix epoch, null for any other type. */
export function rawTimeKind(type: string | undefined): "text" | "epoch" | null {
  if (type === undefined) return null;
  return TEXT_TIME_TYPES.has(type) ? "text" : EPOCH_TIME_TYPES.has(type) ? "epoch" : null;
}
