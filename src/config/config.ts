import { z } from "zod";
import type { Config, TwilioCredentials } from "./config-types.js";
import {
  booleanFlag,
  httpUrl,
  identifier,
  optionalIdentifier,
  optionalPositiveInt,
  optionalSecret,
  positiveInt,
  positiveNumber,
  quotable,
} from "./env-fields.js";
import { quoteQualifiedIdentifier } from "./identifiers.js";
import { parseStatusMap } from "./status-map.js";
import { timeZoneSetting } from "./time-zone.js";

export type { CallsTableMapping, Config, TwilioCredentials } from "./config-types.js";
export { mapStatus } from "./status-map.js";

/** A configuration problem the operator must fix: printed as one line, exit code 2, no stack trace. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Requests per second over the breaker's window below which it never opens: 60 requests in the default 30 s,
 * so 20 rows failing all 3 attempts at the head of a listing cannot open it, while an outage answering at the
 * default rate (up to 10 requests a second) opens it within seconds.
 */
export const DEFAULT_BREAKER_MIN_THROUGHPUT = 2;

/** Keyed by the environment variable names, so every validation message can name the variable to fix. */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      error: "must be a postgres:// or postgresql:// URL",
    }),
  TWILIO_ACCOUNT_SID: optionalSecret.refine((v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v), {
    error: "must look like AC followed by 32 hex digits",
  }),
  TWILIO_AUTH_TOKEN: optionalSecret,
  TWILIO_API_KEY: optionalSecret.refine((v) => v === undefined || /^SK[0-9a-fA-F]{32}$/.test(v), {
    error: "must look like SK followed by 32 hex digits",
  }),
  TWILIO_API_SECRET: optionalSecret,
  TWILIO_API_BASE_URL: httpUrl("https://api.twilio.com"),
  TWILIO_CONCURRENCY: positiveInt(4),
  TWILIO_MAX_RPS: positiveNumber(10),
  TWILIO_STRATEGY: z
    .enum(["auto", "list-diff", "per-call"], { error: "must be auto, list-diff or per-call" })
    .default("auto"),
  TWILIO_LIST_DIFF_THRESHOLD: positiveInt(100),
  TWILIO_TOTAL_MAX_RPS: optionalPositiveInt,
  TWILIO_TOTAL_CONCURRENCY: optionalPositiveInt,
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: httpUrl("https://api.openai.com/v1"),
  OPENAI_CONCURRENCY: positiveInt(4),
  OPENAI_MAX_RPS: positiveNumber(5),
  OPENAI_PROBE: z.enum(["sideband", "off"], { error: "must be sideband or off" }).default("sideband"),
  HANGUP_ORPHANED_REALTIME: booleanFlag,
  OPENAI_MAX_SESSION_SECONDS: positiveInt(3600),
  OPENAI_LIVE_CONTROL_SECONDS: positiveInt(3600),
  OPENAI_MAX_END_SHARE: z.coerce
    .number()
    .gt(0, { error: "must be greater than 0 and at most 1" })
    .lte(1, { error: "must be greater than 0 and at most 1" })
    .default(0.5),
  AGE_BOUND_MAX_END_SHARE: z.coerce
    .number()
    .gt(0, { error: "must be greater than 0 and at most 1" })
    .lte(1, { error: "must be greater than 0 and at most 1" })
    .default(0.5),
  PROVIDER_TIMEOUT_MS: positiveInt(10_000),
  PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().positive().optional(),
  BREAKER_FAILURE_RATE: z.coerce
    .number()
    .gt(0, { error: "must be between 0 and 1 (exclusive)" })
    .lt(1, { error: "must be between 0 and 1 (exclusive)" })
    .default(0.5),
  BREAKER_WINDOW_SECONDS: positiveNumber(30),
  BREAKER_MIN_THROUGHPUT: z.coerce.number().positive().finite().optional(),
  BREAKER_HALF_OPEN_SECONDS: positiveNumber(30),
  RECONCILE_INTERVAL_SECONDS: positiveInt(60),
  LEADER_LEASE_SECONDS: z.coerce.number().positive().finite().optional(),
  SHUTDOWN_TIMEOUT_SECONDS: positiveNumber(10),
  PASS_DEADLINE_SECONDS: positiveNumber(600),
  NOTIFY_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  NOTIFY_SECRET: optionalSecret,
  MIN_CALL_AGE_SECONDS: z.coerce.number().int().nonnegative().default(120),
  MAX_CALL_DURATION_SECONDS: positiveInt(86_400),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  ZOMBIES_TOKEN: optionalSecret,
  STATUS_MAP: z.string().default(""),
  DB_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  DRY_RUN: booleanFlag,
  METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CALLS_TABLE: z.string().default("calls").refine(quotable(quoteQualifiedIdentifier), {
    error: "must be a table name or schema.table of plain SQL identifiers",
  }),
  CALLS_COL_ID: identifier("call_id"),
  CALLS_COL_TWILIO_SID: identifier("twilio_call_sid"),
  CALLS_COL_OPENAI_ID: identifier("openai_call_id"),
  CALLS_COL_STATUS: identifier("status"),
  CALLS_COL_STARTED_AT: identifier("started_at"),
  CALLS_COL_ENDED_AT: identifier("ended_at"),
  CALLS_COL_TWILIO_ACCOUNT: optionalIdentifier,
  CALLS_TIME_ZONE: timeZoneSetting,
  RECONCILER_SCHEMA: identifier("public"),
  ACTIVE_STATUSES: z
    .string()
    .default("active")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .refine((list) => list.length > 0, { error: "must name at least one status" }),
});

