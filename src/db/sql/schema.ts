/**
 * Start-up reads of what the status column accepts. $1 the table (quoted, possibly schema-qualified, as
 * `$1::regclass`), $2 the status column's name.
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
 * its domain type. `subject` is how the definition names the column: its name, or VALUE for a domain.
 */
export const STATUS_CHECKS_SQL = `SELECT c.conname::text AS name, pg_get_constraintdef(c.oid) AS def,
    CASE WHEN c.contypid <> 0 THEN 'VALUE' ELSE a.attname::text END AS subject
  FROM pg_attribute AS a
  JOIN pg_constraint AS c ON c.contype = 'c'
    AND ((c.conrelid = a.attrelid AND a.attnum = ANY (c.conkey)) OR c.contypid = a.atttypid)
  WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY c.conname`;
