import { describe, expect, it } from "vitest";
import { KNOWN_VARIABLES, loadConfig, mapStatus } from "../../src/config/config.js";
import { quoteIdentifier, quoteQualifiedIdentifier } from "../../src/config/fields/identifiers.js";
import { safeUrl } from "../../src/config/fields/url-setting.js";
import { configFailure } from "../helpers/config-failure.js";

const SID = `AC${"0".repeat(32)}`;
const KEY = `SK${"1".repeat(32)}`;

describe("loadConfig", () => {
  it("has the documented defaults", () => {
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
    const m = configFailure(env as Record<string, string>);
    expect(m).toMatch(message);
    expect(m).not.toContain("\n");
  });

  it("never echoes a secret in its error", () => {
    expect(configFailure({ DATABASE_URL: "mysql://user:hunter2@x" })).not.toContain("hunter2");
    expect(configFailure({ TWILIO_API_KEY: "not-a-key-hunter2", TWILIO_ACCOUNT_SID: SID })).not.toContain(
      "hunter2",
    );
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
    const m = configFailure(env as Record<string, string>);
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
    });
    expect(loadConfig({})).not.toHaveProperty("breakerFailureThreshold");
  });

  it("read every variable", () => {
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
  });

  it.each([
    [{ BREAKER_FAILURE_RATE: "1" }, /^BREAKER_FAILURE_RATE must be a number between 0 and 1/],
    [{ BREAKER_FAILURE_RATE: "0" }, /^BREAKER_FAILURE_RATE must be a number between 0 and 1/],
    [{ BREAKER_WINDOW_SECONDS: "0" }, /^BREAKER_WINDOW_SECONDS /],
    [{ BREAKER_MIN_THROUGHPUT: "-1" }, /^BREAKER_MIN_THROUGHPUT /],
  ])("rejects %j with one line naming the variable", (env, message) => {
    const m = configFailure(env as Record<string, string>);
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

describe("a mistake is named with its fix", () => {
  it.each([
    [
      { MIN_CALL_AGE_SECOND: "3600" },
      /^MIN_CALL_AGE_SECOND is not a setting of call-reconciler: did you mean MIN_CALL_AGE_SECONDS\?/,
    ],
    [{ CALLS_COL_TWILIOSID: "sid" }, /did you mean CALLS_COL_TWILIO_SID\?/],
    [{ RECONCILE_INTERVAL: "30" }, /did you mean RECONCILE_INTERVAL_SECONDS\?/],
    [{ DB_STATEMENT_TIMEOUT: "30000" }, /did you mean DB_STATEMENT_TIMEOUT_MS\?/],
    [{ TWILIO_PHONE_NUMBER: "+15550100" }, /^TWILIO_PHONE_NUMBER is not a setting .*RECONCILER_IGNORE_VARS/],
    [{ BREAKER_FAILURE_THRESHOLD: "12" }, /^BREAKER_FAILURE_THRESHOLD is not a setting of call-reconciler: /],
  ])("refuses the unknown variable %j", (env, message) => {
    const m = configFailure(env as Record<string, string>);
    expect(m).toMatch(message);
    expect(m).not.toContain("\n");
  });

  it("knows every schema key and RECONCILER_SCHEMA; leaves other programs' and Kubernetes' variables alone", () => {
    expect(KNOWN_VARIABLES.has("MIN_CALL_AGE_SECONDS")).toBe(true);
    expect(KNOWN_VARIABLES.has("CALLS_COL_TWILIO_ACCOUNT")).toBe(true);
    expect(KNOWN_VARIABLES.has("RECONCILER_SCHEMA")).toBe(true);
    expect(() =>
      loadConfig({
        PATH: "/bin",
        HOME: "/root",
        NODE_ENV: "production",
        RECONCILER_SCHEMA: "reconciler",
        DB_SERVICE_HOST: "10.0.0.1",
        DB_SERVICE_PORT: "5432",
        DB_PORT_5432_TCP_ADDR: "10.0.0.1",
        TWILIO_PHONE_NUMBER: "+15550100",
        RECONCILER_IGNORE_VARS: "TWILIO_PHONE_NUMBER",
        // Read by the providers' SDKs, and in the README.
        TWILIO_REGION: "ie1",
        TWILIO_EDGE: "dublin",
        OPENAI_ORG_ID: "org-1",
      }),
    ).not.toThrow();
  });

  it.each([
    [
      "RECONCILE_INTERVAL_SECONDS",
      "1m",
      'RECONCILE_INTERVAL_SECONDS must be a whole number of seconds above 0, e.g. 60 (got "1m")',
    ],
    [
      "RECONCILE_INTERVAL_SECONDS",
      "",
      'RECONCILE_INTERVAL_SECONDS must be a whole number of seconds above 0, e.g. 60 (got "")',
    ],
    [
      "MIN_CALL_AGE_SECONDS",
      "2m",
      'MIN_CALL_AGE_SECONDS must be a whole number of seconds, 0 or more, e.g. 120 (got "2m")',
    ],
    [
      "MAX_CALL_DURATION_SECONDS",
      "1.5",
      "MAX_CALL_DURATION_SECONDS must be a whole number of seconds above 0, e.g. 86400",
    ],
    ["TWILIO_CONCURRENCY", "four", "TWILIO_CONCURRENCY must be a whole number above 0, e.g. 4"],
    ["TWILIO_MAX_RPS", "fast", "TWILIO_MAX_RPS must be a number of requests per second above 0, e.g. 10"],
    [
      "TWILIO_LIST_DIFF_THRESHOLD",
      "x",
      "TWILIO_LIST_DIFF_THRESHOLD must be a whole number of calls above 0, e.g. 100",
    ],
    [
      "TWILIO_TOTAL_MAX_RPS",
      "x",
      "TWILIO_TOTAL_MAX_RPS must be a whole number of requests per second above 0, e.g. 20",
    ],
    [
      "TWILIO_TOTAL_CONCURRENCY",
      "-1",
      "TWILIO_TOTAL_CONCURRENCY must be a whole number of requests in flight above 0",
    ],
    ["TWILIO_STRATEGY", "fastest", "TWILIO_STRATEGY must be auto, list-diff or per-call"],
    ["OPENAI_CONCURRENCY", "x", "OPENAI_CONCURRENCY must be a whole number above 0, e.g. 4"],
    ["OPENAI_MAX_RPS", "x", "OPENAI_MAX_RPS must be a number of requests per second above 0, e.g. 5"],
    ["OPENAI_PROBE", "on", "OPENAI_PROBE must be after-cap, early or off"],
    [
      "OPENAI_SURFACES",
      "live,sip",
      "OPENAI_SURFACES must list live and/or realtime, comma-separated, each once (not sip)",
    ],
    ["HANGUP_ORPHANED_REALTIME", "y", "HANGUP_ORPHANED_REALTIME must be true or false"],
    [
      "OPENAI_MAX_SESSION_SECONDS",
      "1h",
      "OPENAI_MAX_SESSION_SECONDS must be a whole number of seconds above 0, e.g. 3600",
    ],
    [
      "OPENAI_LIVE_CONTROL_SECONDS",
      "1h",
      "OPENAI_LIVE_CONTROL_SECONDS must be a whole number of seconds above 0, e.g. 3600",
    ],
    ["OPENAI_MAX_END_SHARE", "half", "OPENAI_MAX_END_SHARE must be a number above 0 and at most 1, e.g. 0.5"],
    [
      "PROVIDER_TIMEOUT_MS",
      "10s",
      "PROVIDER_TIMEOUT_MS must be a whole number of milliseconds above 0, e.g. 10000",
    ],
    ["PROVIDER_MAX_ATTEMPTS", "many", "PROVIDER_MAX_ATTEMPTS must be a whole number from 1 to 10, e.g. 3"],
    ["PROVIDER_MAX_ATTEMPTS", "11", "PROVIDER_MAX_ATTEMPTS must be a whole number from 1 to 10, e.g. 3"],
    [
      "BREAKER_FAILURE_RATE",
      "50%",
      "BREAKER_FAILURE_RATE must be a number between 0 and 1 (exclusive), e.g. 0.5",
    ],
    ["BREAKER_WINDOW_SECONDS", "30s", "BREAKER_WINDOW_SECONDS must be a number of seconds above 0, e.g. 30"],
    [
      "BREAKER_MIN_THROUGHPUT",
      "x",
      "BREAKER_MIN_THROUGHPUT must be a number of requests per second above 0, e.g. 2",
    ],
    [
      "BREAKER_HALF_OPEN_SECONDS",
      "x",
      "BREAKER_HALF_OPEN_SECONDS must be a number of seconds above 0, e.g. 30",
    ],
    ["LEADER_LEASE_SECONDS", "x", "LEADER_LEASE_SECONDS must be a number of seconds above 0, e.g. 150"],
    [
      "SHUTDOWN_TIMEOUT_SECONDS",
      "x",
      "SHUTDOWN_TIMEOUT_SECONDS must be a number of seconds above 0, e.g. 10",
    ],
    ["PASS_DEADLINE_SECONDS", "10m", "PASS_DEADLINE_SECONDS must be a number of seconds above 0, e.g. 600"],
    [
      "DB_STATEMENT_TIMEOUT_MS",
      "30s",
      "DB_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 3600000, e.g. 30000",
    ],
    ["DB_PAGE_SIZE", "all", "DB_PAGE_SIZE must be a whole number of rows from 1 to 10000, e.g. 500"],
    ["DRY_RUN", "maybe", "DRY_RUN must be true or false"],
    ["METRICS_HOST", "", "METRICS_HOST must be a host name or address to listen on, e.g. 0.0.0.0"],
    ["METRICS_PORT", "tcp://10.0.0.1:9464", "METRICS_PORT must be a whole number from 0 to 65535, e.g. 9464"],
    ["LOG_LEVEL", "loud", "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent"],
  ])("%s=%j names the expected form", (variable, value, message) => {
    const m = configFailure({ [variable]: value });
    expect(m).toContain(message);
    expect(m).not.toMatch(/expected|received|Invalid/);
    expect(m).not.toContain("\n");
  });

  it("OPENAI_PROBE=sideband gets the same one line as any other value it does not take", () => {
    expect(configFailure({ OPENAI_PROBE: "sideband" })).toBe(
      'OPENAI_PROBE must be after-cap, early or off (got "sideband")',
    );
  });

  it("tells an operator who quoted a mixed-case table or column to drop the quotes", () => {
    expect(configFailure({ CALLS_TABLE: 'telephony."PhoneCalls"' })).toBe(
      'CALLS_TABLE must be a table name or schema.table of plain SQL identifiers (letters, digits, _ and $; at most 63 characters each); names are used exactly as written (case-sensitive) and quoted by call-reconciler, so write telephony.PhoneCalls without quotes (got "telephony."PhoneCalls"")',
    );
    expect(configFailure({ CALLS_COL_TWILIO_SID: '"twilioSid"' })).toMatch(
      /^CALLS_COL_TWILIO_SID must be a plain SQL identifier .*so write twilioSid without quotes/,
    );
    expect(loadConfig({ CALLS_TABLE: "telephony.PhoneCalls" }).calls.table).toBe("telephony.PhoneCalls");
  });

  it("asks for a ZOMBIES_TOKEN of 32 characters at least, and says how to make one", () => {
    expect(configFailure({ ZOMBIES_TOKEN: "short-token" })).toBe(
      "ZOMBIES_TOKEN must be at least 32 characters; generate one with: openssl rand -hex 32",
    );
    expect(loadConfig({ ZOMBIES_TOKEN: "a".repeat(32) }).zombiesToken).toBe("a".repeat(32));
  });

  it("asks for a RECONCILE_TOKEN of 32 characters at least; unset or blank, POST /reconcile is off", () => {
    expect(configFailure({ RECONCILE_TOKEN: "short-token" })).toBe(
      "RECONCILE_TOKEN must be at least 32 characters; generate one with: openssl rand -hex 32",
    );
    expect(loadConfig({ RECONCILE_TOKEN: ` ${"b".repeat(32)} ` }).reconcileToken).toBe("b".repeat(32));
    expect(loadConfig({ RECONCILE_TOKEN: " " }).reconcileToken).toBeNull();
    expect(loadConfig({}).reconcileToken).toBeNull();
  });
});

describe("credentials stay out of URLs and out of messages", () => {
  it.each([
    [
      "NOTIFY_URL",
      "https://hook:hunter2@hooks.example.com/calls",
      /^NOTIFY_URL must not contain a user or password \(user:pass@\): put the credential in NOTIFY_SECRET/,
    ],
    [
      "NOTIFY_URL",
      "https://hooks.example.com/calls?token=hunter2",
      /^NOTIFY_URL must not carry a credential in its query \(\?token=\): put the credential in NOTIFY_SECRET/,
    ],
    [
      "TWILIO_API_BASE_URL",
      "https://AC1:hunter2@api.twilio.com",
      /^TWILIO_API_BASE_URL must not contain a user or password .*TWILIO_AUTH_TOKEN/,
    ],
    [
      "OPENAI_BASE_URL",
      "https://x:hunter2@api.openai.com/v1",
      /^OPENAI_BASE_URL must not contain a user or password .*OPENAI_API_KEY/,
    ],
    [
      "OPENAI_BASE_URL",
      "https://api.openai.com/v1?key=hunter2",
      /^OPENAI_BASE_URL must not have a \?query: .*OPENAI_API_KEY/,
    ],
    [
      "TWILIO_API_BASE_URL",
      "ftp://u:hunter2@x/",
      /^TWILIO_API_BASE_URL must be an http\(s\) URL, e\.g\. https:\/\/host\/path \(got "ftp:\/\/x\/"\)$/,
    ],
    [
      "NOTIFY_URL",
      "hooks.example.com/hunter2@x",
      /^NOTIFY_URL must be an http\(s\) URL, e\.g\. https:\/\/host\/path \(got "\(not shown/,
    ],
  ])("%s=%s is refused without repeating the credential", (variable, value, message) => {
    const m = configFailure({ [variable]: value, NOTIFY_SECRET: "s" });
    expect(m).toMatch(message);
    expect(m).not.toContain("hunter2");
    expect(m).not.toContain("\n");
  });

  it("keeps a NOTIFY_URL query that carries no credential", () => {
    const c = loadConfig({
      NOTIFY_URL: "https://hooks.example.com/calls?source=reconciler",
      NOTIFY_SECRET: "s",
    });
    expect(c.notify?.url).toBe("https://hooks.example.com/calls?source=reconciler");
  });

  it("shows only scheme://host/path of a URL", () => {
    expect(safeUrl("https://u:hunter2@hooks.example.com:8443/calls?token=hunter2#x")).toBe(
      "https://hooks.example.com:8443/calls",
    );
  });

  it.each([
    [
      "postgres://app:pa#ss@db:5432/app",
      /^DATABASE_URL is not a valid URL: percent-encode special characters .*# as %23/,
    ],
    ["postgres://app:12#ss@db:5432/app", /^DATABASE_URL has a # that cuts the URL short: percent-encode/],
    ["postgres://app:a/b@db:5432/app", /^DATABASE_URL is not a valid URL: percent-encode .*\/ as %2F/],
    ["mysql://app:pass@db/app", /^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/],
  ])("refuses DATABASE_URL %s in one line without the password", (url, message) => {
    const m = configFailure({ DATABASE_URL: url });
    expect(m).toMatch(message);
    expect(m).not.toMatch(/pa#ss|12#ss|a\/b@|:pass@/);
    expect(m).not.toContain("\n");
  });

  it.each([
    "postgres://app:pa%23ss@db:5432/app?sslmode=require",
    "postgresql://app@/app?host=/var/run/postgresql",
    "postgres://app:p@ss@db/app",
  ])("accepts DATABASE_URL %s", (url) => {
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: "postgresql", url });
  });
});

describe("a SQLite DATABASE_URL", () => {
  it.each([
    ["sqlite:///srv/app/call_history.db", "/srv/app/call_history.db"],
    ["sqlite:data/call_history.db", "data/call_history.db"],
    ["sqlite:call_history.db", "call_history.db"],
    ["sqlite:/srv/app/calls.db", "/srv/app/calls.db"],
  ])("%s names the file %s, with the SQLite settings' defaults", (url, path) => {
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({
      kind: "sqlite",
      path,
      busyTimeoutMs: 5_000,
      journalMode: undefined,
    });
  });

  it("takes the busy timeout and the journal mode to set", () => {
    const c = loadConfig({
      DATABASE_URL: "sqlite:calls.db",
      SQLITE_BUSY_TIMEOUT_MS: "250",
      SQLITE_JOURNAL_MODE: "wal",
    });
    expect(c.database).toMatchObject({ busyTimeoutMs: 250, journalMode: "wal" });
    expect(configFailure({ DATABASE_URL: "sqlite:calls.db", SQLITE_JOURNAL_MODE: "off" })).toMatch(
      /^SQLITE_JOURNAL_MODE must be wal, delete, truncate or persist/,
    );
  });

  it.each(["sqlite://fileserver/calls.db", "sqlite:", "sqlite:///", "sqlite:calls.db?mode=ro"])(
    "refuses %s: a file on this host, named plainly",
    (url) => {
      expect(configFailure({ DATABASE_URL: url })).toMatch(
        /^DATABASE_URL must name a file on this host: sqlite:\/\/\//,
      );
    },
  );

  it("refuses RECONCILER_SCHEMA: the daemon's tables are in the file", () => {
    expect(configFailure({ DATABASE_URL: "sqlite:calls.db", RECONCILER_SCHEMA: "call_reconciler" })).toMatch(
      /^RECONCILER_SCHEMA is for PostgreSQL: on SQLite the daemon's tables \(call_reconciler_\*\) are in the file itself/,
    );
    expect(
      loadConfig({ DATABASE_URL: "postgres://db/app", RECONCILER_SCHEMA: "call_reconciler" }).database,
    ).toEqual({
      kind: "postgresql",
      url: "postgres://db/app",
    });
  });
});

describe("the id columns", () => {
  it("default to one column each; set empty, the table has no such column", () => {
    expect(loadConfig({}).calls).toMatchObject({ twilioSid: "twilio_call_sid", openaiId: "openai_call_id" });
    expect(loadConfig({ CALLS_COL_OPENAI_ID: "" }).calls).toMatchObject({
      twilioSid: "twilio_call_sid",
      openaiId: null,
    });
    expect(loadConfig({ CALLS_COL_TWILIO_SID: " " }).calls).toMatchObject({
      twilioSid: null,
      openaiId: "openai_call_id",
    });
  });

  it("may name one column, which may be the call's id too", () => {
    const one = { CALLS_COL_ID: "call_id", CALLS_COL_TWILIO_SID: "call_id", CALLS_COL_OPENAI_ID: "call_id" };
    expect(loadConfig(one).calls).toMatchObject({ id: "call_id", twilioSid: "call_id", openaiId: "call_id" });
  });

  it("refuses both empty: no provider could ever be asked", () => {
    expect(configFailure({ CALLS_COL_TWILIO_SID: "", CALLS_COL_OPENAI_ID: "" })).toMatch(
      /^CALLS_COL_TWILIO_SID and CALLS_COL_OPENAI_ID are both empty/,
    );
  });

  it("still refuses a name that is not a plain identifier", () => {
    expect(configFailure({ CALLS_COL_OPENAI_ID: "a b" })).toMatch(
      /^CALLS_COL_OPENAI_ID must be a plain SQL identifier/,
    );
  });
});
