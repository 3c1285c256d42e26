import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../src/config/config.js";
import { HoldStore } from "../../src/db/holds.js";
import { migrate } from "../../src/db/migrate.js";
import { RevertStore } from "../../src/db/revert.js";
import { PgCallStore } from "../../src/db/store.js";
import type { ActiveCall, EndRequest } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const STARTED = new Date("2026-11-25T10:00:00Z");
const ENDED = new Date("2026-11-25T10:01:30.123Z");

const active = (id: string): ActiveCall => ({
  id,
  twilioSid: null,
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: STARTED,
});
const endOf = (id: string, runId: string): EndRequest => ({
  call: active(id),
  newStatus: "completed",
  endedAt: ENDED,
  durationSeconds: (ENDED.getTime() - STARTED.getTime()) / 1000,
  source: "twilio",
  runId,
  evidence: { twilio: "completed" },
  decidedAt: STARTED,
});

/** A calls table the app defined its own way: `ddl` creates it (named calls_x), `env` maps it. */
async function setUp(db: FreshDatabase, ddl: string, env: Record<string, string> = {}) {
  const config: Config = loadConfig({ CALLS_TABLE: "calls_x", ...env });
  await migrate(db.pool, { withCallsTable: false, mapping: config.calls });
  await db.pool.query(ddl);
  const calls = new PgCallStore(db.pool, config.calls, ["active"]);
  await calls.schema.verify();
  return {
    config,
    calls,
    revert: new RevertStore(db.pool, config.calls),
    holds: new HoldStore(db.pool, config.calls),
  };
}

async function seed(db: FreshDatabase, ids: string[]): Promise<void> {
  for (const id of ids)
    await db.pool.query("INSERT INTO calls_x (call_id, status, started_at) VALUES ($1, 'active', $2)", [
      id,
      STARTED,
    ]);
}

