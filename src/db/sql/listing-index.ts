/**
 * Is there an index that serves the listing of active calls? A production calls table is mostly ended calls;
 * without such an index every listing statement reads the whole table. See db/listing-index.ts.
 */

/**
 * The indexes of table $1 (quoted, possibly schema-qualified, as `$1::regclass`): whether each is partial,
 * usable (valid and ready: a failed `CREATE INDEX CONCURRENTLY` leaves an invalid one) and its first key
 * column (null for an expression).
 */
export const TABLE_INDEXES_SQL = `SELECT ic.relname::text AS name, i.indpred IS NOT NULL AS partial,
    i.indisvalid AND i.indisready AS valid, a.attname::text AS leading
  FROM pg_index AS i
  JOIN pg_class AS ic ON ic.oid = i.indexrelid
  LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
  WHERE i.indrelid = $1::regclass
  ORDER BY ic.relname`;

/**
 * Asked before EXPLAIN in the same transaction: with sequential scans priced out, the plan shows an index
 * whenever one can serve the statement at all, whatever the table's size and statistics (on a small or fresh
 * table the planner rightly prefers a scan, which says nothing about the table it will become).
 */
export const PREFER_INDEXES_SQL = "SET LOCAL enable_seqscan = off";
export const RESET_PREFER_INDEXES_SQL = "SET LOCAL enable_seqscan TO DEFAULT";

/**
 * The identifiers $1 and the values $2, quoted by the server's own rules (`quote_ident` quotes only when it
 * must: upper case, a keyword), so that the statement shown to the operator reads like one they would write.
 */
export const QUOTE_FOR_DDL_SQL = `SELECT
    ARRAY(SELECT quote_ident(n) FROM unnest($1::text[]) WITH ORDINALITY AS t(n, o) ORDER BY o) AS idents,
    ARRAY(SELECT quote_literal(v) FROM unnest($2::text[]) WITH ORDINALITY AS t(v, o) ORDER BY o) AS literals`;

/** The parts of the recommended statement, each already quoted (QUOTE_FOR_DDL_SQL). */
export interface ListingIndexParts {
  index: string;
  /** The table, schema-qualified if configured so. */
  table: string;
  started: string;
  id: string;
  status: string;
  /** The active statuses as SQL literals. */
  activeLiterals: readonly string[];
}

/**
 * `CREATE INDEX CONCURRENTLY calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'`: a
 * partial index holds the active rows only (a few thousand), so it stays small however much history the table
 * keeps, and it is in the listing's keyset order. `ifNotExists`: the form `migrate --with-calls-table` runs
 * (inside its transaction, so not CONCURRENTLY: it is meant for a new, empty table).
 */
export function createListingIndexSql(p: ListingIndexParts, opts: { concurrently: boolean }): string {
  const where =
    p.activeLiterals.length === 1
      ? `${p.status} = ${p.activeLiterals[0]}`
      : `${p.status} IN (${p.activeLiterals.join(", ")})`;
  const create = opts.concurrently ? "CREATE INDEX CONCURRENTLY" : "CREATE INDEX IF NOT EXISTS";
  return `${create} ${p.index} ON ${p.table} (${p.started}, ${p.id}) WHERE ${where}`;
}
