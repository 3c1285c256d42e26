/**
 * The start-up table checks of PgCallStore.verifySchema: the configured calls table and columns, and the
 * daemon's own tables migrated to the last version. Failures become an actionable SchemaMismatchError.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { explainSchemaError, pgCode, SchemaMismatchError } from "./errors.js";
import { PROBE_HOLDS_SQL } from "./sql/holds.js";
import { type PageStatements, PROBE_FORCED_SQL } from "./sql.js";

export async function probeTables(
  pool: pg.Pool,
  sql: Pick<PageStatements, "probeCallsTable" | "probeActionsTable">,
  mapping: CallsTableMapping,
): Promise<void> {
  try {
    await pool.query(sql.probeCallsTable);
  } catch (err) {
    throw explainSchemaError(err, mapping);
  }
  try {
    await pool.query(sql.probeActionsTable);
    await pool.query(PROBE_FORCED_SQL);
    await pool.query(PROBE_HOLDS_SQL);
  } catch (err) {
    const code = pgCode(err);
    if (code === "42P01" || code === "42703") {
      throw new SchemaMismatchError(
        "the daemon's tables (call_reconciler_actions, call_reconciler_leases, call_reconciler_holds) are missing or outdated: run `call-reconciler migrate` first",
      );
    }
    throw err;
  }
}
