/**
 * `doctor`'s PostgreSQL lines: reachability, clock and privileges, then the calls table, the daemon's tables,
 * the status values and words. Reads only: one statement per check.
 */
import type pg from "pg";
import type { Config } from "../config/config.js";
import type { DoctorFinding as Check, DoctorReport } from "../model/index.js";
import { checkBinding, describeBinding } from "./binding.js";
import { durationChecks, type Failed, schemaChecks, statusWordChecks } from "./doctor-tables.js";
import { grantsFor, missingPrivileges } from "./privileges.js";
import type { SchemaProblems } from "./schema-problems.js";
import type { PgCallStore } from "./store.js";

/** Host and database clocks further apart than this are worth a warning (decisions use the database's). */
const CLOCK_SKEW_WARN_MS = 5_000;

export interface DoctorTarget {
  pool: pg.Pool;
  store: PgCallStore;
  config: Config;
}

/**
 * `scope: "database"`: every line; `"tables"`: the table lines alone, for a role whose privileges are not the
 * daemon's (`migrate` runs as the tables' owner).
 */
export async function pgDoctorChecks(
  t: DoctorTarget,
  opts: { scope: "database" | "tables"; explain: (err: unknown) => string },
): Promise<DoctorReport> {
  const failed: Failed = (name, err) => ({ name, state: "fail", detail: opts.explain(err) });
  const findings: Check[] = [];
  const privileges = opts.scope === "tables" ? "privileged" : await databaseChecks(t, findings, failed);
  const tablesUsable = privileges !== "unreachable" && (await tableChecks(t, findings, privileges, failed));
  return { findings, tablesUsable };
}

/** Reachability, clock and privileges: whether the database can be used, and if so whether they were all there. */
async function databaseChecks(
  t: DoctorTarget,
  checks: Check[],
  failed: Failed,
): Promise<"unreachable" | "privileged" | "unprivileged"> {
  let server: { role: string; version: string; now: Date };
  try {
    const sentAt = Date.now();
    server = await t.store.serverInfo();
    const skewMs = (sentAt + Date.now()) / 2 - server.now.getTime();
    checks.push({
      name: "database",
      state: "pass",
      detail: `reachable as role ${server.role} (PostgreSQL ${server.version})`,
    });
    checks.push(
      Math.abs(skewMs) > CLOCK_SKEW_WARN_MS
        ? {
            name: "clock",
            state: "warn",
            detail: `this host's clock is ${(skewMs / 1000).toFixed(1)} s off the database's: decisions use the database's, but check NTP on both`,
          }
        : {
            name: "clock",
            state: "pass",
            detail: "this host and the database agree (decisions use the database's)",
          },
    );
  } catch (err) {
    checks.push(failed("database", err));
    return "unreachable";
  }
  try {
    const { role, missing } = await missingPrivileges(t.pool, t.config.calls);
    checks.push(
      missing.length === 0
        ? { name: "privileges", state: "pass", detail: `role ${role} has what run and audit need` }
        : {
            name: "privileges",
            state: "fail",
            detail: `as the tables' owner, run: ${grantsFor(missing, role).join("; ")}`,
          },
    );
    return missing.length === 0 ? "privileged" : "unprivileged";
  } catch (err) {
    checks.push(failed("privileges", err));
    return "unprivileged";
  }
}

/**
 * The calls table, the daemon's tables, the state, the duration column, the status values and words. Every
 * table problem is named, each on its line. True when there is none.
 */
async function tableChecks(
  t: DoctorTarget,
  checks: Check[],
  privileges: "privileged" | "unprivileged",
  failed: Failed,
): Promise<boolean> {
  const { store, config } = t;
  let found: SchemaProblems;
  try {
    // Privileges already checked (and reported) just above: a missing one fails this check with its own GRANT.
    found = await store.schema.problems({ privilegesChecked: privileges === "privileged" });
  } catch (err) {
    checks.push(failed("tables", err));
    return false;
  }
  checks.push(...schemaChecks(config, found));
  if (!found.problems.some((p) => p.check === "tables")) {
    try {
      const binding = await checkBinding(t.pool, config.calls, { bind: false });
      checks.push({
        name: "state",
        state: "pass",
        detail: describeBinding(binding, config.calls.daemonSchema ?? "public"),
      });
    } catch (err) {
      checks.push(failed("state", err));
    }
  }
  if (found.readable) {
    checks.push(...(await durationChecks(config, store, failed)));
    checks.push(...(await statusWordChecks(config, store, found, failed)));
  }
  // The store's own checks (cli/) would only fail again on what is named above.
  return found.problems.length === 0;
}
