import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, runCliProcess } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe("command line: help, usage and configuration errors", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each(["--help", "run --help", "audit --help", "migrate --help", "demo --help"])(
    "%s prints help and exits 0",
    async (args) => {
      const r = await runCli(args.split(" "), {});
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: call-reconciler/);
    },
  );

  it("names a SQLite file as a DATABASE_URL, and the demo on one", async () => {
    const main = await runCli(["--help"], {});
    expect(main.stdout).toMatch(/sqlite:\/\/\/absolute\/path\/calls\.db/);
    const demo = await runCli(["demo", "--help"], {});
    expect(demo.stdout).toMatch(/^Usage: call-reconciler demo \[--table default\|text\] \[--sqlite\]$/m);
    expect(demo.stdout).toMatch(/^ {2}--sqlite +the app's table .* SQLite file/m);
  });

  it("documents the exit codes in audit --help", async () => {
    const r = await runCli(["audit", "--help"], {});
    expect(r.stdout).toMatch(/2 {2}bad usage/);
    expect(r.stdout).toMatch(/1 {2}zombies found/);
    expect(r.stdout).toMatch(/3 {2}some calls could not be verified/);
  });

  it("prints its version", async () => {
    const r = await runCli(["--version"], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [["frobnicate"], {}, /unknown command "frobnicate"/],
    // Names every object has: not commands either.
    [["constructor"], {}, /unknown command "constructor"/],
    [["__proto__"], {}, /unknown command "__proto__"/],
    [[], {}, /Usage: call-reconciler/],
    [["audit", "--aply"], {}, /audit: Unknown option '--aply'/],
    [["audit"], {}, /DATABASE_URL is required/],
    [
      ["audit"],
      { DATABASE_URL: "postgres://x", RECONCILE_INTERVAL_SECONDS: "-5" },
      /^call-reconciler: RECONCILE_INTERVAL_SECONDS/,
    ],
    [
      ["run"],
      { DATABASE_URL: "postgres://x", MAX_CALL_DURATION_SECONDS: "a day" },
      /MAX_CALL_DURATION_SECONDS/,
    ],
    [
      ["audit", "--confirm-age-bound"],
      { DATABASE_URL: "postgres://x" },
      /audit: --confirm-age-bound goes with --apply/,
    ],
    [
      ["audit"],
      { DATABASE_URL: "postgres://x", ACTIVE_STATUSES: "in_progress,ringing,completed" },
      /^call-reconciler: ACTIVE_STATUSES includes "completed", which the daemon writes when it ends a call: remove it from ACTIVE_STATUSES$/m,
    ],
    [
      ["migrate"],
      { DATABASE_URL: "postgres://u:pw@127.0.0.1:1/db" },
      /DATABASE_URL: cannot reach the database/,
    ],
  ])("%j exits 2 with one clear line", async (args, env, message) => {
    const r = await runCli(args as string[], env as Record<string, string>);
    expect(r.code).toBe(2);
    noStack(r.stderr);
    expect(r.stderr + r.stdout).toMatch(message);
  });

  it("explains a database without the calls table, and one without the audit table", async () => {
    const noCalls = await runCli(["audit"], { DATABASE_URL: db.url });
    expect(noCalls.code).toBe(2);
    expect(noCalls.stderr).toMatch(/CALLS_TABLE: table calls does not exist/);
    noStack(noCalls.stderr);

    await db.pool.query(
      "CREATE TABLE calls (call_id text, twilio_call_sid text, openai_call_id text, status text, started_at timestamptz, ended_at timestamptz)",
    );
    const noAudit = await runCli(["audit"], { DATABASE_URL: db.url });
    expect(noAudit.code).toBe(2);
    expect(noAudit.stderr).toMatch(/run `call-reconciler migrate` first/);
  });

  it("migrate creates the tables and is idempotent", async () => {
    const other = await freshDatabase();
    try {
      const first = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: other.url });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/applied migrations: 1/);
      const second = await runCli(["migrate"], { DATABASE_URL: other.url });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/up to date/);
      const audit = await runCli(["audit"], { DATABASE_URL: other.url });
      expect(audit.code).toBe(0);
      expect(audit.stdout).toMatch(/checked 0 active calls/);
    } finally {
      await other.drop();
    }
  });
});

/**
 * Most tests run one-shot commands through the bin's `runCommandLine` inside the test's process (cheaper by
 * half a second of CPU each): here the real bin answers the same, to the byte, and exits with its code.
 */
describe("the real bin answers as the command line the tests run in their own process", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    expect((await runCliProcess(["migrate", "--with-calls-table"], { DATABASE_URL: db.url })).code).toBe(0);
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each([
    [["--help"], {}],
    [["--version"], {}],
    [["frobnicate"], {}],
    [["audit", "--aply"], {}],
    [["audit"], { DATABASE_URL: "postgres://x", RECONCILE_INTERVAL_SECONDS: "-5" }],
    [["migrate"], { DATABASE_URL: "postgres://u:pw@127.0.0.1:1/db" }],
    [["audit"], "db"],
    [["audit", "--json"], "db"],
    [["report"], "db"],
  ])("%j", async (args, vars) => {
    const env = vars === "db" ? { DATABASE_URL: db.url } : (vars as Record<string, string>);
    const inProcess = await runCli(args as string[], env);
    const bin = await runCliProcess(args as string[], env);
    expect(bin.signal).toBeNull();
    // A report's times, durations and run id differ from run to run; everything else is the same.
    const steady = (text: string) =>
      text
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>")
        .replace(/\d+(\.\d+)? ?(ms|s)\b/g, "<duration>")
        .replace(/("\w*(Ms|Seconds|[Dd]uration\w*)"): [\d.]+/g, "$1: <duration>");
    expect({ code: bin.code, stdout: steady(bin.stdout), stderr: steady(bin.stderr) }).toEqual({
      code: inProcess.code,
      stdout: steady(inProcess.stdout),
      stderr: steady(inProcess.stderr),
    });
  });
});
