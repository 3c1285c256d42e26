/**
 * The daemon's state in the file (holds, sightings, audit trail, causes, leases) is bound to one calls table:
 * the first command that uses it records which, and a command with another CALLS_TABLE on the same file is
 * refused before it reads or writes a call. The state is keyed by call id alone: without this, a second table of
 * the file would see the first one's holds and "gone" sightings.
 */
import type { CallsTableMapping } from "../config/config-types.js";
import { SchemaMismatchError, type StateBinding } from "../model/index.js";
import { errcodeOf } from "./busy.js";
import { resolveCallsTable } from "./calls-table.js";
import type { Connection, SqliteFile } from "./file.js";
import { OWN_TABLES } from "./own-tables.js";
import { bindingSql } from "./sql/state.js";

/**
 * Checks that the file's state belongs to CALLS_TABLE; with `bind`, binds an unbound state to it (a write:
 * `doctor` asks without). Throws SchemaMismatchError, one line with the fix, when it belongs to another table,
 * when CALLS_TABLE does not exist, or when the file has no daemon tables yet.
 */
export async function checkBinding(
  file: SqliteFile,
  mapping: CallsTableMapping,
  opts: { bind: boolean; clock?: () => Date },
): Promise<StateBinding> {
  const read = (db: Connection) => {
    const table = resolveCallsTable(db, mapping);
    return { table, bound: readBinding(db, file.path) };
  };
  let { table, bound } = await file.read(read);
  let boundNow = false;
  if (bound === null && opts.bind) {
    const at = (opts.clock ?? (() => new Date()))();
    // Read again inside the write: another command may have bound it first, to this table or another.
    ({ table, bound, boundNow } = await file.write((db) => {
      const now = read(db);
      if (now.bound !== null) return { ...now, boundNow: false };
      db.prepare(bindingSql.bind).run({ table: now.table, now: at.toISOString() });
      return {
        table: now.table,
        bound: { table: now.table, boundAt: new Date(at.toISOString()) },
        boundNow: true,
      };
    }));
  }
  const resolved = { schema: "main", name: table };
  if (bound === null) return { table: resolved, boundAt: null, boundNow: false };
  // SQLite names ignore case: `Calls` and `calls` are one table.
  if (bound.table.toLowerCase() === table.toLowerCase())
    return { table: resolved, boundAt: bound.boundAt, boundNow };
  throw new SchemaMismatchError(
    `the SQLite file ${file.path} holds the daemon's state (holds, sightings, audit trail) of main.${bound.table}, not of main.${table} (CALLS_TABLE=${mapping.table}). For a copy of the table, copy the file and point DATABASE_URL at the copy. If ${bound.table} was renamed to ${table}, re-bind: sqlite3 ${file.path} "${bindingSql.rebind(table)}"`,
  );
}

function readBinding(db: Connection, path: string): { table: string; boundAt: Date } | null {
  try {
    const row = db.prepare(bindingSql.read).get() as { calls_table: string; bound_at: string } | undefined;
    return row === undefined ? null : { table: row.calls_table, boundAt: new Date(row.bound_at) };
  } catch (err) {
    // SQLITE_ERROR (1): no such table.
    if (errcodeOf(err) === 1 && /no such table/.test(String((err as Error).message)))
      throw new SchemaMismatchError(
        `the daemon's tables (${OWN_TABLES.binding}) are missing in the SQLite file ${path}: run \`call-reconciler migrate\` first`,
      );
    throw err;
  }
}
