/**
 * CALLS_COL_DURATION on real PostgreSQL: written in the end's own conditional UPDATE, as the column's type
 * takes it, kept in the audit row, restored by revert only while the row is as the end left it, and refused
 * at start-up on a column that holds no number.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { RevertStore } from "../../src/db/revert.js";
import { PgCallStore } from "../../src/db/store.js";
import type { EndRequest } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const STARTED = new Date("2026-11-25T10:00:00Z");
const ENDED = new Date("2026-11-25T11:00:07.25Z");

const endOf = (id: string, runId: string, durationSeconds = 3607.25): EndRequest => ({
  call: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt: STARTED },
  newStatus: "completed",
  endedAt: ENDED,
  durationSeconds,
  source: "twilio",
  runId,
  evidence: { twilio: "completed" },
  decidedAt: ENDED,
});

/** A calls table whose length column is `type`; `env` adds to the mapping (CALLS_COL_DURATION by default). */
async function setUp(db: FreshDatabase, type: string, env: Record<string, string> = {}) {
  const config: Config = loadConfig({
    CALLS_TABLE: "calls_d",
    CALLS_COL_DURATION: "duration_seconds",
    ...env,
  });
  await migrate(db.pool, { withCallsTable: false, mapping: config.calls });
  await db.pool.query(`CREATE TABLE calls_d (call_id text PRIMARY KEY, twilio_call_sid text,
    openai_call_id text, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz,
    duration_seconds ${type})`);
  for (const id of ["a", "b", "c"])
    await db.pool.query("INSERT INTO calls_d (call_id, status, started_at) VALUES ($1, 'active', $2)", [
      id,
      STARTED,
    ]);
  return { config, calls: new PgCallStore(db.pool, config.calls, ["active"]) };
}

const rowsOf = async (db: FreshDatabase) =>
  (
    await db.pool.query<{ call_id: string; status: string; ended_at: Date | null; d: string | null }>(
      "SELECT call_id, status, ended_at, duration_seconds::text AS d FROM calls_d ORDER BY call_id",
    )
  ).rows;

const auditOf = async (db: FreshDatabase, callId: string) =>
  (
    await db.pool.query<{ outcome: string; duration_seconds: number | null; previous: number | null }>(
      `SELECT outcome, duration_seconds, previous_duration_seconds AS previous FROM call_reconciler_actions
       WHERE call_id = $1 ORDER BY id`,
      [callId],
    )
  ).rows;

