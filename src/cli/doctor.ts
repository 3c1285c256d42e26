/**
 * `doctor`: every check a pass relies on, before anything is written, each with its fix in one line. Reads
 * only: one statement per check on the database, one authenticated list request of one page to Twilio.
 */
import type { Config } from "../config/config.js";
import { mapStatus } from "../config/status-map.js";
import { grantsFor, missingPrivileges } from "../db/privileges.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import { END_STATUSES } from "../model/index.js";
import { rawProviders } from "../providers/guarded.js";
import { EXIT, explainFatal } from "./errors.js";
import { createRuntime, type Runtime } from "./runtime.js";

export type CheckState = "pass" | "warn" | "fail";

export interface Check {
  name: string;
  state: CheckState;
  /** What was found, and for a warning or a failure, what to do about it. */
  detail: string;
}

const MARK: Record<CheckState, string> = { pass: "✓", warn: "!", fail: "✗" };
/** Host and database clocks further apart than this are worth a warning (decisions use the database's). */
const CLOCK_SKEW_WARN_MS = 5_000;

/** Exit codes: 0 every check passed, 1 some only warn, 2 some failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => c.state === "fail")) return EXIT.badConfig;
  return checks.some((c) => c.state === "warn") ? EXIT.zombiesLeft : EXIT.ok;
}

export function doctorReport(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${MARK[c.state]} ${c.name.padEnd(width)}  ${c.detail}`).join("\n");
}

const failed = (name: string, err: unknown): Check => ({
  name,
  state: "fail",
  detail: explainFatal(err) ?? errorMessage(err),
});

export async function runDoctor(
  config: Config,
  logger: Logger,
  opts: { json: boolean; out: NodeJS.WritableStream; twilioKeepAlive?: boolean },
): Promise<number> {
  const checks: Check[] = [{ name: "configuration", state: "pass", detail: "every setting is valid" }];
  // The runtime's own start-up warnings (a provider not configured) would repeat what the checks say.
  const runtime = createRuntime(config, logger.child({}, { level: "silent" }), { twilioKeepAlive: false });
  try {
    if (await databaseChecks(config, runtime, checks)) await tableChecks(config, runtime, checks);
    checks.push(await twilioCheck(config, opts.twilioKeepAlive ?? false));
    checks.push(openaiCheck(config));
  } finally {
    await runtime.close();
  }
  opts.out.write(opts.json ? `${JSON.stringify({ checks }, null, 2)}\n` : `${doctorReport(checks)}\n`);
  return doctorExitCode(checks);
}

/** Reachability, clock and privileges; false when the database cannot be used at all. */
async function databaseChecks(config: Config, runtime: Runtime, checks: Check[]): Promise<boolean> {
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
    return false;
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
  } catch (err) {
    checks.push(failed("privileges", err));
  }
  return true;
}

/** The calls table, the daemon's tables, the status values, the listing index and the active rows. */
async function tableChecks(config: Config, runtime: Runtime, checks: Check[]): Promise<void> {
  const { store } = runtime;
  try {
    const report = await store.verifySchema();
    const writes = END_STATUSES.map((s) => `${s}→${mapStatus(config.statusMap, s)}`).join(", ");
    checks.push({
      name: "tables",
      state: "pass",
      detail: `${config.calls.table} and its columns, and the daemon's tables in schema ${config.calls.daemonSchema ?? "public"}, are as configured and migrated`,
    });
    checks.push({
      name: "status values",
      state: report.unreadableChecks.length > 0 ? "warn" : "pass",
      detail:
        report.unreadableChecks.length > 0
          ? `could not read CHECK ${report.unreadableChecks.join(", ")}: make sure it accepts ${writes}`
          : `would write ${writes} (${report.checked === "none" ? "no enum or CHECK to check against" : `the column's ${report.checked} accepts them`})`,
    });
  } catch (err) {
    checks.push(failed("tables", err));
    return;
  }
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
}

/** One authenticated request of one page of the account's in-progress calls. */
async function twilioCheck(config: Config, keepAlive: boolean): Promise<Check> {
  const twilio = rawProviders(config, { twilioKeepAlive: keepAlive }).twilio;
  if (twilio === null) {
    return {
      name: "twilio",
      state: "warn",
      detail: "not configured (TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN): rows with a Call SID stay unverified",
    };
  }
  const answer = await twilio.listCallsPage({ account: null, status: "in-progress" }, null);
  if (answer.kind === "error") {
    const fix =
      answer.reason === "auth_failed"
        ? ": check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)"
        : "";
    return { name: "twilio", state: "fail", detail: `${answer.detail}${fix}` };
  }
  return {
    name: "twilio",
    state: "pass",
    detail: `credentials accepted for ${config.twilio?.accountSid} (${answer.calls.length} calls in progress on the first page)`,
  };
}

function openaiCheck(config: Config): Check {
  if (config.openaiApiKey === null || config.openaiProbe === "off") {
    return {
      name: "openai",
      state: "warn",
      detail: "probe off (OPENAI_API_KEY unset or OPENAI_PROBE=off): realtime-only rows stay unverified",
    };
  }
  return {
    name: "openai",
    state: "pass",
    detail:
      "OPENAI_API_KEY set; the key is first used by a pass's realtime probe (a rejected key shows as provider errors)",
  };
}
