/**
 * CALLS_COL_DURATION through the built CLI, a real database and the Twilio simulator: `audit --apply` writes
 * Twilio's own duration (or end − start without one, and for the age bound) into a REAL and an INTEGER column,
 * `revert --apply` gives the length back with the status and end time, and a role without UPDATE on the
 * column is stopped at start-up with the GRANT that fixes it.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase, withAdminClient } from "../helpers/db.js";
import { readmeGrants } from "../helpers/markdown.js";

const ACCOUNT = `AC${"7".repeat(32)}`;
const TOKEN = "duration-token-0123456789";
const whole = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
const noStack = (r: CliResult) => expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);

interface Row {
  call_id: string;
  status: string;
  ended_at: Date | null;
  d: string | null;
}

describe("CALLS_COL_DURATION (the built CLI, real PostgreSQL, the Twilio simulator)", () => {
  let db: FreshDatabase;
  let sim: TwilioSimulator;
  let env: Record<string, string>;
  // Twilio's call: answered 7.25 s after the app stamped the row, 3600 s of talk.
  const twilioStart = whole(Date.now() - 3 * 3600_000);
  const rowStart = new Date(twilioStart.getTime() - 7_250);
  const twilioEnd = new Date(twilioStart.getTime() + 3600_000);
  // Past the 24 h age bound, with no SID: ended at started_at + 86,400 s.
  const oldStart = new Date(Date.now() - 30 * 3600_000 - 600);

  const rows = async (table: string) =>
    (
      await db.pool.query<Row>(
        `SELECT call_id, status, ended_at, duration_seconds::text AS d FROM ${table} ORDER BY call_id`,
      )
    ).rows;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    env = {
      DATABASE_URL: db.url,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      CALLS_COL_DURATION: "duration_seconds",
      LOG_LEVEL: "warn",
    };
    const migrated = await runCli(["migrate", "--with-calls-table"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    for (const [table, type] of [
      ["calls_real", "REAL"],
      ["calls_int", "INTEGER"],
    ] as const) {
      // Each table's state in a schema of its own: the daemon's state belongs to one calls table.
      const own = await runCli(["migrate"], stateOf(table));
      expect(own.code, own.stderr).toBe(0);
      await db.pool.query(`CREATE TABLE ${table} (call_id text PRIMARY KEY, twilio_call_sid text,
        openai_call_id text, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz,
        duration_seconds ${type})`);
      for (const [id, sid, start] of [
        ["talked", fakeCallSid(`${table}-talked`), rowStart],
        ["no-duration", fakeCallSid(`${table}-no-duration`), rowStart],
        ["live", fakeCallSid(`${table}-live`), rowStart],
        ["old", null, oldStart],
      ] as const)
        await db.pool.query(
          `INSERT INTO ${table} (call_id, twilio_call_sid, status, started_at) VALUES ($1, $2, 'active', $3)`,
          [id, sid, start],
        );
      sim.upsertCall({
        sid: fakeCallSid(`${table}-talked`),
        status: "completed",
        startTime: twilioStart,
        endTime: twilioEnd,
        duration: "3600",
      });
      sim.upsertCall({
        sid: fakeCallSid(`${table}-no-duration`),
        status: "completed",
        startTime: twilioStart,
        endTime: twilioEnd,
        duration: null,
      });
      sim.upsertCall({
        sid: fakeCallSid(`${table}-live`),
        status: "in-progress",
        startTime: twilioStart,
        endTime: null,
        duration: null,
      });
    }
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  /** The settings for `table`, with its own RECONCILER_SCHEMA. */
  const stateOf = (table: string) => ({ ...env, CALLS_TABLE: table, RECONCILER_SCHEMA: `state_${table}` });

  /** `audit --apply` on `table`; returns its run id. */
  async function applyOn(table: string): Promise<string> {
    const r = await runCli(["audit", "--apply", "--json"], stateOf(table));
    noStack(r);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  }

  let realRun = "";

  it("a REAL column: Twilio's duration, end − start without one, and the age bound's length", async () => {
    realRun = await applyOn("calls_real");
    expect(await rows("calls_real")).toEqual([
      { call_id: "live", status: "active", ended_at: null, d: null },
      { call_id: "no-duration", status: "completed", ended_at: twilioEnd, d: "3607.25" },
      { call_id: "old", status: "timeout", ended_at: new Date(oldStart.getTime() + 86_400_000), d: "86400" },
      { call_id: "talked", status: "completed", ended_at: twilioEnd, d: "3600" },
    ]);
  });

  it("an INTEGER column: the same lengths in whole seconds", async () => {
    await applyOn("calls_int");
    expect((await rows("calls_int")).map((r) => [r.call_id, r.d])).toEqual([
      ["live", null],
      ["no-duration", "3607"],
      ["old", "86400"],
      ["talked", "3600"],
    ]);
  });

  it("revert --apply restores status, end time and length, and leaves a row whose length the app rewrote", async () => {
    // The app's own end-of-call job rewrites one length after the daemon's end.
    await db.pool.query("UPDATE calls_real SET duration_seconds = 3599 WHERE call_id = 'talked'");
    const r = await runCli(["revert", "--run", realRun, "--apply", "--json"], stateOf("calls_real"));
    noStack(r);
    // 3: a call could not be restored (written since).
    expect(r.code, r.stderr).toBe(3);
    expect(await rows("calls_real")).toEqual([
      { call_id: "live", status: "active", ended_at: null, d: null },
      { call_id: "no-duration", status: "active", ended_at: null, d: null },
      { call_id: "old", status: "active", ended_at: null, d: null },
      { call_id: "talked", status: "completed", ended_at: twilioEnd, d: "3599" },
    ]);
  });

  it("a role without UPDATE on the duration column is stopped at start-up, with the GRANT", async () => {
    const role = `dur_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await withAdminClient((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    try {
      await db.pool.query("ALTER TABLE calls ADD COLUMN duration_seconds real");
      // The README's runtime GRANTs (default schema and tables), which name only status and ended_at.
      await db.pool.query(
        readmeGrants()
          .replace(/\breconciler\b/g, role)
          .replace(/call_reconciler\.call_reconciler_/g, "public.call_reconciler_")
          .replace(/SCHEMA call_reconciler/g, "SCHEMA public"),
      );
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const asRole = { ...env, DATABASE_URL: url.toString() };
      const r = await runCli(["audit", "--apply"], asRole);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `the database role ${role} lacks SELECT \\(duration_seconds\\), UPDATE \\(duration_seconds\\) on public\\.calls\\. As the tables' owner, run: GRANT SELECT \\("duration_seconds"\\), UPDATE \\("duration_seconds"\\) ON "public"\\."calls" TO "${role}"$`,
        ),
      );
      await db.pool.query(
        `GRANT SELECT (duration_seconds), UPDATE (duration_seconds) ON public.calls TO ${role}`,
      );
      const granted = await runCli(["audit"], asRole);
      noStack(granted);
      expect(granted.code, granted.stderr).toBe(0);
      const doctor = await runCli(["doctor"], asRole);
      expect(doctor.stdout).toMatch(
        /✓ duration +each end writes the call's length to duration_seconds \(real, to the millisecond\)/,
      );
    } finally {
      await db.pool.query(`DROP OWNED BY ${role}`);
      await withAdminClient((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });
});
