import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, mapStatus } from "../../src/config/config.js";
import { quoteIdentifier, quoteQualifiedIdentifier } from "../../src/config/identifiers.js";

const SID = `AC${"0".repeat(32)}`;
const KEY = `SK${"1".repeat(32)}`;

function fails(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("has the defaults of DESIGN.md", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: undefined,
      twilio: null,
      openaiApiKey: null,
      twilioApiBaseUrl: "https://api.twilio.com",
      openaiBaseUrl: "https://api.openai.com/v1",
      reconcileIntervalSeconds: 60,
      minCallAgeSeconds: 120,
      maxCallDurationSeconds: 86_400,
      dryRun: false,
      metricsHost: "0.0.0.0",
      metricsPort: 9464,
      logLevel: "info",
      activeStatuses: ["active"],
      calls: {
        table: "calls",
        id: "call_id",
        twilioSid: "twilio_call_sid",
        openaiId: "openai_call_id",
        status: "status",
        startedAt: "started_at",
        endedAt: "ended_at",
      },
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      DATABASE_URL: "postgres://u:p@db:5432/app",
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: "tok",
      TWILIO_API_BASE_URL: "http://127.0.0.1:8080/",
      TWILIO_CONCURRENCY: "7",
      OPENAI_API_KEY: "sk-x",
      RECONCILE_INTERVAL_SECONDS: "15",
      MIN_CALL_AGE_SECONDS: "0",
      MAX_CALL_DURATION_SECONDS: "3600",
      DRY_RUN: "true",
      METRICS_PORT: "9000",
      LOG_LEVEL: "debug",
      CALLS_TABLE: "app.phone_calls",
      CALLS_COL_ID: "id",
      ACTIVE_STATUSES: "active, ringing ,",
    });
    expect(c).toMatchObject({
      databaseUrl: "postgres://u:p@db:5432/app",
      twilio: { accountSid: SID, username: SID, password: "tok" },
      twilioApiBaseUrl: "http://127.0.0.1:8080",
      twilioConcurrency: 7,
      openaiApiKey: "sk-x",
      reconcileIntervalSeconds: 15,
      minCallAgeSeconds: 0,
      maxCallDurationSeconds: 3600,
      dryRun: true,
      metricsPort: 9000,
      logLevel: "debug",
      calls: { table: "app.phone_calls", id: "id" },
      activeStatuses: ["active", "ringing"],
    });
  });

  it("uses an API key as the Basic-auth user", () => {
    expect(
      loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY: KEY, TWILIO_API_SECRET: "s" }).twilio,
    ).toEqual({
      accountSid: SID,
      username: KEY,
      password: "s",
    });
  });

  it.each([
    [{ RECONCILE_INTERVAL_SECONDS: "soon" }, /^RECONCILE_INTERVAL_SECONDS .*\(got "soon"\)$/],
    [{ RECONCILE_INTERVAL_SECONDS: "0" }, /^RECONCILE_INTERVAL_SECONDS/],
    [{ METRICS_PORT: "70000" }, /^METRICS_PORT/],
    [{ DRY_RUN: "maybe" }, /^DRY_RUN must be true or false/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL/],
    [{ DATABASE_URL: "mysql://x" }, /^DATABASE_URL must be a postgres/],
    [{ TWILIO_API_BASE_URL: "ftp://x" }, /^TWILIO_API_BASE_URL must be an http/],
    [{ CALLS_TABLE: "calls; DROP TABLE calls" }, /^CALLS_TABLE/],
    [{ CALLS_COL_STATUS: 'status" --' }, /^CALLS_COL_STATUS must be a plain SQL identifier/],
    [{ ACTIVE_STATUSES: " , " }, /^ACTIVE_STATUSES/],
    [{ TWILIO_ACCOUNT_SID: "AC123" }, /^TWILIO_ACCOUNT_SID must look like AC/],
    [{ TWILIO_ACCOUNT_SID: SID }, /^TWILIO_AUTH_TOKEN is required/],
    [{ TWILIO_AUTH_TOKEN: "t" }, /^TWILIO_ACCOUNT_SID is required/],
    [{ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY: KEY }, /^TWILIO_API_SECRET is required/],
    [
      { MIN_CALL_AGE_SECONDS: "100", MAX_CALL_DURATION_SECONDS: "50" },
      /^MIN_CALL_AGE_SECONDS must be smaller/,
    ],
  ])("rejects %j with one line naming the variable", (env, message) => {
    const m = fails(env as Record<string, string>);
    expect(m).toMatch(message);
    expect(m).not.toContain("\n");
  });

  it("never echoes a secret in its error", () => {
    expect(fails({ DATABASE_URL: "mysql://user:hunter2@x" })).not.toContain("hunter2");
    expect(fails({ TWILIO_API_KEY: "not-a-key-hunter2", TWILIO_ACCOUNT_SID: SID })).not.toContain("hunter2");
  });
});

