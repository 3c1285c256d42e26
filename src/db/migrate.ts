import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { ensureListingIndex } from "./listing-index.js";
import { withTransaction } from "./pool.js";
import { daemonTables } from "./sql/tables.js";
import { addCallsAccountColumnSql, createCallsTableSql, migrationSql, migrations } from "./sql.js";

export interface MigrateResult {
  applied: number[];
  /** The schema the daemon's tables are in (RECONCILER_SCHEMA), and whether this run created it. */
  schema: string;
  schemaCreated: boolean;
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
  const own = daemonTables(opts.mapping.daemonSchema);
  const sql = migrationSql(own);
  return withTransaction(pool, async (client) => {
    await client.query(sql.noLockTimeout);
    await client.query(sql.lock);
    await client.query(sql.defaultLockTimeout);
    const exists = await client.query<{ present: boolean }>(sql.schemaExists, [own.schema]);
    const schemaCreated = exists.rows[0]?.present !== true;
    if (schemaCreated) await client.query(sql.createSchema);
    await client.query(sql.createLedger);
    const { rows } = await client.query<{ version: number }>(sql.appliedVersions);
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations(own)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(sql.recordVersion, [m.version, m.name]);
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
    return {
      applied,
      schema: own.schema,
      schemaCreated,
      callsTableEnsured: opts.withCallsTable,
      listingIndexCreated,
    };
  });
}