describe("CALLS_COL_DURATION (real PostgreSQL)", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("a real column gets the length to the millisecond, with the status and end time, and the audit keeps it", async () => {
    const { calls } = await setUp(db, "real");
    await calls.schema.verify();
    const { ended } = await calls.endCalls([endOf("a", randomUUID())]);
    expect(ended).toEqual(new Set(["a"]));
    expect((await rowsOf(db))[0]).toEqual({
      call_id: "a",
      status: "completed",
      ended_at: ENDED,
      d: "3607.25",
    });
    expect(await auditOf(db, "a")).toEqual([{ outcome: "ended", duration_seconds: 3607.25, previous: null }]);
  });

  it("an integer column, through a domain, gets whole seconds, rounded", async () => {
    await db.pool.query("CREATE DOMAIN seconds AS integer CHECK (VALUE >= 0)");
    const { calls } = await setUp(db, "seconds");
    await calls.schema.verify();
    await calls.endCalls([endOf("a", randomUUID(), 3607.5), endOf("b", randomUUID(), 0.4)]);
    const [a, b] = await rowsOf(db);
    expect([a?.d, b?.d]).toEqual(["3608", "0"]);
    expect(await auditOf(db, "a")).toEqual([{ outcome: "ended", duration_seconds: 3608, previous: null }]);
  });

  it("a row the app ended meanwhile is left as it is, its length too", async () => {
    const { calls } = await setUp(db, "double precision");
    await calls.schema.verify();
    await db.pool.query(
      "UPDATE calls_d SET status = 'completed', ended_at = $1, duration_seconds = 42 WHERE call_id = 'a'",
      [new Date("2026-11-25T10:00:42Z")],
    );
    expect(await calls.endCall(endOf("a", randomUUID()))).toBe("not_active");
    expect((await rowsOf(db))[0]).toEqual({
      call_id: "a",
      status: "completed",
      ended_at: new Date("2026-11-25T10:00:42Z"),
      d: "42",
    });
    expect(await auditOf(db, "a")).toEqual([]);
  });

  it("revert restores status, end time and length, and leaves a row whose length the app rewrote", async () => {
    const { config, calls } = await setUp(db, "numeric");
    await calls.schema.verify();
    // A length the app wrote before the call ended (a running counter): the revert must give it back.
    await db.pool.query("UPDATE calls_d SET duration_seconds = 12.5 WHERE call_id = 'b'");
    const runId = randomUUID();
    const { ended } = await calls.endCalls(["a", "b", "c"].map((id) => endOf(id, runId)));
    expect(ended.size).toBe(3);
    expect(await auditOf(db, "b")).toEqual([{ outcome: "ended", duration_seconds: 3607.25, previous: 12.5 }]);
    // The app corrects c's length afterwards, and nothing else: c is no longer as the end left it.
    await db.pool.query("UPDATE calls_d SET duration_seconds = 3600 WHERE call_id = 'c'");

    const revert = new RevertStore(db.pool, config.calls);
    const ends = await revert.runEnds(runId, "0", 10);
    expect(ends.map((e) => [e.callId, e.durationSeconds, e.previousDurationSeconds])).toEqual([
      ["a", 3607.25, null],
      ["b", 3607.25, 12.5],
      ["c", 3607.25, null],
    ]);
    const before = await revert.states(ends);
    expect([...before.values()].map((s) => s.asWritten)).toEqual([true, true, false]);
    const { restored } = await revert.restore(ends, randomUUID(), "tester@host");
    expect(restored.size).toBe(2);
    expect(await rowsOf(db)).toEqual([
      { call_id: "a", status: "active", ended_at: null, d: null },
      { call_id: "b", status: "active", ended_at: null, d: "12.5" },
      { call_id: "c", status: "completed", ended_at: ENDED, d: "3600" },
    ]);
    expect(await auditOf(db, "b")).toEqual([
      { outcome: "ended", duration_seconds: 3607.25, previous: 12.5 },
      { outcome: "reverted", duration_seconds: 12.5, previous: 3607.25 },
    ]);
  });

  it("an end written without the setting is reverted without touching the column", async () => {
    const { calls } = await setUp(db, "integer", { CALLS_COL_DURATION: "" });
    await calls.schema.verify();
    await db.pool.query("UPDATE calls_d SET duration_seconds = 7 WHERE call_id = 'a'");
    const runId = randomUUID();
    await calls.endCalls([endOf("a", runId)]);
    expect((await rowsOf(db))[0]).toMatchObject({ status: "completed", d: "7" });
    expect(await auditOf(db, "a")).toEqual([{ outcome: "ended", duration_seconds: null, previous: null }]);
    // Set later: revert has no length of that end to compare or restore, and leaves the column alone.
    const mapped = loadConfig({ CALLS_TABLE: "calls_d", CALLS_COL_DURATION: "duration_seconds" });
    const revert = new RevertStore(db.pool, mapped.calls);
    const ends = await revert.runEnds(runId, "0", 10);
    await db.pool.query("UPDATE calls_d SET duration_seconds = 9 WHERE call_id = 'a'");
    const { restored } = await revert.restore(ends, randomUUID(), "tester@host");
    expect(restored.size).toBe(1);
    expect((await rowsOf(db))[0]).toEqual({ call_id: "a", status: "active", ended_at: null, d: "9" });
  });

  it("a column that holds no number is refused at start-up, in one line naming the setting", async () => {
    for (const type of ["text", "interval"]) {
      await db.pool.query("DROP TABLE IF EXISTS calls_d");
      const { calls } = await setUp(db, type);
      const error = await calls.schema.verify().then(
        () => null,
        (err: unknown) => err as Error,
      );
      expect(error?.name).toBe("SchemaMismatchError");
      expect(error?.message).toBe(
        `CALLS_COL_DURATION (calls_d.duration_seconds) is ${type}, not a number of seconds: map a smallint, integer, bigint, real, double precision, numeric column, or unset CALLS_COL_DURATION`,
      );
      expect(error?.message).not.toMatch(/\n/);
    }
    expect((await rowsOf(db)).map((r) => r.status)).toEqual(["active", "active", "active"]);
  });
});
