import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallsTableMapping } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { daemonTables, migrations } from "../../src/db/sql.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import { readActions, readCalls, seedCalls } from "../../src/dev/seed.js";
import type { ActiveCall, PageCursor } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const DEFAULT = loadConfig({}).calls;

async function listAll(store: PgCallStore, cutoff: Date, pageSize: number): Promise<ActiveCall[]> {
  const all: ActiveCall[] = [];
  let cursor: PageCursor | null = null;
  let pages = 0;
  do {
    const page = await store.listActivePage(cursor, cutoff, pageSize);
    all.push(...page.rows);
    cursor = page.next;
    if (++pages > 1000) throw new Error("paging does not terminate");
  } while (cursor !== null);
  return all;
}

describe("PgCallStore on the default schema", () => {
  let db: FreshDatabase;
  let store: PgCallStore;
  beforeAll(async () => {
    db = await freshDatabase();
    expect(await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT })).toMatchObject({
      applied: migrations(daemonTables()).map((m) => m.version),
    });
    // Running it again is a no-op.
    expect(await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT })).toMatchObject({ applied: [] });
    store = new PgCallStore(db.pool, DEFAULT, ["active", "ringing"]);
    await store.schema.verify();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("pages through ties and microsecond timestamps without repeating or skipping a row", async () => {
    // 23 rows share one started_at to the microsecond: a Date cursor (milliseconds) would loop or skip.
    for (let i = 0; i < 23; i++) {
      await db.pool.query(
        "INSERT INTO calls (call_id, status, started_at) VALUES ($1, 'active', '2026-11-25 10:00:00.123456+00')",
        [`tie-${String(i).padStart(2, "0")}`],
      );
    }
    await db.pool.query(
      "INSERT INTO calls (call_id, status, started_at) VALUES ('early', 'ringing', '2026-11-25 09:00:00.000001+00'), ('late', 'active', '2026-11-25 10:00:00.123457+00'), ('done', 'completed', '2026-11-25 08:00:00+00'), ('young', 'active', '2026-11-25 11:00:00+00')",
    );
    const cutoff = new Date("2026-11-25T10:30:00Z");
    for (const pageSize of [1, 4, 23, 24, 500]) {
      const ids = (await listAll(store, cutoff, pageSize)).map((r) => r.id);
      expect(ids, `page size ${pageSize}`).toEqual([
        "early",
        ...Array.from({ length: 23 }, (_, i) => `tie-${String(i).padStart(2, "0")}`),
        "late",
      ]);
    }
  });

  it("each page says which of its rows are held, read by the page's own statement", async () => {
    await db.pool.query(
      `INSERT INTO calls (call_id, status, started_at) VALUES
        ('h-1', 'active', '2026-10-01 10:00:00+00'), ('h-2', 'active', '2026-10-01 10:00:01+00'),
        ('h-3', 'active', '2026-10-01 10:00:02+00'), ('h-4', 'active', '2026-10-01 10:00:03+00')`,
    );
    const own = daemonTables();
    // h-2 held now; h-3 held once and released (history, not a hold); h-4 held by a revert.
    await db.pool.query(
      `INSERT INTO ${own.holds} (call_id, reason, held_by, run_id, released_at) VALUES
        ('h-2', 'by hand', 'hold:tester', NULL, NULL), ('h-3', NULL, 'hold:tester', NULL, now()),
        ('h-4', NULL, 'revert:tester', gen_random_uuid(), NULL)`,
    );
    const cutoff = new Date("2026-10-01T10:30:00Z");
    const first = await store.listActivePage(null, cutoff, 2);
    expect(first.rows.map((r) => r.id)).toEqual(["h-1", "h-2"]);
    expect([...first.held]).toEqual(["h-2"]);
    const second = await store.listActivePage(first.next, cutoff, 2);
    expect(second.rows.map((r) => r.id)).toEqual(["h-3", "h-4"]);
    expect([...second.held]).toEqual(["h-4"]);
    await db.pool.query("DELETE FROM calls WHERE call_id LIKE 'h-%'");
    await db.pool.query(`DELETE FROM ${own.holds} WHERE call_id LIKE 'h-%'`);
  });

  it("ends a call and writes its audit row in one step, and only while it is active", async () => {
    await seedCalls(db.pool, DEFAULT, [
      {
        id: "race",
        twilioSid: null,
        openaiId: null,
        status: "active",
        startedAt: new Date("2026-11-01T00:00:00Z"),
        endedAt: null,
      },
    ]);
    const call: ActiveCall = {
      id: "race",
      twilioSid: null,
      twilioAccount: null,
      openaiId: null,
      status: "active",
      startedAt: new Date("2026-11-01T00:00:00Z"),
    };
    const req = {
      call,
      newStatus: "completed",
      endedAt: new Date("2026-11-01T00:05:00Z"),
      durationSeconds: 300,
      source: "twilio" as const,
      runId: "00000000-0000-4000-8000-000000000001",
      evidence: { twilio: { kind: "ended" } },
      decidedAt: new Date(),
    };
    // Two replicas racing on the same row: exactly one wins.
    const results = await Promise.all([store.endCall(req), store.endCall(req), store.endCall(req)]);
    expect(results.filter((r) => r === "ended")).toHaveLength(1);
    expect((await readActions(db.pool, DEFAULT)).filter((a) => a.callId === "race")).toHaveLength(1);
    expect(await readCalls(db.pool, DEFAULT, ["race"])).toEqual([
      { id: "race", status: "completed", startedAt: call.startedAt, endedAt: req.endedAt },
    ]);
    // Already ended: a later attempt changes nothing.
    expect(await store.endCall({ ...req, newStatus: "timeout", endedAt: new Date() })).toBe("not_active");
    expect(await readCalls(db.pool, DEFAULT, ["race"])).toMatchObject([
      { status: "completed", endedAt: req.endedAt },
    ]);
  });

  it("rolls the end back when the audit row cannot be written", async () => {
    await seedCalls(db.pool, DEFAULT, [
      {
        id: "atomic",
        twilioSid: null,
        openaiId: null,
        status: "active",
        startedAt: new Date("2026-11-01T00:00:00Z"),
        endedAt: null,
      },
    ]);
    const bad = {
      call: {
        id: "atomic",
        twilioSid: null,
        twilioAccount: null,
        openaiId: null,
        status: "active",
        startedAt: new Date("2026-11-01T00:00:00Z"),
      },
      newStatus: "completed",
      endedAt: new Date("2026-11-01T00:05:00Z"),
      durationSeconds: 300,
      // Violates the audit table's CHECK: the statement fails as a whole.
      source: "guess" as unknown as "twilio",
      runId: "00000000-0000-4000-8000-000000000002",
      evidence: {},
      decidedAt: new Date(),
    };
    await expect(store.endCall(bad)).rejects.toThrow();
    expect(await readCalls(db.pool, DEFAULT, ["atomic"])).toMatchObject([
      { status: "active", endedAt: null },
    ]);
  });

  it("summarises the active rows", async () => {
    const s = await store.activeSummary();
    expect(s.active).toBeGreaterThan(0);
    expect(s.oldestStartedAt).toBeInstanceOf(Date);
  });
});

