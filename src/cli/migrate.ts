import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import { openDatabase } from "./database.js";
import { type Check, doctorReport, explainCheck } from "./doctor-check.js";
import { storeChecks } from "./doctor-store.js";
import { EXIT } from "./errors.js";
import { terminalText } from "./terminal-text.js";

/**
 * `migrate`: the daemon's own tables, and with `--with-calls-table` a missing calls table. An existing calls
 * table is the app's: it is checked as `doctor` checks it and left as it is. Exit 0, or 2 when that table is
 * not usable as configured (its problems printed, each with its fix).
 */
export async function runMigrate(
  config: Config,
  _logger: Logger,
  opts: { withCallsTable: boolean; out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const database = await openDatabase(config, { connections: 1, createFile: opts.withCallsTable });
  let callsTable: "created" | "existing" | null;
  try {
    const result = await database.migrate({ withCallsTable: opts.withCallsTable });
    callsTable = result.callsTable;
    if (result.schemaCreated) opts.out.write(`created schema ${result.schema}\n`);
    // SQLite's tables go into the app's file: its schema name (main) would tell an operator nothing.
    const where =
      config.database?.kind === "sqlite"
        ? `the SQLite file ${config.database.path}`
        : `schema ${result.schema}`;
    opts.out.write(
      result.applied.length > 0
        ? `applied migrations: ${result.applied.join(", ")} in ${where}\n`
        : `the daemon's tables in ${where} are up to date\n`,
    );
    if (callsTable === "created") opts.out.write(`created calls table ${config.calls.table}\n`);
    if (result.listingIndexCreated !== null)
      opts.out.write(`created index ${result.listingIndexCreated} for the listing of active calls\n`);
  } finally {
    await database.close();
  }
  if (callsTable !== "existing") return EXIT.ok;
  opts.out.write(`calls table ${config.calls.table} already exists: left as it is, checked\n`);
  const { checks, index } = await checkCallsTable(config);
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
async function checkCallsTable(config: Config): Promise<{ checks: Check[]; index: string | null }> {
  const database = await openDatabase(config);
  try {
    const { findings, tablesUsable } = await database.doctorChecks({
      scope: "tables",
      explain: explainCheck,
    });
    const failed = (name: string, err: unknown): Check => ({
      name,
      state: "fail",
      detail: explainCheck(err),
    });
    const checks = tablesUsable
      ? [...findings, ...(await storeChecks(config, database.store, failed))]
      : findings;
    const unindexed = checks.some((c) => c.name === "listing index" && c.state === "warn");
    return { checks, index: unindexed ? (await database.store.listingIndex()).statement : null };
  } finally {
    await database.close();
  }
}
