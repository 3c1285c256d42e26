/**
 * `doctor` on an app's existing calls table: the status words the daemon would write against those the
 * table's finished rows carry, and every table problem named in one run.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { APP_MAPPING, APP_TABLE_SQL, seedAppRows } from "../helpers/app-table.js";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

interface Check {
  name: string;
  state: string;
  detail: string;
}

const checksOf = (stdout: string) => (JSON.parse(stdout) as { checks: Check[] }).checks;
const named = (checks: Check[], name: string) => checks.filter((c) => c.name === name);

describe("doctor compares the statuses the daemon writes with the table's finished rows", () => {
  let db: FreshDatabase;
  let env: Record<string, string>;
  beforeEach(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url, OPENAI_PROBE: "off", ...APP_MAPPING };
    await migrate(db.pool, { withCallsTable: false, mapping: loadConfig(env).calls });
    await db.pool.query(APP_TABLE_SQL);
  });
  afterEach(async () => {
    await db.drop();
  });

  const doctor = async (extra: Record<string, string> = {}) => {
    const r = await runCli(["doctor", "--json"], { ...env, ...extra });
    expect(r.stderr).toBe("");
    return checksOf(r.stdout);
  };

  it("a CHECK on the status that PostgreSQL cannot answer for alone is a warning naming it and why", async () => {
    await db.pool.query(`ALTER TABLE calls ADD CONSTRAINT paired CHECK ((status = 'active') = (ended_at IS NULL)),
      ADD CONSTRAINT known CHECK (status <> 'unknown')`);
    expect(named(await doctor(), "status values")).toEqual([
      {
        name: "status values",
        state: "warn",
        detail: expect.stringMatching(
          /^could not read CHECK paired \(it also reads ended_at\): make sure it accepts completed→completed, /,
        ),
      },
    ]);
  });

  it("rows that say cancelled, where the daemon writes canceled: a warning with the STATUS_MAP entry to add", async () => {
    await seedAppRows(db.pool, ["active", "completed", "cancelled", "failed", "No_Answer"]);
    const words = named(await doctor(), "status words");
    expect(words.map((c) => c.state)).toEqual(["warn", "warn"]);
    // Each names its status; the setting shown has every fix, so that applying one does not undo another.
    expect(words[0]?.detail).toMatch(
      /would write no-answer, .* but "No_Answer" does: set STATUS_MAP=no-answer:No_Answer,canceled:cancelled$/,
    );
    expect(words[1]?.detail).toMatch(
      /^the daemon would write canceled, which no finished row of calls carries, but "cancelled" does: set STATUS_MAP=no-answer:No_Answer,canceled:cancelled$/,
    );

    // With one entry already set, the setting shown keeps it.
    const partly = named(await doctor({ STATUS_MAP: "no-answer:No_Answer" }), "status words");
    expect(partly.map((c) => c.detail)).toEqual([
      expect.stringMatching(
        /would write canceled, .* but "cancelled" does: set STATUS_MAP=no-answer:No_Answer,canceled:cancelled$/,
      ),
    ]);
    // A single fix is the one entry to add.
    await db.pool.query("DELETE FROM calls WHERE status = 'No_Answer'");
    expect(named(await doctor(), "status words").map((c) => c.detail)).toEqual([
      expect.stringMatching(/but "cancelled" does: set STATUS_MAP=canceled:cancelled$/),
    ]);
  });

  it("a STATUS_MAP target that no finished row carries is a warning; right, the check passes", async () => {
    await seedAppRows(db.pool, ["active", "completed", "cancelled", "failed", "no-answer"]);
    const wrong = named(await doctor({ STATUS_MAP: "canceled:cancelled,busy:declined" }), "status words");
    expect(wrong).toEqual([
      {
        name: "status words",
        state: "warn",
        detail: expect.stringMatching(
          /^STATUS_MAP maps busy to declined, which no finished row of calls carries \(they carry "cancelled", "completed", "failed", "no-answer"\)/,
        ),
      },
    ]);

    const right = await doctor({ STATUS_MAP: "canceled:cancelled,busy:failed" });
    expect(named(right, "status words")).toEqual([
      expect.objectContaining({
        state: "pass",
        detail: expect.stringMatching(/finished rows of calls carry/),
      }),
    ]);
    // What remains is the app's table's own: no listing index, and no provider configured here.
    expect(right.filter((c) => c.state !== "pass").map((c) => c.name)).toEqual([
      "listing index",
      "twilio",
      "openai",
    ]);
  });

  it("an empty table: nothing to compare, said as such", async () => {
    const words = named(await doctor(), "status words");
    expect(words).toEqual([
      expect.objectContaining({
        state: "pass",
        detail: expect.stringMatching(/no finished rows .*nothing to compare/),
      }),
    ]);
  });
});

describe("doctor names every table problem in one run", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("missing columns, a naive end column, statuses the CHECK refuses and unmigrated daemon tables, each with its fix", async () => {
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, status text NOT NULL
        CHECK (status IN ('active', 'completed', 'cancelled', 'failed', 'timeout')),
      started_at timestamptz NOT NULL, ended_at timestamp)`);
    const r = await runCli(["doctor", "--json"], { DATABASE_URL: db.url, OPENAI_PROBE: "off" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(2);
    const checks = checksOf(r.stdout);
    const failures = checks.filter((c) => c.state === "fail").map((c) => `${c.name}: ${c.detail}`);
    expect(failures).toEqual([
      expect.stringMatching(/^tables: CALLS_COL_TWILIO_SID: table calls has no column "twilio_call_sid"; /),
      expect.stringMatching(/^tables: CALLS_COL_OPENAI_ID: table calls has no column "openai_call_id"; /),
      expect.stringMatching(
        /^tables: the daemon's tables .* are missing or outdated in schema public .*: run `call-reconciler migrate` first$/,
      ),
      expect.stringMatching(
        /^tables: CALLS_COL_ENDED_AT \(calls\.ended_at\): timestamp without time zone holds no time zone; set CALLS_TIME_ZONE/,
      ),
      expect.stringMatching(
        /^status values: the status column calls\.status \(CHECK constraint calls_status_check\) does not accept busy, no-answer, canceled, .*STATUS_MAP=busy:<value>/,
      ),
    ]);

    // The text report: one line per problem, each marked failed.
    const text = await runCli(["doctor"], { DATABASE_URL: db.url, OPENAI_PROBE: "off" });
    expect(text.stdout.split("\n").filter((l) => l.startsWith("✗ "))).toHaveLength(5);
  });

  it("a start and an end column that are no times are both named in the one run", async () => {
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
      status text NOT NULL, started_at date NOT NULL, ended_at date)`);
    const r = await runCli(["doctor", "--json"], { DATABASE_URL: db.url, OPENAI_PROBE: "off" });
    expect(r.code).toBe(2);
    const failures = checksOf(r.stdout)
      .filter((c) => c.state === "fail")
      .map((c) => c.detail);
    expect(failures.join("\n")).toMatch(
      /CALLS_COL_STARTED_AT \(calls\.started_at\) is date, not a timestamp/,
    );
    expect(failures.join("\n")).toMatch(/CALLS_COL_ENDED_AT \(calls\.ended_at\) is date, not a timestamp/);
  });
});