describe("PgCallStore on a custom schema (names from config, validated and quoted)", () => {
  let db: FreshDatabase;
  const mapping: CallsTableMapping = {
    table: "telephony.PhoneCalls",
    id: "Id",
    twilioSid: "sid",
    openaiId: "rtc",
    status: "state",
    startedAt: "began",
    endedAt: "finished",
  };
  beforeAll(async () => {
    db = await freshDatabase();
    // The app's own table: bigint ids, an enum status, mixed-case names that only survive quoting.
    await db.pool.query(`
      CREATE SCHEMA telephony;
      CREATE TYPE telephony.call_state AS ENUM ('active', 'completed', 'timeout');
      CREATE TABLE telephony."PhoneCalls" ("Id" bigint PRIMARY KEY, sid text, rtc text,
        state telephony.call_state NOT NULL, began timestamptz NOT NULL, finished timestamptz);
      INSERT INTO telephony."PhoneCalls" VALUES (1, NULL, NULL, 'active', '2026-11-01T00:00:00Z', NULL),
        (2, NULL, NULL, 'active', '2026-11-01T00:00:00Z', NULL), (10, NULL, NULL, 'completed', '2026-11-01T00:00:00Z', now());
    `);
    await migrate(db.pool, { withCallsTable: false, mapping });
  });
  afterAll(async () => {
    await db.drop();
  });

  it("lists and ends through the mapping", async () => {
    // The app's enum has no busy, no-answer, canceled or failed: STATUS_MAP says what to write instead.
    const statusMap = {
      busy: "completed",
      "no-answer": "completed",
      canceled: "completed",
      failed: "completed",
    };
    const store = new PgCallStore(db.pool, mapping, ["active"], { statusMap });
    await store.schema.verify();
    const rows = await listAll(store, new Date(), 1);
    expect(rows.map((r) => r.id)).toEqual(["1", "2"]);
    const first = rows[0] as ActiveCall;
    const ended = await store.endCall({
      call: first,
      newStatus: "timeout",
      endedAt: new Date("2026-11-02T00:00:00Z"),
      durationSeconds: 86_400,
      source: "age_bound",
      runId: "00000000-0000-4000-8000-000000000003",
      evidence: {},
      decidedAt: new Date(),
    });
    expect(ended).toBe("ended");
    expect(await readCalls(db.pool, mapping, ["1", "2"])).toMatchObject([
      { id: "1", status: "timeout", endedAt: new Date("2026-11-02T00:00:00Z") },
      { id: "2", status: "active", endedAt: null },
    ]);
  });

  it("explains a wrong table or column name", async () => {
    await expect(
      new PgCallStore(db.pool, { ...mapping, table: "telephony.calls" }, ["active"]).schema.verify(),
    ).rejects.toThrow(/CALLS_TABLE: table telephony.calls does not exist/);
    await expect(
      new PgCallStore(db.pool, { ...mapping, endedAt: "ended_at" }, ["active"]).schema.verify(),
    ).rejects.toThrow(SchemaMismatchError);
  });

  it("asks for migrate when the audit table is missing", async () => {
    const other = await freshDatabase();
    try {
      await migrate(other.pool, { withCallsTable: true, mapping: DEFAULT });
      await other.pool.query("DROP TABLE call_reconciler_actions");
      await expect(new PgCallStore(other.pool, DEFAULT, ["active"]).schema.verify()).rejects.toThrow(
        /call-reconciler migrate/,
      );
    } finally {
      await other.drop();
    }
  });
});