describe("STATUS_MAP and DB_STATEMENT_TIMEOUT_MS", () => {
  it("default to no mapping and 30 s", () => {
    expect(loadConfig({})).toMatchObject({ statusMap: {}, dbStatementTimeoutMs: 30_000 });
  });

  it("read the mapping; a status not listed is written as it is", () => {
    const c = loadConfig({
      STATUS_MAP: " no-answer:missed , canceled : cancelled,timeout:ended,",
      DB_STATEMENT_TIMEOUT_MS: "45000",
    });
    expect(c.statusMap).toEqual({ "no-answer": "missed", canceled: "cancelled", timeout: "ended" });
    expect(c.dbStatementTimeoutMs).toBe(45_000);
    expect(mapStatus(c.statusMap, "no-answer")).toBe("missed");
    expect(mapStatus(c.statusMap, "busy")).toBe("busy");
    expect(mapStatus(c.statusMap, "toString")).toBe("toString");
  });

  it.each([
    [{ STATUS_MAP: "no-answer" }, /^STATUS_MAP entry "no-answer" must be status:value \(e\.g\. STATUS_MAP=/],
    [{ STATUS_MAP: "no-answer:" }, /^STATUS_MAP entry "no-answer:" must be status:value/],
    [{ STATUS_MAP: ":missed" }, /^STATUS_MAP entry ":missed" must be status:value/],
    [{ STATUS_MAP: "a:b:c" }, /^STATUS_MAP entry "a:b:c" must be status:value/],
    [
      { STATUS_MAP: "answered:missed" },
      /^STATUS_MAP names "answered", which the daemon never writes \(it writes completed, busy, no-answer, canceled, failed, timeout\)$/,
    ],
    [{ STATUS_MAP: "busy:engaged,busy:missed" }, /^STATUS_MAP maps "busy" twice$/],
    [{ STATUS_MAP: "timeout:active" }, /^STATUS_MAP maps "timeout" to "active", one of ACTIVE_STATUSES/],
    [
      { STATUS_MAP: "timeout:ringing", ACTIVE_STATUSES: "active,ringing" },
      /^STATUS_MAP maps "timeout" to "ringing"/,
    ],
    [{ DB_STATEMENT_TIMEOUT_MS: "10" }, /^DB_STATEMENT_TIMEOUT_MS .*\(got "10"\)$/],
  ])("rejects %j with one line naming the variable", (env, message) => {
    const m = fails(env as Record<string, string>);
    expect(m).toMatch(message);
    expect(m).not.toContain("\n");
  });
});

describe("circuit breaker settings", () => {
  it("default to a rate over 30 s, 2 requests a second at least, 30 s half-open", () => {
    expect(loadConfig({})).toMatchObject({
      breakerFailureRate: 0.5,
      breakerWindowSeconds: 30,
      breakerMinThroughput: 2,
      breakerHalfOpenSeconds: 30,
      breakerFailureThreshold: undefined,
    });
  });

  it("read every variable; the deprecated BREAKER_FAILURE_THRESHOLD sets the requests the window needs", () => {
    const env = {
      BREAKER_FAILURE_RATE: "0.25",
      BREAKER_WINDOW_SECONDS: "60",
      BREAKER_HALF_OPEN_SECONDS: "5",
    };
    expect(loadConfig({ ...env, BREAKER_MIN_THROUGHPUT: "0.5" })).toMatchObject({
      breakerFailureRate: 0.25,
      breakerWindowSeconds: 60,
      breakerMinThroughput: 0.5,
      breakerHalfOpenSeconds: 5,
    });
    expect(loadConfig({ ...env, BREAKER_FAILURE_THRESHOLD: "12" })).toMatchObject({
      breakerFailureThreshold: 12,
      breakerMinThroughput: 0.2,
    });
    // Set explicitly, the minimum throughput wins.
    const both = loadConfig({ BREAKER_FAILURE_THRESHOLD: "12", BREAKER_MIN_THROUGHPUT: "3" });
    expect(both.breakerMinThroughput).toBe(3);
  });

  it.each([
    [{ BREAKER_FAILURE_RATE: "1" }, /^BREAKER_FAILURE_RATE must be between 0 and 1/],
    [{ BREAKER_FAILURE_RATE: "0" }, /^BREAKER_FAILURE_RATE must be between 0 and 1/],
    [{ BREAKER_WINDOW_SECONDS: "0" }, /^BREAKER_WINDOW_SECONDS /],
    [{ BREAKER_MIN_THROUGHPUT: "-1" }, /^BREAKER_MIN_THROUGHPUT /],
    [{ BREAKER_FAILURE_THRESHOLD: "2.5" }, /^BREAKER_FAILURE_THRESHOLD /],
  ])("rejects %j with one line naming the variable", (env, message) => {
    const m = fails(env as Record<string, string>);
    expect(m).toMatch(message);
    expect(m).not.toContain("\n");
  });
});

describe("identifiers", () => {
  it("quotes plain names and schema-qualified names", () => {
    expect(quoteIdentifier("calls")).toBe('"calls"');
    expect(quoteQualifiedIdentifier("app.calls")).toBe('"app"."calls"');
  });

  it.each(['a"b', "a b", "1calls", "", "a.b.c", "x".repeat(64), "calls;--"])("rejects %j", (name) => {
    expect(() => quoteQualifiedIdentifier(name)).toThrow();
  });
});
