import type { Config } from "../config/config.js";
import { migrate } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { requireDatabaseUrl } from "./runtime.js";

export async function runMigrate(
  config: Config,
  opts: { withCallsTable: boolean; out: NodeJS.WritableStream },
) {
  const pool = createPool(requireDatabaseUrl(config), {
    max: 1,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  try {
    const result = await migrate(pool, {
      withCallsTable: opts.withCallsTable,
      mapping: config.calls,
      activeStatuses: config.activeStatuses,
    });
    if (result.schemaCreated) opts.out.write(`created schema ${result.schema}\n`);
    opts.out.write(
      result.applied.length > 0
        ? `applied migrations: ${result.applied.join(", ")} in schema ${result.schema}\n`
        : `the daemon's tables in schema ${result.schema} are up to date\n`,
    );
    if (opts.withCallsTable) opts.out.write(`calls table ${config.calls.table} is present\n`);
    if (result.listingIndexCreated !== null)
      opts.out.write(`created index ${result.listingIndexCreated} for the listing of active calls\n`);
  } finally {
    await pool.end();
  }
}
