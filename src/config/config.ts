import { z } from "zod";
import type { Config, TwilioCredentials } from "./config-types.js";
import { databaseUrlProblem } from "./database-url.js";
import {
  booleanFlag,
  httpUrl,
  identifier,
  identifierProblem,
  openaiProbeSetting,
  optionalIdentifier,
  optionalPositiveInt,
  optionalSecret,
  positiveInt,
  positiveNumber,
  quotable,
  realtimeSurfaces,
} from "./env-fields.js";
import { quoteQualifiedIdentifier } from "./identifiers.js";
import { unknownVariableProblem } from "./known-variables.js";
import { numberSetting } from "./number-setting.js";
import { parseStatusMap } from "./status-map.js";
import { timeZoneSetting } from "./time-zone.js";
import { safeUrl, urlSetting } from "./url-setting.js";

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

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Keyed by the environment variable names, so every validation message can name the variable to fix. */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      const problem = v === undefined ? null : databaseUrlProblem(v);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    }),
  TWILIO_ACCOUNT_SID: optionalSecret.refine((v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v), {
    error: "must look like AC followed by 32 hex digits",
  }),
  TWILIO_AUTH_TOKEN: optionalSecret,
  TWILIO_API_KEY: optionalSecret.refine((v) => v === undefined || /^SK[0-9a-fA-F]{32}$/.test(v), {
    error: "must look like SK followed by 32 hex digits",
  }),
  TWILIO_API_SECRET: optionalSecret,
  TWILIO_API_BASE_URL: httpUrl(
    "https://api.twilio.com",
    "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)",
  ),
  TWILIO_CONCURRENCY: positiveInt(4),
  TWILIO_MAX_RPS: positiveNumber(10, "requests per second"),
  TWILIO_STRATEGY: z
    .enum(["auto", "list-diff", "per-call"], { error: "must be auto, list-diff or per-call" })
    .default("auto"),
  TWILIO_LIST_DIFF_THRESHOLD: positiveInt(100, "calls"),
  TWILIO_TOTAL_MAX_RPS: optionalPositiveInt("requests per second", 20),
  TWILIO_TOTAL_CONCURRENCY: optionalPositiveInt("requests in flight", 16),
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: httpUrl("https://api.openai.com/v1", "OPENAI_API_KEY"),
  OPENAI_CONCURRENCY: positiveInt(4),
  OPENAI_MAX_RPS: positiveNumber(5, "requests per second"),
  OPENAI_PROBE: openaiProbeSetting,
  OPENAI_SURFACES: realtimeSurfaces,
  HANGUP_ORPHANED_REALTIME: booleanFlag,
  OPENAI_MAX_SESSION_SECONDS: positiveInt(3600, "seconds"),
  OPENAI_LIVE_CONTROL_SECONDS: positiveInt(3600, "seconds"),
  OPENAI_MAX_END_SHARE: numberSetting({ above: 0, max: 1, example: 0.5 }).default(0.5),
  AGE_BOUND_MAX_END_SHARE: numberSetting({ above: 0, max: 1, example: 0.5 }).default(0.5),
  DIAGNOSIS_REQUEST_SHARE: numberSetting({ min: 0, max: 1, example: 0.1 }).default(0.1),
  PROVIDER_TIMEOUT_MS: positiveInt(10_000, "milliseconds"),
  PROVIDER_MAX_ATTEMPTS: numberSetting({ whole: true, min: 1, max: 10, example: 3 }).default(3),
  BREAKER_FAILURE_THRESHOLD: numberSetting({
    whole: true,
    above: 0,
    unit: "failures",
    example: 10,
  }).optional(),
  BREAKER_FAILURE_RATE: numberSetting({ above: 0, below: 1, example: 0.5 }).default(0.5),
  BREAKER_WINDOW_SECONDS: positiveNumber(30, "seconds"),
  BREAKER_MIN_THROUGHPUT: numberSetting({ above: 0, unit: "requests per second", example: 2 }).optional(),
  BREAKER_HALF_OPEN_SECONDS: positiveNumber(30, "seconds"),
  RECONCILE_INTERVAL_SECONDS: positiveInt(60, "seconds"),
  LEADER_LEASE_SECONDS: numberSetting({ above: 0, unit: "seconds", example: 150 }).optional(),
  SHUTDOWN_TIMEOUT_SECONDS: positiveNumber(10, "seconds"),
  PASS_DEADLINE_SECONDS: positiveNumber(600, "seconds"),
  NOTIFY_URL: urlSetting("NOTIFY_SECRET (the receiver checks the signature)", {
    allowQuery: true,
  }).optional(),
  NOTIFY_SECRET: optionalSecret,
  MIN_CALL_AGE_SECONDS: numberSetting({ whole: true, min: 0, unit: "seconds", example: 120 }).default(120),
  MAX_CALL_DURATION_SECONDS: positiveInt(86_400, "seconds"),
  DB_STATEMENT_TIMEOUT_MS: numberSetting({
    whole: true,
    min: 1_000,
    max: 3_600_000,
    unit: "milliseconds",
    example: 30_000,
  }).default(30_000),
  ZOMBIES_TOKEN: optionalSecret.refine((v) => v === undefined || v.length >= 32, {
    error: "must be at least 32 characters; generate one with: openssl rand -hex 32",
  }),
  RECONCILE_TOKEN: optionalSecret.refine((v) => v === undefined || v.length >= 32, {
    error: "must be at least 32 characters; generate one with: openssl rand -hex 32",
  }),
  STATUS_MAP: z.string().default(""),
  DB_PAGE_SIZE: numberSetting({ whole: true, min: 1, max: 10_000, unit: "rows", example: 500 }).default(500),
  DRY_RUN: booleanFlag,
  METRICS_HOST: z
    .string()
    .min(1, { error: "must be a host name or address to listen on, e.g. 0.0.0.0" })
    .default("0.0.0.0"),
  METRICS_PORT: numberSetting({ whole: true, min: 0, max: 65_535, example: 9464 }).default(9464),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  CALLS_TABLE: z
    .string()
    .default("calls")
    .superRefine((v, ctx) => {
      if (quotable(quoteQualifiedIdentifier)(v)) return;
      ctx.addIssue({
        code: "custom",
        message: identifierProblem(v, "a table name or schema.table of plain SQL identifiers"),
      });
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

/**
 * Variables read beyond the schema's keys: RECONCILER_IGNORE_VARS (see known-variables.ts), and those the
 * providers' SDKs read from the environment themselves.
 */
const READ_OUTSIDE_SCHEMA = [
  "RECONCILER_IGNORE_VARS",
  // Read by the Twilio SDK itself: the regional host (README) and its own log level.
  "TWILIO_REGION",
  "TWILIO_EDGE",
  "TWILIO_LOG_LEVEL",
  // Read by the OpenAI SDK itself.
  "OPENAI_ORG_ID",
  "OPENAI_PROJECT_ID",
  "OPENAI_LOG",
];

/** Every setting's name, from the schema itself, so a new setting is known the moment it is added. */
export const KNOWN_VARIABLES: ReadonlySet<string> = new Set([
  ...Object.keys(envSchema.shape),
  ...READ_OUTSIDE_SCHEMA,
]);

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
    openaiSurfaces: e.OPENAI_SURFACES,
    hangupOrphanedRealtime: e.HANGUP_ORPHANED_REALTIME,
    openaiMaxSessionSeconds: e.OPENAI_MAX_SESSION_SECONDS,
    openaiLiveControlSeconds: e.OPENAI_LIVE_CONTROL_SECONDS,
    openaiMaxEndShare: e.OPENAI_MAX_END_SHARE,
    ageBoundMaxEndShare: e.AGE_BOUND_MAX_END_SHARE,
    diagnosisRequestShare: e.DIAGNOSIS_REQUEST_SHARE,
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
