/**
 * Every problem of the table checks at once, for `doctor` and `migrate`: the start-up checks (SchemaVerifier.verify)
 * stop at the first, which took one run per fact to learn. Each problem keeps the one-line message, and fix,
 * that start-up gives it.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { SchemaMismatchError } from "./errors.js";
import { refuseFinishedActive } from "./finished-active.js";
import { verifyPrivileges } from "./privileges.js";
import { callsTableColumns, missingColumnMessages, missingTableMessage } from "./schema-hints.js";
import type { DaemonTables } from "./sql/tables.js";
import type { PageStatements } from "./sql.js";
import { type StatusValuesReport, statusValueProblems } from "./status-values.js";
import { probeCallsTable, probeDaemonTables } from "./table-probes.js";

export interface SchemaProblem {
  /** The `doctor` check it belongs to. */
  check: "tables" | "status values";
  message: string;
}

export interface SchemaProblems {
  problems: SchemaProblem[];
  /** What the status values check could read; null when it could not run (no table or no status column). */
  statusValues: StatusValuesReport | null;
  /** The calls table and its status, start and end columns exist: its finished rows can be read. */
  readable: boolean;
}

export interface SchemaSubject {
  pool: pg.Pool;
  mapping: CallsTableMapping;
  sql: Pick<PageStatements, "probeCallsTable" | "probeActionsTable" | "finishedActive">;
  own: DaemonTables;
  statusMap: Readonly<Record<string, string>>;
  activeStatuses: readonly string[];
  /** The listing's $1 (one status, or the list). */
  activeParam: string | readonly string[];
  /** Reads the column types the listing and the batched end need; throws SchemaMismatchError if unusable. */
  columnTypes: () => Promise<unknown>;
  /** The caller has checked the privileges itself: a missing one is not reported twice. */
  privilegesChecked: boolean;
}

/**
 * Runs every check SchemaVerifier.verify runs, and each that still makes sense after a failure: a missing table skips
 * its column checks, a missing column the type checks that need it. Errors other than SchemaMismatchError (a
 * lost connection) are thrown.
 */
export async function collectSchemaProblems(s: SchemaSubject): Promise<SchemaProblems> {
  const m = s.mapping;
  // Without USAGE on a schema every probe below would fail with a bare "permission denied".
  if (!s.privilegesChecked) await verifyPrivileges(s.pool, m);
  const problems: SchemaProblem[] = [];
  const tables = (message: string) => problems.push({ check: "tables", message });

  const columns = await callsTableColumns(s.pool, m.table);
  if (columns === null) tables(await missingTableMessage(s.pool, m.table));
  else {
    const missing = missingColumnMessages(m, columns);
    for (const message of missing) tables(message);
    if (missing.length === 0) await caught(tables, () => probeCallsTable(s.pool, s.sql, m));
  }
  await caught(tables, () => probeDaemonTables(s.pool, s.sql, s.own));

  const has = (...names: string[]) => columns !== null && names.every((n) => columns.includes(n));
  if (has(m.id, m.status, m.startedAt, m.endedAt)) await caught(tables, s.columnTypes);

  let statusValues: StatusValuesReport | null = null;
  if (has(m.status)) {
    const found = await statusValueProblems(s.pool, m, s.statusMap, s.activeStatuses);
    statusValues = found.report;
    for (const message of found.problems) problems.push({ check: "status values", message });
    // An active status an enum lacks would fail this read unexplained: already named above.
    if (found.problems.length === 0 && has(m.endedAt)) {
      await caught(
        (message) => problems.push({ check: "status values", message }),
        () => refuseFinishedActive(s.pool, s.sql, m, s.activeParam),
      );
    }
  }
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.message === p.message) === i);
  return { problems: unique, statusValues, readable: has(m.status, m.startedAt, m.endedAt) };
}

/** Runs a check that throws SchemaMismatchError, handing its message to `report`; other errors propagate. */
async function caught(report: (message: string) => void, check: () => Promise<unknown>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (!(err instanceof SchemaMismatchError)) throw err;
    report(err.message);
  }
}
