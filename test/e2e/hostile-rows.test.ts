/**
 * Rows of the app's table that hold no time a call can have: a start of `-infinity` (PostgreSQL's timestamptz
 * accepts it, and pg hands it back as a number, not a Date). Through the built CLI and a real database: the
 * row is unverified (`invalid_time`), never ended, not counted against Twilio, and the command exits as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const ACCOUNT = `AC${"6".repeat(32)}`;
const TOKEN = "hostile-rows-token-0123456789";

describe("audit over rows whose start is no time", () => {
  let db: FreshDatabase;
  let sim: TwilioSimulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    env = {
      DATABASE_URL: db.url,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_MAX_RPS: "200",
      LOG_LEVEL: "warn",
    };
    const migrated = await runCli(["migrate", "--with-calls-table"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 3600_000);
    await db.pool.query(
      `INSERT INTO calls (call_id, twilio_call_sid, status, started_at) VALUES
         ('minus-infinity', $1, 'active', '-infinity'), ('control', $2, 'active', $3)`,
      [fakeCallSid("minus-infinity"), fakeCallSid("control"), start],
    );
    for (const id of ["minus-infinity", "control"])
      sim.upsertCall({
        sid: fakeCallSid(id),
        status: "completed",
        startTime: start,
        endTime: new Date(start.getTime() + 60_000),
        duration: "60",
      });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it("audit --apply ends the control zombie only; the -infinity row is unverified invalid_time, untouched", async () => {
    const r = await runCli(["audit", "--apply", "--json"], env);
    expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
    // Some call could not be verified: exit 3.
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as {
      summary: { ended: number; unverified: Record<string, number> };
      calls: { callId: string; reason?: string }[];
    };
    expect(report.summary.ended).toBe(1);
    expect(report.summary.unverified).toEqual({ invalid_time: 1, total: 1 });
    expect(report.calls.find((c) => c.callId === "minus-infinity")?.reason).toBe("invalid_time");
    const { rows } = await db.pool.query<{ status: string; ended_at: Date | null }>(
      "SELECT status, ended_at FROM calls WHERE call_id = 'minus-infinity'",
    );
    expect(rows).toEqual([{ status: "active", ended_at: null }]);
    // The human table prints too.
    const table = await runCli(["audit"], env);
    expect(table.stderr, table.stderr).not.toMatch(/^\s+at /m);
    expect(table.code).toBe(3);
    expect(table.stdout).toContain("minus-infinity");
  });
});
