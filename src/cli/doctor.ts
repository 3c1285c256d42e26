/**
 * `doctor`: every check a pass relies on, before anything is written, each with its fix in one line. Reads
 * only: one statement per check on the database; to Twilio one page of in-progress calls per account (the
 * configured one and the subaccounts the active rows name) and one page of phone numbers; to OpenAI one page
 * of the model list.
 */
import type { Config } from "../config/config.js";
import { checkBinding, describeBinding } from "../db/binding.js";
import { grantsFor, missingPrivileges } from "../db/privileges.js";
import type { SchemaProblems } from "../db/schema-problems.js";
import type { Logger } from "../log.js";
import { type Check, doctorExitCode, doctorReport, failed } from "./doctor-check.js";
import { openaiCheck, twilioChecks } from "./doctor-providers.js";
import { durationChecks, schemaChecks, statusWordChecks } from "./doctor-tables.js";
import { createRuntime, type Runtime } from "./runtime.js";

/** Host and database clocks further apart than this are worth a warning (decisions use the database's). */
const CLOCK_SKEW_WARN_MS = 5_000;

export async function runDoctor(
  config: Config,
  logger: Logger,
  opts: { json: boolean; out: NodeJS.WritableStream; twilioKeepAlive?: boolean },
): Promise<number> {
  const checks: Check[] = [{ name: "configuration", state: "pass", detail: "every setting is valid" }];
  // The runtime's own start-up warnings (a provider not configured) would repeat what the checks say.
  const runtime = createRuntime(config, logger.child({}, { level: "silent" }), { twilioKeepAlive: false });
  try {
    const database = await databaseChecks(config, runtime, checks);
    const accounts = database === "unreachable" ? [] : await tableChecks(config, runtime, checks, database);
    checks.push(...(await twilioChecks(config, accounts, opts.twilioKeepAlive ?? false)));
    checks.push(await openaiCheck(config));
  } finally {
    await runtime.close();
  }
  opts.out.write(opts.json ? `${JSON.stringify({ checks }, null, 2)}\n` : `${doctorReport(checks)}\n`);
  return doctorExitCode(checks);
}

/** Reachability, clock and privileges: whether the database can be used, and if so whether they were all there. */
async function databaseChecks(
  config: Config,
  runtime: Runtime,
  checks: Check[],
): Promise<"unreachable" | "privileged" | "unprivileged"> {
  let server: { role: string; version: string; now: Date };
  try {
    const sentAt = Date.now();
    server = await runtime.store.serverInfo();
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
    const { role, missing } = await missingPrivileges(runtime.pool, config.calls);
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
 * The calls table, the daemon's tables, the status values and words, the listing index and the active rows
 * (also `migrate`'s check of an existing calls table). Every table problem is named, each on its line; the
 * listing index and active rows only once there is none. Returns the Twilio subaccounts the active rows name
 * (beside the configured account), for the credential checks.
 */
export async function tableChecks(
  config: Config,
  runtime: Runtime,
  checks: Check[],
  privileges: "privileged" | "unprivileged",
): Promise<string[]> {
  const { store } = runtime;
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
      const binding = await checkBinding(runtime.pool, config.calls, { bind: false });
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
    checks.push(...(await durationChecks(config, store)));
    checks.push(...(await statusWordChecks(config, store, found)));
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
  return config.calls.twilioAccount === undefined ? [] : await subaccountsOf(config, runtime);
}

/** The distinct account SIDs of the active rows, beside the configured account. */
async function subaccountsOf(config: Config, runtime: Runtime): Promise<string[]> {
  const shares = await runtime.store.activeStartShares(2).catch(() => new Map<string | null, unknown>());
  return [...shares.keys()].filter((a): a is string => a !== null && a !== config.twilio?.accountSid);
}
