/**
 * The daemon's state (holds, sightings, audit trail, causes, leases) is bound to one calls table: the first
 * command that uses it records which, and a command with another CALLS_TABLE in the same RECONCILER_SCHEMA is
 * refused before it reads or writes a call. Without this a trial on a copy of the table would hold, and
 * confirm gone, the real table's calls of the same ids.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import type { ResolvedTable, StateBinding } from "../model/index.js";
import { pgCode, SchemaMismatchError } from "./errors.js";
import { missingTableMessage } from "./schema-hints.js";
import { bindingSql } from "./sql/binding.js";
import { daemonTables, TABLE_NAMES } from "./sql/tables.js";
import { RESOLVED_TABLE_SQL } from "./sql.js";

const named = (t: ResolvedTable) => `${t.schema}.${t.name}`;

/**
 * Checks that the state in RECONCILER_SCHEMA belongs to CALLS_TABLE; with `bind`, binds an unbound state to
 * it (a write: `doctor` asks without). Throws SchemaMismatchError, one line with the fix, when it belongs to
 * another table, when CALLS_TABLE does not exist, or when the schema predates the binding.
 */
export async function checkBinding(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  opts: { bind: boolean },
): Promise<StateBinding> {
  const own = daemonTables(mapping.daemonSchema);
  const sql = bindingSql(own);
  const table = await resolveCallsTable(pool, mapping);
  let bound = await readBinding(pool, sql.read, own.schema);
  let boundNow = false;
  if (bound === null && opts.bind) {
    boundNow = (await pool.query(sql.bind, [table.schema, table.name])).rowCount === 1;
    // Another command may have bound it first, to this table or another: what counts is what is there now.
    bound = await readBinding(pool, sql.read, own.schema);
  }
  if (bound === null) return { table, boundAt: null, boundNow: false };
  if (bound.table.schema === table.schema && bound.table.name === table.name)
    return { table, boundAt: bound.boundAt, boundNow };
  throw new SchemaMismatchError(
    `RECONCILER_SCHEMA ${own.schema} holds the daemon's state (holds, sightings, audit trail) of ${named(bound.table)}, not of ${named(table)} (CALLS_TABLE=${mapping.table}). For a copy of the table, give it a schema of its own: RECONCILER_SCHEMA=reconciler_trial, then \`call-reconciler migrate\`. If ${named(bound.table)} was renamed to ${named(table)}, re-bind as the tables' owner: ${sql.rebind(table.schema, table.name)}`,
  );
}

/** CALLS_TABLE as the database resolves it now; SchemaMismatchError, one line, when there is no such table. */
export async function resolveCallsTable(pool: pg.Pool, mapping: CallsTableMapping): Promise<ResolvedTable> {
  const { rows } = await pool.query<ResolvedTable>(RESOLVED_TABLE_SQL, [
    quoteQualifiedIdentifier(mapping.table),
  ]);
  const table = rows[0];
  if (table === undefined) throw new SchemaMismatchError(await missingTableMessage(pool, mapping.table));
  return table;
}

async function readBinding(
  pool: pg.Pool,
  read: string,
  schema: string,
): Promise<{ table: ResolvedTable; boundAt: Date } | null> {
  try {
    const { rows } = await pool.query<{ calls_schema: string; calls_table: string; bound_at: Date }>(read);
    const row = rows[0];
    return row === undefined
      ? null
      : { table: { schema: row.calls_schema, name: row.calls_table }, boundAt: row.bound_at };
  } catch (err) {
    if (pgCode(err) === "42P01")
      throw new SchemaMismatchError(
        `the daemon's tables (${TABLE_NAMES.binding}) are missing or outdated in schema ${schema} (RECONCILER_SCHEMA): run \`call-reconciler migrate\` first`,
      );
    throw err;
  }
}

/** For `doctor`: what the state is bound to, in words. */
export function describeBinding(b: StateBinding, schema: string): string {
  return b.boundAt === null
    ? `the daemon's state in schema ${schema} is not bound yet: the first run, audit, hold or revert binds it to ${named(b.table)}`
    : `the daemon's state in schema ${schema} belongs to ${named(b.table)} (since ${b.boundAt.toISOString()})`;
}
