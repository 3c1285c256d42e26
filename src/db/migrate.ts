import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { ensureListingIndex } from "./listing-index.js";
import { withTransaction } from "./pool.js";
import { addCallsAccountColumnSql, createCallsTableSql, MIGRATION_SQL, MIGRATIONS } from "./sql.js";

export interface MigrateResult {
  applied: number[];
  /** The calls table was asked for and now exists (created, or already there). */
  callsTableEnsured: boolean;
  /** The partial index created for the listing of active calls (null: one already served it, or not asked). */
  listingIndexCreated: string | null;
}

/**
 * Brings the daemon's own tables up to date. The app's calls table is only ever created (never altered),
 * and only when asked, for a new install or the demo.
 */
export async function migrate(
  pool: pg.Pool,
  opts: { withCallsTable: boolean; mapping: CallsTableMapping; activeStatuses?: readonly string[] },
): Promise<MigrateResult> {
  return withTransaction(pool, async (client) => {
    await client.query(MIGRATION_SQL.noLockTimeout);
    await client.query(MIGRATION_SQL.lock);
    await client.query(MIGRATION_SQL.defaultLockTimeout);
    await client.query(MIGRATION_SQL.createLedger);
    const { rows } = await client.query<{ version: number }>(MIGRATION_SQL.appliedVersions);
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(MIGRATION_SQL.recordVersion, [m.version, m.name]);
      applied.push(m.version);
    }
    let listingIndexCreated: string | null = null;
    if (opts.withCallsTable) {
      await client.query(createCallsTableSql(opts.mapping));
      await client.query(addCallsAccountColumnSql(opts.mapping));
      listingIndexCreated = await ensureListingIndex(client, {
        mapping: opts.mapping,
        activeStatuses: opts.activeStatuses ?? ["active"],
      });
    }
    return { applied, callsTableEnsured: opts.withCallsTable, listingIndexCreated };
  });
}
