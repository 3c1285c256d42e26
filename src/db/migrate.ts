import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import type { MigrateResult } from "../model/index.js";
import { ensureListingIndex } from "./listing-index.js";
import { withTransaction } from "./pool.js";
import { daemonTables } from "./sql/tables.js";
import { CALLS_TABLE_EXISTS_SQL, createCallsTableSql, migrationSql, migrations } from "./sql.js";

/**
 * Brings the daemon's own tables up to date. The app's calls table is only ever created, when asked and
 * missing, for a new install or the demo; an existing one is never altered, nor indexed: an index built
 * here would lock the app's writes for the whole build (the caller prints the CONCURRENTLY one instead).
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
    let callsTable: MigrateResult["callsTable"] = null;
    if (opts.withCallsTable) {
      const found = await client.query<{ present: boolean }>(CALLS_TABLE_EXISTS_SQL, [
        quoteQualifiedIdentifier(opts.mapping.table),
      ]);
      callsTable = found.rows[0]?.present === true ? "existing" : "created";
    }
    if (callsTable === "created") {
      await client.query(createCallsTableSql(opts.mapping));
      listingIndexCreated = await ensureListingIndex(client, {
        mapping: opts.mapping,
        activeStatuses: opts.activeStatuses ?? ["active"],
      });
    }
    return { applied, schema: own.schema, schemaCreated, callsTable, listingIndexCreated };
  });
}
