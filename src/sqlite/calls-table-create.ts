/**
 * `migrate --with-calls-table` and the demo on a SQLite file: the default calls table when the file has none,
 * with the partial index its listing needs. An existing table (the app's) is never altered nor indexed here.
 */
import type { CallsTableMapping } from "../config/config.js";
import type { SqliteFile } from "./file.js";
import { listingIndexStatement } from "./listing-index.js";
import { CALLS_TABLE_EXISTS_SQL, createCallsTableSql, INDEX_NAMES_SQL } from "./sql/calls-table-create.js";
import { sqliteTableName } from "./table-name.js";

export interface CallsTableCreated {
  callsTable: "created" | "existing";
  /** The partial index created with the new table; null when the table existed. */
  listingIndexCreated: string | null;
}

/** Creates the table and its index in one write transaction, unless the file has the table already. */
export async function createCallsTableIfMissing(
  file: SqliteFile,
  opts: { mapping: CallsTableMapping; activeStatuses: readonly string[] },
): Promise<CallsTableCreated> {
  const { name } = sqliteTableName(opts.mapping);
  return file.write((db) => {
    if (db.prepare(CALLS_TABLE_EXISTS_SQL).get(name) !== undefined) {
      return { callsTable: "existing", listingIndexCreated: null };
    }
    db.exec(createCallsTableSql(opts.mapping, name));
    const taken = new Set((db.prepare(INDEX_NAMES_SQL).all() as Array<{ name: string }>).map((r) => r.name));
    const statement = listingIndexStatement(opts.mapping, name, opts.activeStatuses, taken);
    db.exec(statement);
    return {
      callsTable: "created",
      listingIndexCreated: /INDEX IF NOT EXISTS "([^"]+)"/.exec(statement)?.[1] ?? null,
    };
  });
}
