import type pg from "pg";
import type { CallsTableMapping } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";

/**
 * `m` with a RECONCILER_SCHEMA of its own, migrated. The daemon's state belongs to one calls table, and the
 * tests that check several app tables in one database would otherwise be refused from the second table on.
 */
export async function withOwnState(pool: pg.Pool, m: CallsTableMapping): Promise<CallsTableMapping> {
  const mapping = { ...m, daemonSchema: `state_${m.table.toLowerCase().replace(/[^a-z0-9]/g, "_")}` };
  await migrate(pool, { withCallsTable: false, mapping });
  return mapping;
}
