/**
 * `doctor`'s lines for a SQLite file: the file itself (there, on a local disk, readable and writable with its
 * directory), its journal mode, then the calls table, the daemon's tables and the state's binding, the
 * duration column and the status words. Reads only.
 */
import type { Config } from "../config/config.js";
import type { DatabaseTarget } from "../config/config-types.js";
import { statusWordFindings } from "../config/status-words.js";
import {
  type DoctorFinding as Check,
  type Database,
  type DoctorReport,
  SchemaMismatchError,
} from "../model/index.js";
import { fileFinding, journalModeFinding, readStatusWords } from "./doctor.js";
import type { SqliteFile } from "./file.js";
import { VERSION_SQL } from "./sql/status-column.js";
import type { SqliteCallStore } from "./store.js";

export interface SqliteDoctorTarget {
  config: Config;
  target: Extract<DatabaseTarget, { kind: "sqlite" }>;
  file: SqliteFile;
  store: SqliteCallStore;
  database: Database;
  /** Throws SchemaMismatchError when the daemon's tables are missing or older than this release. */
  verifyOwnTables: () => Promise<void>;
}

export async function sqliteDoctorChecks(
  t: SqliteDoctorTarget,
  opts: { scope: "database" | "tables"; explain: (err: unknown) => string },
): Promise<DoctorReport> {
  const failed = (name: string, err: unknown): Check => ({
    name,
    state: "fail",
    detail: err instanceof SchemaMismatchError ? err.message : opts.explain(err),
  });
  const findings: Check[] = [];
  if (opts.scope === "database") {
    const file = await fileFinding(t.target.path, t.target.busyTimeoutMs);
    if (file.state === "fail") return { findings: [file], tablesUsable: false };
    try {
      const { version } = (await t.file.read((db) => db.prepare(VERSION_SQL).get())) as { version: string };
      findings.push({ name: "database", state: "pass", detail: `SQLite ${version}, file ${t.target.path}` });
    } catch (err) {
      return { findings: [failed("database", err)], tablesUsable: false };
    }
    findings.push(file, await journalModeFinding(t.file));
  }
  const tables = await tableChecks(t, failed);
  return { findings: [...findings, ...tables.checks], tablesUsable: tables.usable };
}

/** The calls table, the daemon's tables, the state, the duration column and the status words. */
async function tableChecks(
  t: SqliteDoctorTarget,
  failed: (name: string, err: unknown) => Check,
): Promise<{ checks: Check[]; usable: boolean }> {
  const { config, store } = t;
  const checks: Check[] = [];
  let shape: Awaited<ReturnType<SqliteCallStore["shape"]>> | null = null;
  try {
    shape = await store.shape();
  } catch (err) {
    checks.push(failed("tables", err));
  }
  let migrated = false;
  try {
    await t.verifyOwnTables();
    migrated = true;
  } catch (err) {
    checks.push(failed("tables", err));
  }
  if (shape === null || !migrated) return { checks, usable: false };
  checks.push({
    name: "tables",
    state: "pass",
    detail: `${config.calls.table} and its columns, and the daemon's tables in the file, are as configured and migrated`,
  });
  try {
    const binding = await t.database.checkBinding({ bind: false });
    checks.push({ name: "state", state: "pass", detail: t.database.describeBinding(binding) });
  } catch (err) {
    checks.push(failed("state", err));
  }
  if (shape.durationWhole !== null) {
    checks.push({
      name: "duration",
      state: "pass",
      detail: `each end writes the call's length to ${config.calls.duration} (${shape.durationWhole ? "whole seconds" : "to the millisecond"})`,
    });
  }
  checks.push(...(await statusWordChecks(t, failed)));
  return { checks, usable: true };
}

async function statusWordChecks(
  t: SqliteDoctorTarget,
  failed: (name: string, err: unknown) => Check,
): Promise<Check[]> {
  const name = "status words";
  const { config } = t;
  try {
    const words = await readStatusWords(t.file, config.calls, config.statusMap);
    return statusWordFindings(words, { table: config.calls.table, endedAt: config.calls.endedAt });
  } catch (err) {
    return [failed(name, err)];
  }
}
