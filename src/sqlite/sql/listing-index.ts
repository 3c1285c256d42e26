/** Whether an index serves the listing of active calls, and the statement that creates one. */
import { quoteIdentifier } from "../../config/fields/identifiers.js";

/** The indexes of table :table, each with whether it is partial. */
export const INDEX_LIST_SQL = "SELECT name, partial FROM pragma_index_list(:table, 'main')";

/** The first key column of index :index (NULL for an expression). */
export const INDEX_LEADING_SQL = "SELECT name FROM pragma_index_info(:index, 'main') WHERE seqno = 0";

/** Every index name of the main schema: an index name is unique in its schema, not per table. */
export const INDEX_NAMES_SQL = "SELECT name FROM main.sqlite_master WHERE type = 'index'";

/**
 * `CREATE INDEX IF NOT EXISTS "call_reconciler_calls_active_idx" ON "calls" ("started_at", "call_id") WHERE
 * "status" = 'active'`: it holds the active rows only, so it stays small however much history the table keeps,
 * in the listing's keyset order. Several active statuses are OR-ed, the form the listing compares them in (see
 * sql/calls.ts). The statuses are literals: DDL takes no parameters.
 */
export function createListingIndexSql(p: {
  index: string;
  table: string;
  started: string;
  id: string;
  status: string;
  activeStatuses: readonly string[];
}): string {
  const status = quoteIdentifier(p.status);
  const where = p.activeStatuses.map((s) => `${status} = '${s.replaceAll("'", "''")}'`).join(" OR ");
  return `CREATE INDEX IF NOT EXISTS "${p.index}" ON ${quoteIdentifier(p.table)} (${quoteIdentifier(p.started)}, ${quoteIdentifier(p.id)}) WHERE ${where}`;
}
