/**
 * `doctor`'s PostgreSQL lines: reachability, clock and privileges, then the calls table, the daemon's tables,
 * the status values and words, the listing index and the active rows. Reads only: one statement per check.
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
  const subaccounts = privileges === "unreachable" ? [] : await tableChecks(t, findings, privileges, failed);
  return { findings, subaccounts };
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
 * The calls table, the daemon's tables, the status values and words, the listing index and the active rows.
 * Every table problem is named, each on its line; the listing index and active rows only once there is none.
 * Returns the Twilio subaccounts the active rows name (beside the configured account).
 */
async function tableChecks(
  t: DoctorTarget,
  checks: Check[],
  privileges: "privileged" | "unprivileged",
  failed: Failed,
): Promise<string[]> {
  const { store, config } = t;
  let found: SchemaProblems;
  try {
    // Privileges already checked (and reported) just above: a missing one fails this check with its own GRANT.
    found = await store.schema.problems({ privilegesChecked: privileges === "privileged" });
  } catch (err) {
    checks.push(failed("tables", err));
    return [];
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
  // The checks below would only fail again on what is named above.
  if (found.problems.length > 0) return [];
  try {
    const index = await store.listingIndex();
    checks.push(
      index.usable
        ? { name: "listing index", state: "pass", detail: "an index serves the listing of active calls" }
        : {
            name: "listing index",
            state: "warn",
            detail: `every pass scans the whole table: ${index.statement}`,
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
  return config.calls.twilioAccount === undefined ? [] : await subaccountsOf(t);
}

/** The distinct account SIDs of the active rows, beside the configured account. */
async function subaccountsOf(t: DoctorTarget): Promise<string[]> {
  const shares = await t.store.activeStartShares(2).catch(() => new Map<string | null, unknown>());
  return [...shares.keys()].filter((a): a is string => a !== null && a !== t.config.twilio?.accountSid);
}