/** Parses and validates the environment once at start-up. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    const value = env[variable];
    // Never echo what might be a secret; numbers and names are safe to show.
    const shown =
      value !== undefined && !/TOKEN|SECRET|KEY|DATABASE_URL/.test(variable) ? ` (got "${value}")` : "";
    throw new ConfigError(`${variable} ${issue?.message ?? "is invalid"}${shown}`);
  }
  const e = parsed.data;
  if (e.MIN_CALL_AGE_SECONDS >= e.MAX_CALL_DURATION_SECONDS) {
    throw new ConfigError("MIN_CALL_AGE_SECONDS must be smaller than MAX_CALL_DURATION_SECONDS");
  }
  return {
    databaseUrl: e.DATABASE_URL,
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
    hangupOrphanedRealtime: e.HANGUP_ORPHANED_REALTIME,
    openaiMaxSessionSeconds: e.OPENAI_MAX_SESSION_SECONDS,
    openaiLiveControlSeconds: e.OPENAI_LIVE_CONTROL_SECONDS,
    openaiMaxEndShare: e.OPENAI_MAX_END_SHARE,
    ageBoundMaxEndShare: e.AGE_BOUND_MAX_END_SHARE,
    providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    providerMaxAttempts: e.PROVIDER_MAX_ATTEMPTS,
    breakerFailureThreshold: e.BREAKER_FAILURE_THRESHOLD,
    breakerFailureRate: e.BREAKER_FAILURE_RATE,
    breakerWindowSeconds: e.BREAKER_WINDOW_SECONDS,
    breakerMinThroughput:
      e.BREAKER_MIN_THROUGHPUT ??
      (e.BREAKER_FAILURE_THRESHOLD === undefined
        ? DEFAULT_BREAKER_MIN_THROUGHPUT
        : e.BREAKER_FAILURE_THRESHOLD / e.BREAKER_WINDOW_SECONDS),
    breakerHalfOpenSeconds: e.BREAKER_HALF_OPEN_SECONDS,
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    leaderLeaseSeconds: leaseSeconds(e.LEADER_LEASE_SECONDS, e.RECONCILE_INTERVAL_SECONDS),
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    passDeadlineSeconds: e.PASS_DEADLINE_SECONDS,
    notify: notifyTarget(e.NOTIFY_URL, e.NOTIFY_SECRET),
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
      twilioAccount: e.CALLS_COL_TWILIO_ACCOUNT,
      daemonSchema: e.RECONCILER_SCHEMA,
    },
    activeStatuses: e.ACTIVE_STATUSES,
    statusMap: statusMapOf(e.STATUS_MAP, e.ACTIVE_STATUSES),
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    zombiesToken: e.ZOMBIES_TOKEN ?? null,
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