describe("RevertStore and holds on real PostgreSQL", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("bigint ids and an enum status: restores what is as written, skips a locked row, leaves a changed one", async () => {
    await db.pool.query(
      "CREATE TYPE call_state AS ENUM ('active', 'completed', 'busy', 'no-answer', 'canceled', 'failed', 'timeout')",
    );
    const { calls, revert, holds } = await setUp(
      db,
      `CREATE TABLE calls_x (call_id bigint PRIMARY KEY, twilio_call_sid text, openai_call_id text,
        status call_state NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`,
    );
    await seed(db, ["1", "2", "3", "4"]);
    const runId = randomUUID();
    const { ended } = await calls.endCalls(["1", "2", "3", "4"].map((id) => endOf(id, runId)));
    expect(ended.size).toBe(4);

    const ends = await revert.runEnds(runId, "0", 10);
    expect(ends.map((e) => [e.callId, e.newStatus, e.previousStatus, e.endedAt])).toEqual(
      ["1", "2", "3", "4"].map((id) => [id, "completed", "active", ENDED]),
    );
    // Keyset pages.
    expect((await revert.runEnds(runId, ends[1]?.auditId ?? "", 10)).map((e) => e.callId)).toEqual([
      "3",
      "4",
    ]);
    expect(await revert.runOutcomes(runId)).toEqual({ ended: 4 });

    // The app changes 2 and holds 3 locked.
    await db.pool.query("UPDATE calls_x SET status = 'busy' WHERE call_id = 2");
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query("BEGIN");
    await app.query("SELECT 1 FROM calls_x WHERE call_id = 3 FOR UPDATE");
    const revertRun = randomUUID();
    try {
      const { restored, states } = await revert.restore(ends, revertRun, "tester@host");
      const byCall = (id: string) => ends.find((e) => e.callId === id)?.auditId ?? "";
      expect([...restored].sort()).toEqual([byCall("1"), byCall("4")].sort());
      expect(states.get(byCall("2"))).toMatchObject({ present: true, status: "busy", asWritten: false });
      expect(states.get(byCall("3"))).toMatchObject({ present: true, status: "completed", asWritten: true });
      expect(states.get(byCall("1"))).toMatchObject({
        status: "active",
        endedAt: null,
        revertedBy: revertRun,
      });
    } finally {
      await app.query("ROLLBACK");
      await app.end();
    }
    expect(await calls.heldAmong(["1", "2", "3", "4", "5"])).toEqual(new Set(["1", "4"]));

    // Once the lock is gone, 3 is restored; 1 and 4 are not restored twice.
    const again = await revert.restore(await revert.runEnds(runId, "0", 10), randomUUID(), "tester@host");
    expect(again.restored.size).toBe(1);
    const { rows } = await db.pool.query(
      "SELECT call_id::text, status::text, ended_at FROM calls_x ORDER BY call_id",
    );
    expect(rows).toEqual([
      { call_id: "1", status: "active", ended_at: null },
      { call_id: "2", status: "busy", ended_at: ENDED },
      { call_id: "3", status: "active", ended_at: null },
      { call_id: "4", status: "active", ended_at: null },
    ]);
    expect(await revert.runOutcomes(revertRun)).toEqual({ reverted: 2 });
    const last = await revert.lastEndOf("3");
    expect(last?.revertedBy).not.toBeNull();

    // Ids as typed: read as the column's type.
    expect(await holds.callById("0003")).toEqual({ callId: "3", status: "active", endedAt: null });
    expect(await holds.callById("abc")).toBeNull();
    expect(await holds.callById("99")).toBeNull();
    const hold = await holds.hold("2", { reason: "why not", heldBy: "hold:tester" });
    expect(hold).toMatchObject({ made: true, hold: { callId: "2", reason: "why not", runId: null } });
    expect((await holds.hold("2", { reason: null, heldBy: "hold:other" })).made).toBe(false);
    expect(await holds.release("2", "release:tester")).toMatchObject({ callId: "2" });
    expect(await holds.release("2", "release:tester")).toBeNull();
    expect(await calls.heldAmong(["2"])).toEqual(new Set());
  });

  it("a naive ended_at column is compared in CALLS_TIME_ZONE, as the end wrote it", async () => {
    const { calls, revert } = await setUp(
      db,
      `CREATE TABLE calls_x (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
        status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamp without time zone)`,
      { CALLS_TIME_ZONE: "Asia/Kolkata" },
    );
    await seed(db, ["n-1"]);
    const runId = randomUUID();
    await calls.endCalls([endOf("n-1", runId)]);
    const wall = await db.pool.query("SELECT ended_at::text AS t FROM calls_x");
    expect(wall.rows[0]?.t).toBe("2026-11-25 15:31:30.123");

    const ends = await revert.runEnds(runId, "0", 10);
    expect((await revert.states(ends)).get(ends[0]?.auditId ?? "")).toMatchObject({ asWritten: true });
    const { restored } = await revert.restore(ends, randomUUID(), "tester@host");
    expect(restored.size).toBe(1);
    const row = await db.pool.query("SELECT status, ended_at FROM calls_x");
    expect(row.rows[0]).toEqual({ status: "active", ended_at: null });
  });

  it("an end records the row's previous end time, and revert restores exactly that (NULL when NULL)", async () => {
    const { config, calls, revert } = await setUp(
      db,
      `CREATE TABLE calls_x (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
        status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamp without time zone)`,
      { CALLS_TIME_ZONE: "Asia/Kolkata" },
    );
    await seed(db, ["p-1", "p-2"]);
    const runId = randomUUID();
    expect((await calls.endCalls([endOf("p-1", runId), endOf("p-2", runId)])).ended.size).toBe(2);
    const actions = `${config.calls.daemonSchema}.call_reconciler_actions`;
    const recorded = await db.pool.query(
      `SELECT call_id, previous_ended_at FROM ${actions} WHERE run_id = $1 ORDER BY call_id`,
      [runId],
    );
    expect(recorded.rows).toEqual([
      { call_id: "p-1", previous_ended_at: null },
      { call_id: "p-2", previous_ended_at: null },
    ]);
    // An end recorded over an earlier end time (as a row a writer had ended without changing its status).
    const earlier = new Date("2026-11-25T10:00:45.678Z");
    await db.pool.query(
      `UPDATE ${actions} SET previous_ended_at = $2 WHERE run_id = $1 AND call_id = 'p-2'`,
      [runId, earlier],
    );

    const ends = await revert.runEnds(runId, "0", 10);
    expect(ends.map((e) => [e.callId, e.previousEndedAt])).toEqual([
      ["p-1", null],
      ["p-2", earlier],
    ]);
    const revertRun = randomUUID();
    expect((await revert.restore(ends, revertRun, "tester@host")).restored.size).toBe(2);
    const rows = await db.pool.query(
      "SELECT call_id, status, ended_at::text AS wall FROM calls_x ORDER BY call_id",
    );
    expect(rows.rows).toEqual([
      { call_id: "p-1", status: "active", wall: null },
      // Written back in CALLS_TIME_ZONE, as the column held it.
      { call_id: "p-2", status: "active", wall: "2026-11-25 15:30:45.678" },
    ]);
    // The revert's own audit row keeps the end time it removed.
    const reverted = await db.pool.query(
      `SELECT call_id, previous_ended_at FROM ${actions} WHERE run_id = $1 ORDER BY call_id`,
      [revertRun],
    );
    expect(reverted.rows).toEqual([
      { call_id: "p-1", previous_ended_at: ENDED },
      { call_id: "p-2", previous_ended_at: ENDED },
    ]);
  });
});
