import type { z } from "zod";
import type { Config, DatabaseTarget, TwilioCredentials } from "./config-types.js";
import { sqlitePath } from "./fields/database-url.js";
import { safeUrl } from "./fields/url-setting.js";
import { unknownVariableProblem } from "./known-variables.js";
import { DEFAULT_BREAKER_MIN_THROUGHPUT, envSchema, SETTINGS } from "./settings/index.js";
import { parseStatusMap } from "./status-map.js";

export type { CallsTableMapping, Config, TwilioCredentials } from "./config-types.js";
export { DEFAULT_BREAKER_MIN_THROUGHPUT } from "./settings/index.js";
export { mapStatus } from "./status-map.js";

/** A configuration problem the operator must fix: printed as one line, exit code 2, no stack trace. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Every setting's name, from the definition itself, so a new setting is known the moment it is added. */
export const KNOWN_VARIABLES: ReadonlySet<string> = new Set(Object.keys(SETTINGS));

/** What an error may repeat of a value: never a secret; of a URL only scheme://host/path. */
function shownValue(variable: string, value: string | undefined): string {
  if (value === undefined || /TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL/.test(variable)) return "";
  return ` (got "${/_URL$/.test(variable) ? safeUrl(value) : value}")`;
}

/** Parses and validates the environment once at start-up. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const unknown = unknownVariableProblem(env, KNOWN_VARIABLES);
  if (unknown !== null) throw new ConfigError(unknown);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    throw new ConfigError(
      `${variable} ${issue?.message ?? "is invalid"}${shownValue(variable, env[variable])}`,
    );
  }
  const e = parsed.data;
  if (e.CALLS_COL_TWILIO_SID === null && e.CALLS_COL_OPENAI_ID === null) {
    throw new ConfigError(
      "CALLS_COL_TWILIO_SID and CALLS_COL_OPENAI_ID are both empty: name the column that holds the providers' call ids (one column may hold both)",
    );
  }
  if (e.MIN_CALL_AGE_SECONDS >= e.MAX_CALL_DURATION_SECONDS) {
    throw new ConfigError("MIN_CALL_AGE_SECONDS must be smaller than MAX_CALL_DURATION_SECONDS");
  }
  const database = databaseTarget(e);
  if (database?.kind === "sqlite" && env.RECONCILER_SCHEMA !== undefined) {
    throw new ConfigError(
      "RECONCILER_SCHEMA is for PostgreSQL: on SQLite the daemon's tables (call_reconciler_*) are in the file itself; unset it (a trial on a copy of the table uses a copy of the file)",
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    database,
    twilio: twilioCredentials(e),
    twilioApiBaseUrl: e.TWILIO_API_BASE_URL,
    twilioConcurrency: e.TWILIO_CONCURRENCY,
    twilioMaxRps: e.TWILIO_MAX_RPS,
    twilioStrategy: e.TWILIO_STRATEGY,
    twilioListDiffThreshold: e.TWILIO_LIST_DIFF_THRESHOLD,
    twilioTotalMaxRps: e.TWILIO_TOTAL_MAX_RPS ?? null,
    twilioTotalConcurrency: e.TWILIO_TOTAL_CONCURRENCY ?? null,
    openaiApiKey: e.OPENAI_API_KEY ?? null,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiConcurrency: e.OPENAI_CONCURRENCY,
    openaiMaxRps: e.OPENAI_MAX_RPS,
    openaiProbe: e.OPENAI_PROBE,
    openaiSurfaces: e.OPENAI_SURFACES,
    hangupOrphanedRealtime: e.HANGUP_ORPHANED_REALTIME,
    openaiMaxSessionSeconds: e.OPENAI_MAX_SESSION_SECONDS,
    openaiLiveControlSeconds: e.OPENAI_LIVE_CONTROL_SECONDS,
    openaiMaxEndShare: e.OPENAI_MAX_END_SHARE,
    ageBoundMaxEndShare: e.AGE_BOUND_MAX_END_SHARE,
    diagnosisRequestShare: e.DIAGNOSIS_REQUEST_SHARE,
    providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    providerMaxAttempts: e.PROVIDER_MAX_ATTEMPTS,
    breakerFailureRate: e.BREAKER_FAILURE_RATE,
    breakerWindowSeconds: e.BREAKER_WINDOW_SECONDS,
    breakerMinThroughput: e.BREAKER_MIN_THROUGHPUT ?? DEFAULT_BREAKER_MIN_THROUGHPUT,
    breakerHalfOpenSeconds: e.BREAKER_HALF_OPEN_SECONDS,
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    leaderLeaseSeconds: leaseSeconds(e.LEADER_LEASE_SECONDS, e.RECONCILE_INTERVAL_SECONDS),
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    passDeadlineSeconds: e.PASS_DEADLINE_SECONDS,
    notify: notifyTarget(e.NOTIFY_URL, e.NOTIFY_SECRET),
    events: eventsSettings(e),
    minCallAgeSeconds: e.MIN_CALL_AGE_SECONDS,
    maxCallDurationSeconds: e.MAX_CALL_DURATION_SECONDS,
    dbPageSize: e.DB_PAGE_SIZE,
    dryRun: e.DRY_RUN,
    metricsHost: e.METRICS_HOST,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    calls: {
      table: e.CALLS_TABLE,
      id: e.CALLS_COL_ID,
      twilioSid: e.CALLS_COL_TWILIO_SID,
      openaiId: e.CALLS_COL_OPENAI_ID,
      status: e.CALLS_COL_STATUS,
      startedAt: e.CALLS_COL_STARTED_AT,
      endedAt: e.CALLS_COL_ENDED_AT,
      timeZone: e.CALLS_TIME_ZONE,
      epochUnit: e.CALLS_EPOCH_UNIT,
      twilioAccount: e.CALLS_COL_TWILIO_ACCOUNT,
      duration: e.CALLS_COL_DURATION,
      daemonSchema: e.RECONCILER_SCHEMA,
    },
    activeStatuses: e.ACTIVE_STATUSES,
    statusMap: statusMapOf(e.STATUS_MAP, e.ACTIVE_STATUSES),
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    zombiesToken: e.ZOMBIES_TOKEN ?? null,
    reconcileToken: e.RECONCILE_TOKEN ?? null,
  };
}

function twilioCredentials(e: z.infer<typeof envSchema>): TwilioCredentials | null {
  const anyTwilio = e.TWILIO_ACCOUNT_SID ?? e.TWILIO_AUTH_TOKEN ?? e.TWILIO_API_KEY ?? e.TWILIO_API_SECRET;
  if (anyTwilio === undefined) return null;
  if (e.TWILIO_ACCOUNT_SID === undefined) {
    throw new ConfigError("TWILIO_ACCOUNT_SID is required when any other TWILIO_ credential is set");
  }
  if (e.TWILIO_API_KEY !== undefined || e.TWILIO_API_SECRET !== undefined) {
    if (e.TWILIO_API_KEY === undefined)
      throw new ConfigError("TWILIO_API_KEY is required with TWILIO_API_SECRET");
    if (e.TWILIO_API_SECRET === undefined)
      throw new ConfigError("TWILIO_API_SECRET is required with TWILIO_API_KEY");
    return { accountSid: e.TWILIO_ACCOUNT_SID, username: e.TWILIO_API_KEY, password: e.TWILIO_API_SECRET };
  }
  if (e.TWILIO_AUTH_TOKEN === undefined) {
    throw new ConfigError(
      "TWILIO_AUTH_TOKEN is required with TWILIO_ACCOUNT_SID (or TWILIO_API_KEY + TWILIO_API_SECRET)",
    );
  }
  return { accountSid: e.TWILIO_ACCOUNT_SID, username: e.TWILIO_ACCOUNT_SID, password: e.TWILIO_AUTH_TOKEN };
}

function leaseSeconds(configured: number | undefined, intervalSeconds: number): number {
  const lease = configured ?? intervalSeconds * 2.5;
  // Shorter than one interval, the lease would lapse between two renewals of a healthy leader.
  if (lease <= intervalSeconds) {
    throw new ConfigError(
      "LEADER_LEASE_SECONDS must be longer than RECONCILE_INTERVAL_SECONDS (2-3 intervals)",
    );
  }
  return lease;
}

function eventsSettings(e: z.infer<typeof envSchema>): Config["events"] {
  const url = e.EVENTS_URL ?? null;
  if (e.EVENTS_PORT === undefined) return { url, sink: null };
  if (url === null)
    throw new ConfigError(
      "EVENTS_URL is required with EVENTS_PORT: the public URL Twilio posts to, which every signature covers",
    );
  if (e.TWILIO_AUTH_TOKEN === undefined)
    throw new ConfigError(
      "TWILIO_AUTH_TOKEN is required with EVENTS_PORT: Twilio signs each Event Streams delivery with the account's Auth Token",
    );
  if (e.EVENTS_PORT !== 0 && e.EVENTS_PORT === e.METRICS_PORT)
    throw new ConfigError(
      "EVENTS_PORT must differ from METRICS_PORT: the sink faces Twilio, the metrics port faces your network",
    );
  return { url, sink: { host: e.EVENTS_HOST, port: e.EVENTS_PORT, url, authToken: e.TWILIO_AUTH_TOKEN } };
}

function notifyTarget(url: string | undefined, secret: string | undefined): Config["notify"] {
  if (url === undefined) return null;
  if (secret === undefined)
    throw new ConfigError("NOTIFY_SECRET is required with NOTIFY_URL (it signs every event)");
  return { url, secret };
}

function statusMapOf(raw: string, activeStatuses: readonly string[]): Record<string, string> {
  try {
    return parseStatusMap(raw, activeStatuses);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}

/** DATABASE_URL read: a SQLite file with its settings, or PostgreSQL's URL as pg reads it. */
function databaseTarget(e: z.infer<typeof envSchema>): DatabaseTarget | undefined {
  if (e.DATABASE_URL === undefined) return undefined;
  const path = sqlitePath(e.DATABASE_URL);
  return path === null
    ? { kind: "postgresql", url: e.DATABASE_URL }
    : {
        kind: "sqlite",
        path,
        busyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
        journalMode: e.SQLITE_JOURNAL_MODE,
      };
}
