/**
 * The start-up table checks of SchemaVerifier.verify: the configured calls table and columns, and the
 * daemon's own tables migrated to the last version. Failures become an actionable SchemaMismatchError.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { checkBinding } from "./binding.js";
import { explainSchemaError, pgCode, SchemaMismatchError } from "./errors.js";
import { missingColumnMessage, missingTableMessage } from "./schema-hints.js";
import { holdsSql } from "./sql/holds.js";
import { type DaemonTables, TABLE_NAMES } from "./sql/tables.js";
import { type PageStatements, refusalSql } from "./sql.js";

export async function probeTables(
  pool: pg.Pool,
  sql: Pick<PageStatements, "probeCallsTable" | "probeActionsTable">,
  own: DaemonTables,
  mapping: CallsTableMapping,
  opts: { bind: boolean } = { bind: true },
): Promise<void> {
  await probeCallsTable(pool, sql, mapping);
  await probeDaemonTables(pool, sql, own);
  // Before anything reads or writes a call: the state must be this table's (bound now if nothing used it yet).
  await checkBinding(pool, mapping, opts);
}

/** The daemon's own tables, migrated to the last version. */
export async function probeDaemonTables(
  pool: pg.Pool,
  sql: Pick<PageStatements, "probeActionsTable">,
  own: DaemonTables,
): Promise<void> {
  try {
    await pool.query(sql.probeActionsTable);
    await pool.query(refusalSql(own).probeForced);
    await pool.query(holdsSql(own).probe);
  } catch (err) {
    const code = pgCode(err);
    if (code === "42P01" || code === "42703") {
      throw new SchemaMismatchError(
        `the daemon's tables (${TABLE_NAMES.actions}, ${TABLE_NAMES.leases}, ${TABLE_NAMES.holds}) are missing or outdated in schema ${own.schema} (RECONCILER_SCHEMA): run \`call-reconciler migrate\` first`,
      );
    }
    throw err;
  }
}

/** The configured calls table and columns only: what a reader of the table (`simulate`) relies on. */
export async function probeCallsTable(
  pool: pg.Pool,
  sql: Pick<PageStatements, "probeCallsTable">,
  mapping: CallsTableMapping,
): Promise<void> {
  try {
    await pool.query(sql.probeCallsTable);
  } catch (err) {
    throw await withHint(pool, err, mapping);
  }
}

/** The probe's error as one line, with what the database has instead when a name is wrong. */
async function withHint(pool: pg.Pool, err: unknown, mapping: CallsTableMapping): Promise<Error> {
  const code = pgCode(err);
  try {
    if (code === "42P01") return new SchemaMismatchError(await missingTableMessage(pool, mapping.table));
    if (code === "42703") {
      const message = await missingColumnMessage(pool, mapping);
      if (message !== null) return new SchemaMismatchError(message);
    }
  } catch {
    // The look-up is only a hint: without it the plain explanation stands.
  }
  return explainSchemaError(err, mapping);
}
