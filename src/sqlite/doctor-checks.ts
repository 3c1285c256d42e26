/**
 * `doctor`'s lines for a SQLite file: the file itself (there, on a local disk, readable and writable with its
 * directory), its journal mode, then the calls table, the daemon's tables and the state's binding, the
 * duration column, the status words, the listing index and the active rows. Reads only.
 */
import type { Config } from "../config/config.js";
import type { DatabaseTarget } from "../config/config-types.js";
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
    if (file.state === "fail") return { findings: [file], subaccounts: [] };
    try {
      const { version } = (await t.file.read((db) => db.prepare(VERSION_SQL).get())) as { version: string };
      findings.push({ name: "database", state: "pass", detail: `SQLite ${version}, file ${t.target.path}` });
    } catch (err) {
      return { findings: [failed("database", err)], subaccounts: [] };
    }
    findings.push(file, await journalModeFinding(t.file));
  }
  return { findings: [...findings, ...(await tableChecks(t, failed))], subaccounts: await subaccountsOf(t) };
}

async function tableChecks(
  t: SqliteDoctorTarget,
  failed: (name: string, err: unknown) => Check,
): Promise<Check[]> {
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
  if (shape === null || !migrated) return checks;
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
  try {
    const index = await store.listingIndex();
    checks.push(
      index.usable
        ? { name: "listing index", state: "pass", detail: "an index serves the listing of active calls" }
        : {
            name: "listing index",
            state: "warn",
            detail: `every pass reads the history: ${index.statement}`,
          },
    );
  } catch (err) {
    checks.push(failed("listing index", err));
  }
  try {
    const summary = await store.activeSummary();
    const statuses = config.activeStatuses.join(",");
    checks.push(
      summary.active > 0
        ? {
            name: "active rows",
            state: "pass",
            detail: `${summary.active} rows hold ACTIVE_STATUSES (${statuses})`,
          }
        : {
            name: "active rows",
            state: "warn",
            detail: `no row's ${config.calls.status} holds ${statuses}: if calls are live now, CALLS_COL_STATUS or ACTIVE_STATUSES is wrong`,
          },
    );
  } catch (err) {
    checks.push(failed("active rows", err));
  }
  try {
    const bad = await store.unparseableStarts();
    if (bad.count > 0) {
      checks.push({
        name: "start times",
        state: "warn",
        detail: `${bad.count} active rows have a ${config.calls.startedAt} that names no time (e.g. ${JSON.stringify(bad.example)}): they are never ended`,
      });
    }
  } catch (err) {
    checks.push(failed("start times", err));
  }
  return checks;
}

async function statusWordChecks(
  t: SqliteDoctorTarget,
  failed: (name: string, err: unknown) => Check,
): Promise<Check[]> {
  const name = "status words";
  const { config } = t;
  try {
    const { finished, warnings } = await readStatusWords(t.file, config.calls, config.statusMap);
    if (finished.length === 0) {
      return [
        {
          name,
          state: "pass",
          detail: `no finished rows (with an end time in ${config.calls.endedAt}) yet: nothing to compare the statuses the daemon would write with`,
        },
      ];
    }
    if (warnings.length > 0) return warnings.map((detail): Check => ({ name, state: "warn", detail }));
    return [
      {
        name,
        state: "pass",
        detail: `the finished rows of ${config.calls.table} carry ${finished.map((v) => JSON.stringify(v)).join(", ")}: no status the daemon would write is spelt otherwise there`,
      },
    ];
  } catch (err) {
    return [failed(name, err)];
  }
}

/** The distinct account SIDs of the active rows, beside the configured account. */
async function subaccountsOf(t: SqliteDoctorTarget): Promise<string[]> {
  if (t.config.calls.twilioAccount === undefined) return [];
  const shares = await t.store.activeStartShares(2).catch(() => new Map<string | null, unknown>());
  return [...shares.keys()].filter((a): a is string => a !== null && a !== t.config.twilio?.accountSid);
}
