/** `doctor`'s lines for the table checks (every problem, each on its own line) and for the status words. */
import type { Config } from "../config/config.js";
import { mapStatus } from "../config/status-map.js";
import { statusWordFindings } from "../config/status-words.js";
import { type DoctorFinding as Check, END_STATUSES } from "../model/index.js";
import type { SchemaProblems } from "./schema-problems.js";
import type { PgCallStore } from "./store.js";

/** A failed line, its detail worded as the command reports errors. */
export type Failed = (name: string, err: unknown) => Check;

/** One failed line per problem; the passing lines for the checks that found none. */
export function schemaChecks(config: Config, found: SchemaProblems): Check[] {
  const { problems, statusValues: report } = found;
  const failing = (name: string) =>
    problems.filter((p) => p.check === name).map((p): Check => ({ name, state: "fail", detail: p.message }));
  const tables = failing("tables");
  const statuses = failing("status values");
  const writes = END_STATUSES.map((s) => `${s}→${mapStatus(config.statusMap, s)}`).join(", ");
  return [
    ...(tables.length > 0
      ? tables
      : [
          {
            name: "tables",
            state: "pass" as const,
            detail: `${config.calls.table} and its columns, and the daemon's tables in schema ${config.calls.daemonSchema ?? "public"}, are as configured and migrated`,
          },
        ]),
    ...(statuses.length > 0 || report === null
      ? statuses
      : [
          {
            name: "status values",
            state: report.unreadableChecks.length > 0 ? ("warn" as const) : ("pass" as const),
            detail:
              report.unreadableChecks.length > 0
                ? `could not read CHECK ${report.unreadableChecks.join(", ")}: make sure it accepts ${writes}`
                : `would write ${writes} (${report.checked === "none" ? "no enum or CHECK to check against" : `the column's ${report.checked} accepts them`})`,
          },
        ]),
  ];
}

/** The statuses the daemon would write against those the table's latest finished rows carry. */
export async function statusWordChecks(
  config: Config,
  store: PgCallStore,
  found: SchemaProblems,
  failed: Failed,
): Promise<Check[]> {
  const name = "status words";
  // An enum or readable CHECK that accepts every status written vouches for STATUS_MAP's targets.
  const targetsAccepted =
    found.statusValues !== null &&
    found.statusValues.checked !== "none" &&
    !found.problems.some((p) => p.check === "status values");
  try {
    const words = await store.schema.statusWords({ targetsAccepted });
    return statusWordFindings(words, { table: config.calls.table, endedAt: config.calls.endedAt });
  } catch (err) {
    return [failed(name, err)];
  }
}

/** The duration column's line, when CALLS_COL_DURATION is set: what each end writes there. */
export async function durationChecks(config: Config, store: PgCallStore, failed: Failed): Promise<Check[]> {
  try {
    const duration = await store.durationColumn();
    if (duration === null) return [];
    return [
      {
        name: "duration",
        state: "pass",
        detail: `each end writes the call's length to ${config.calls.duration} (${duration.type}, ${duration.whole ? "whole seconds" : "to the millisecond"})`,
      },
    ];
  } catch (err) {
    return [failed("duration", err)];
  }
}
