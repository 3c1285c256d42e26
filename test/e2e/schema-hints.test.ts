/**
 * A wrong table or column name is named with what the database has instead; a status column holding no
 * active status is warned about. Names are double-quoted by the daemon, so case is the usual culprit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { statusColumnWarning } from "../../src/db/schema-hints.js";
import { runCli, startCli, watchOutput } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const TABLE =
  'CREATE TABLE telephony."PhoneCalls" (call_id text PRIMARY KEY, "twilioSid" text, openai_call_id text, status text, realtime_id text, started_at timestamptz, ended_at timestamptz)';
const ENV = { CALLS_TABLE: "telephony.PhoneCalls", CALLS_COL_TWILIO_SID: "twilioSid" };

describe("schema mistakes are named with the fix", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.pool.query("CREATE SCHEMA telephony");
    await db.pool.query(TABLE);
    await migrate(db.pool, { withCallsTable: false, mapping: loadConfig(ENV).calls });
  });
  afterAll(async () => {
    await db.drop();
  });

  const audit = (env: Record<string, string>) => runCli(["audit"], { DATABASE_URL: db.url, ...env });

  it("the mapping as the table has it is accepted", async () => {
    const r = await audit(ENV);
    // No error line (the plain warning that Twilio is not configured is not one).
    expect(r.stderr).not.toMatch(/call-reconciler: (?!warning: Twilio is not configured)/);
    expect(r.code).toBe(0);
  });

  it("CALLS_COL_TWILIO_SID=twiliosid: names the variable, the column and the closest column", async () => {
    const r = await audit({ ...ENV, CALLS_COL_TWILIO_SID: "twiliosid" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'call-reconciler: CALLS_COL_TWILIO_SID: table telephony.PhoneCalls has no column "twiliosid"; did you mean CALLS_COL_TWILIO_SID=twilioSid? (names are case-sensitive: "twilioSid" is not "twiliosid")',
    );
  });

  it("a column with no near name lists the table's columns", async () => {
    const r = await audit({ ...ENV, CALLS_COL_ENDED_AT: "finished_when" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /call-reconciler: CALLS_COL_ENDED_AT: table telephony\.PhoneCalls has no column "finished_when"; its columns are call_id, twilioSid, openai_call_id, status, realtime_id, started_at, ended_at/,
    );
  });

  it("CALLS_TABLE=telephony.phonecalls: names the table that matches up to case", async () => {
    const r = await audit({ ...ENV, CALLS_TABLE: "telephony.phonecalls" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "call-reconciler: CALLS_TABLE: table telephony.phonecalls does not exist; names are case-sensitive and used exactly as written: did you mean CALLS_TABLE=telephony.PhoneCalls?",
    );
  });

  it("CALLS_COL_STATUS naming a column without any active status: a warning with the values it holds", async () => {
    await db.pool.query(
      `INSERT INTO telephony."PhoneCalls" (call_id, status, realtime_id, started_at)
       SELECT 'c' || i, CASE WHEN i = 1 THEN 'active' ELSE 'completed' END, 'rtc_' || (i % 3), now()
       FROM generate_series(1, 1500) AS i ORDER BY i DESC`,
    );
    const wrong = loadConfig({ ...ENV, CALLS_COL_STATUS: "realtime_id" }).calls;
    expect(await statusColumnWarning(db.pool, wrong, ["active"])).toBe(
      'CALLS_COL_STATUS=realtime_id holds none of ACTIVE_STATUSES (active) in any row of telephony.PhoneCalls; it holds "rtc_0", "rtc_1", "rtc_2": check CALLS_COL_STATUS and ACTIVE_STATUSES',
    );
    // The one active row is past the first 1000 read: still no false alarm.
    expect(await statusColumnWarning(db.pool, loadConfig(ENV).calls, ["active"])).toBeNull();
    expect(await statusColumnWarning(db.pool, loadConfig(ENV).calls, ["ringing"])).toMatch(
      /^CALLS_COL_STATUS=status holds none of ACTIVE_STATUSES \(ringing\) .*it holds "completed":/,
    );

    const { child, done } = startCli(["run"], {
      DATABASE_URL: db.url,
      ...ENV,
      CALLS_COL_STATUS: "realtime_id",
      DRY_RUN: "true",
    });
    const out = watchOutput(child);
    await until("the start-up warning", () => out.stderr().includes("holds none of ACTIVE_STATUSES"));
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(0);
    const line = r.stderr.split("\n").find((l) => l.includes("holds none of ACTIVE_STATUSES")) ?? "";
    expect(JSON.parse(line)).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/^CALLS_COL_STATUS=realtime_id /),
    });
  });
});
