import type { Config } from "../config/config.js";
import { migrate } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import type { Logger } from "../log.js";
import { tableChecks } from "./doctor.js";
import { type Check, doctorReport } from "./doctor-check.js";
import { EXIT } from "./errors.js";
import { createRuntime, requireDatabaseUrl } from "./runtime.js";
import { terminalText } from "./terminal-text.js";

/**
 * `migrate`: the daemon's own tables, and with `--with-calls-table` a missing calls table. An existing calls
 * table is the app's: it is checked as `doctor` checks it and left as it is. Exit 0, or 2 when that table is
 * not usable as configured (its problems printed, each with its fix).
 */
export async function runMigrate(
  config: Config,
  logger: Logger,
  opts: { withCallsTable: boolean; out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const pool = createPool(requireDatabaseUrl(config), {
    max: 1,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  let callsTable: "created" | "existing" | null;
  try {
    const result = await migrate(pool, {
      withCallsTable: opts.withCallsTable,
      mapping: config.calls,
      activeStatuses: config.activeStatuses,
    });
    callsTable = result.callsTable;
    if (result.schemaCreated) opts.out.write(`created schema ${result.schema}\n`);
    opts.out.write(
      result.applied.length > 0
        ? `applied migrations: ${result.applied.join(", ")} in schema ${result.schema}\n`
        : `the daemon's tables in schema ${result.schema} are up to date\n`,
    );
    if (callsTable === "created") opts.out.write(`created calls table ${config.calls.table}\n`);
    if (result.listingIndexCreated !== null)
      opts.out.write(`created index ${result.listingIndexCreated} for the listing of active calls\n`);
  } finally {
    await pool.end();
  }
  if (callsTable !== "existing") return EXIT.ok;
  opts.out.write(`calls table ${config.calls.table} already exists: left as it is, checked\n`);
  const { checks, index } = await checkCallsTable(config, logger);
  opts.out.write(`${doctorReport(checks)}\n`);
  if (index !== null) {
    opts.out.write(
      `no index serves the listing of active calls, and migrate builds none on an existing table: as its owner, run\n  ${terminalText(index)};\n`,
    );
  }
  if (!checks.some((c) => c.state === "fail")) return EXIT.ok;
  opts.err.write(
    `call-reconciler: calls table ${config.calls.table} is not usable as configured: fix the problems above (CALLS_TABLE, CALLS_COL_*, STATUS_MAP), then run \`call-reconciler doctor\`\n`,
  );
  return EXIT.badConfig;
}

/**
 * `doctor`'s table section, and the statement that creates the listing index when none serves it (null when
 * one does, or the table is not usable). The role that migrates owns the daemon's tables: its privileges are
 * not the daemon's, so they are not checked.
 */
async function checkCallsTable(
  config: Config,
  logger: Logger,
): Promise<{ checks: Check[]; index: string | null }> {
  const runtime = createRuntime(config, logger.child({}, { level: "silent" }), { twilioKeepAlive: false });
  const checks: Check[] = [];
  try {
    await tableChecks(config, runtime, checks, "privileged");
    const unindexed = checks.some((c) => c.name === "listing index" && c.state === "warn");
    return { checks, index: unindexed ? (await runtime.store.listingIndex()).statement : null };
  } finally {
    await runtime.close();
  }
}
