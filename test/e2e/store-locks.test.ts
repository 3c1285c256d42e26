import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { createPool } from "../../src/db/pool.js";
import { PgCallStore } from "../../src/db/store.js";
import { readActions, readCalls } from "../../src/dev/seed.js";
import { type EndRequest, RowLockedError } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const DEFAULT = loadConfig({}).calls;
const STARTED = new Date("2026-11-01T00:00:00Z");

function request(id: string, runId: string, i = 0): EndRequest {
  return {
    call: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt: STARTED },
    newStatus: "completed",
    endedAt: new Date(STARTED.getTime() + 60_000 + i * 1_000),
    durationSeconds: 60 + i,
    source: "twilio",
    runId,
    evidence: { i },
    decidedAt: new Date(),
  };
}

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);

/** An app transaction on its own connection, holding whatever its statements lock until it ends. */
async function appTransaction(pool: pg.Pool, ...statements: [string, unknown[]][]) {
  const client = await pool.connect();
  await client.query("BEGIN");
  for (const [sql, params] of statements) await client.query(sql, params);
  const end = async (how: "COMMIT" | "ROLLBACK") => {
    try {
      await client.query(how);
    } finally {
      client.release();
    }
  };
  return { commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
}

describe("ends never wait on the app's locks", () => {
  let db: FreshDatabase;
  let pool: pg.Pool;
  let store: PgCallStore;

  async function seed(callIds: readonly string[]): Promise<void> {
    await db.pool.query(
      "INSERT INTO calls (call_id, status, started_at) SELECT unnest($1::text[]), 'active', $2",
      [callIds, STARTED],
    );
  }

  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT });
    // The daemon's own pool, with a short lock_timeout so that a lock it must wait for fails fast here.
    pool = createPool(db.url, { lockTimeoutMs: 300 });
    store = new PgCallStore(pool, DEFAULT, ["active"]);
    await store.schema.verify();
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("one row of 12 locked by the app: 11 end at once, that one is reported locked, and ends once released", async () => {
    const callIds = ids("lk", 12);
    await seed(callIds);
    const held = "lk-05";
    const app = await appTransaction(db.pool, ["SELECT * FROM calls WHERE call_id = $1 FOR UPDATE", [held]]);
    const runId = randomUUID();
    try {
      const t = performance.now();
      const result = await store.endCalls(callIds.map((id, i) => request(id, runId, i)));
      const ms = performance.now() - t;
      expect(ms).toBeLessThan(1_000);
      expect(result.ended).toEqual(new Set(callIds.filter((id) => id !== held)));
      expect(result.locked).toEqual(new Set([held]));
      // Nothing was written for the locked row: no audit row, and (seen after the app lets go) still active.
      const actions = (await readActions(db.pool, DEFAULT)).filter((a) => a.runId === runId);
      expect(actions.map((a) => a.callId).sort()).toEqual(callIds.filter((id) => id !== held));
      // endCall says the same about it, without waiting either.
      expect(await store.endCall(request(held, runId, 5))).toBe("locked");
    } finally {
      await app.rollback();
    }
    expect(await readCalls(db.pool, DEFAULT, [held])).toMatchObject([{ status: "active", endedAt: null }]);
    const next = randomUUID();
    expect(await store.endCalls([request(held, next, 5)])).toEqual({
      ended: new Set([held]),
      locked: new Set(),
    });
    expect(await readCalls(db.pool, DEFAULT, [held])).toMatchObject([
      { status: "completed", endedAt: request(held, next, 5).endedAt },
    ]);
  });

  it("a row the app locks and then commits unchanged ends on the next try; one the app ended is left alone", async () => {
    await seed(["keep-app", "end-app"]);
    const app = await appTransaction(
      db.pool,
      ["SELECT * FROM calls WHERE call_id = ANY($1) FOR UPDATE", [["keep-app", "end-app"]]],
      ["UPDATE calls SET status = 'completed', ended_at = $2 WHERE call_id = $1", ["end-app", STARTED]],
    );
    const runId = randomUUID();
    const reqs = [request("keep-app", runId, 0), request("end-app", runId, 1)];
    try {
      // Until the app commits, its uncommitted end is invisible: both rows look active and locked.
      expect(await store.endCalls(reqs)).toEqual({
        ended: new Set(),
        locked: new Set(["keep-app", "end-app"]),
      });
    } catch (err) {
      await app.rollback();
      throw err;
    }
    await app.commit();
    expect(await store.endCalls(reqs)).toEqual({ ended: new Set(["keep-app"]), locked: new Set() });
    expect(await readCalls(db.pool, DEFAULT, ["end-app", "keep-app"])).toMatchObject([
      { id: "end-app", status: "completed", endedAt: STARTED },
      { id: "keep-app", status: "completed", endedAt: reqs[0]?.endedAt },
    ]);
  });

  it("a row only referenced by the app's open insert (KEY SHARE) is not in the way", async () => {
    await seed(["parent"]);
    await db.pool.query(
      "CREATE TABLE transcripts (id serial PRIMARY KEY, call_id text NOT NULL REFERENCES calls (call_id))",
    );
    const app = await appTransaction(db.pool, ["INSERT INTO transcripts (call_id) VALUES ($1)", ["parent"]]);
    try {
      expect(await store.endCall(request("parent", randomUUID()))).toBe("ended");
    } finally {
      await app.commit();
    }
  });

  it("a lock the end must wait for (the app holds the table) fails after lock_timeout as RowLockedError", async () => {
    await seed(["tbl"]);
    const app = await appTransaction(db.pool, ["LOCK TABLE calls IN ACCESS EXCLUSIVE MODE", []]);
    try {
      const t = performance.now();
      const err = await store.endCalls([request("tbl", randomUUID())]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RowLockedError);
      expect((err as RowLockedError).code).toBe("55P03");
      expect(performance.now() - t).toBeLessThan(3_000);
    } finally {
      await app.rollback();
    }
    // The pool's connection came back clean: the same end now goes through.
    expect(await store.endCall(request("tbl", randomUUID()))).toBe("ended");
  });
});
