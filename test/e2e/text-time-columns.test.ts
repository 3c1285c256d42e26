import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { RevertStore } from "../../src/db/revert.js";
import { buildPageStatements } from "../../src/db/sql.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import type { EndRequest } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { withOwnState } from "../helpers/own-state.js";

/** A start or end column the app defined as text or an epoch number, and the rows it already holds. */
interface Case {
  name: string;
  startedType: string;
  endedType: string;
  env: Record<string, string>;
  /** [id, status, started_at, ended_at] as the column holds them. */
  rows: [string, string, string, string | null][];
  /** The listing with this cutoff, two rows a page: [id, instant]. */
  cutoff: string;
  listed: [string, string][];
  /** The end written for the first listed row, and the exact text the column then holds. */
  endedAt: string;
  written: string;
  /** The instant `written` names, when the column is coarser than `endedAt`. */
  readBack?: string;
}

const ENDED_AT = "2026-12-06T04:30:00.250Z";

const CASES: Case[] = [
  {
    name: "naive text as Python's isoformat() writes it, in CALLS_TIME_ZONE=UTC",
    startedType: "TEXT NOT NULL",
    endedType: "TEXT",
    env: { CALLS_TIME_ZONE: "UTC" },
    rows: [
      ["h1", "completed", "2026-12-01T09:00:00.123456", "2026-12-01T09:05:00.654321"],
      ["h2", "completed", "2026-12-01T10:00:00", "2026-12-01T10:05:00"],
      ["c", "active", "2026-12-06T03:04:05.000001", null],
      ["a", "active", "2026-12-06T03:04:05", null],
      ["b", "active", "2026-12-06T03:04:05.000001", null],
      ["d", "active", "2026-12-06T04:00:00", null],
      ["late", "active", "2026-12-06T04:00:00.000001", null],
    ],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [
      ["a", "2026-12-06T03:04:05.000Z"],
      ["b", "2026-12-06T03:04:05.000Z"],
      ["c", "2026-12-06T03:04:05.000Z"],
      ["d", "2026-12-06T04:00:00.000Z"],
    ],
    endedAt: ENDED_AT,
    written: "2026-12-06T04:30:00.250000",
  },
  {
    name: "naive varchar with a space and no fraction, in CALLS_TIME_ZONE=Asia/Kolkata",
    startedType: "varchar(40) NOT NULL",
    endedType: "varchar(40)",
    env: { CALLS_TIME_ZONE: "Asia/Kolkata" },
    rows: [
      ["h1", "completed", "2026-12-01 14:30:00", "2026-12-01 14:35:00"],
      ["a", "active", "2026-12-06 08:34:05", null],
      ["b", "active", "2026-12-06 09:30:00", null],
      ["late", "active", "2026-12-06 09:30:01", null],
    ],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [
      ["a", "2026-12-06T03:04:05.000Z"],
      ["b", "2026-12-06T04:00:00.000Z"],
    ],
    endedAt: ENDED_AT,
    written: "2026-12-06 10:00:00",
    readBack: "2026-12-06T04:30:00Z",
  },
  {
    name: "text with +00:00, without CALLS_TIME_ZONE",
    startedType: "TEXT NOT NULL",
    endedType: "TEXT",
    env: {},
    rows: [
      ["h1", "completed", "2026-12-01T09:00:00.123456+00:00", "2026-12-01T09:05:00.654321+00:00"],
      ["a", "active", "2026-12-06T03:04:05+00:00", null],
      ["b", "active", "2026-12-06T03:04:05.5+00:00", null],
      ["late", "active", "2026-12-06T04:00:01+00:00", null],
    ],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [
      ["a", "2026-12-06T03:04:05.000Z"],
      ["b", "2026-12-06T03:04:05.500Z"],
    ],
    endedAt: ENDED_AT,
    written: "2026-12-06T04:30:00.250000+00:00",
  },
  {
    name: "text in Z with milliseconds (JavaScript's toISOString)",
    startedType: "TEXT NOT NULL",
    endedType: "TEXT",
    env: {},
    rows: [
      ["a", "active", "2026-12-06T03:04:05.000Z", null],
      ["b", "active", "2026-12-06T03:59:59.999Z", null],
      ["late", "active", "2026-12-06T04:00:00.001Z", null],
    ],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [
      ["a", "2026-12-06T03:04:05.000Z"],
      ["b", "2026-12-06T03:59:59.999Z"],
    ],
    endedAt: ENDED_AT,
    written: "2026-12-06T04:30:00.250Z",
  },
  {
    name: "epoch seconds (bigint)",
    startedType: "bigint NOT NULL",
    endedType: "bigint",
    env: { CALLS_EPOCH_UNIT: "seconds" },
    rows: [
      ["h1", "completed", "1796115600", "1796115900"],
      ["b", "active", "1796529600", null],
      ["a", "active", "1796526245", null],
      ["late", "active", "1796529601", null],
    ],
    cutoff: "2026-12-06T04:00:00.900Z",
    listed: [
      ["a", "2026-12-06T03:04:05.000Z"],
      ["b", "2026-12-06T04:00:00.000Z"],
    ],
    endedAt: ENDED_AT,
    written: "1796531400",
    readBack: "2026-12-06T04:30:00Z",
  },
  {
    name: "epoch milliseconds (bigint)",
    startedType: "bigint NOT NULL",
    endedType: "bigint",
    env: { CALLS_EPOCH_UNIT: "milliseconds" },
    rows: [
      ["a", "active", "1796526245123", null],
      ["b", "active", "1796529600000", null],
      ["late", "active", "1796529600001", null],
    ],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [
      ["a", "2026-12-06T03:04:05.123Z"],
      ["b", "2026-12-06T04:00:00.000Z"],
    ],
    endedAt: ENDED_AT,
    written: "1796531400250",
  },
  {
    name: "epoch seconds in an integer start and a numeric end",
    startedType: "integer NOT NULL",
    endedType: "numeric",
    env: { CALLS_EPOCH_UNIT: "seconds" },
    rows: [["a", "active", "1796526245", null]],
    cutoff: "2026-12-06T04:00:00Z",
    listed: [["a", "2026-12-06T03:04:05.000Z"]],
    endedAt: ENDED_AT,
    written: "1796531400",
    readBack: "2026-12-06T04:30:00Z",
  },
];

function endRequest(id: string, startedAt: Date, endedAt: Date, runId: string): EndRequest {
  return {
    call: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt },
    newStatus: "completed",
    endedAt,
    source: "twilio",
    runId,
    evidence: { twilio: { kind: "ended" } },
    decidedAt: new Date(),
    durationSeconds: (endedAt.getTime() - startedAt.getTime()) / 1000,
  };
}

describe("start and end columns held as text or epoch numbers", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: loadConfig({}).calls });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The app's own table (named `table`), with the listing index doctor recommends for it. */
  async function appTable(
    table: string,
    startedType: string,
    endedType: string,
    env: Record<string, string>,
  ) {
    await db.pool.query(`CREATE TABLE ${table} (call_id TEXT PRIMARY KEY, call_type TEXT NOT NULL DEFAULT 'phone',
      twilio_call_sid TEXT, openai_call_id TEXT, started_at ${startedType}, ended_at ${endedType},
      duration_seconds REAL, status TEXT NOT NULL, metadata TEXT)`);
    await db.pool.query(`CREATE INDEX ${table}_started_at ON ${table} (started_at)`);
    // The daemon's state belongs to one calls table: each table gets a RECONCILER_SCHEMA of its own.
    const loaded = loadConfig({ CALLS_TABLE: table, ...env });
    const config = { ...loaded, calls: await withOwnState(db.pool, loaded.calls) };
    return { config, store: new PgCallStore(db.pool, config.calls, ["active"]) };
  }

  async function insert(table: string, rows: Case["rows"]) {
    for (const [id, status, started, ended] of rows) {
      await db.pool.query(
        `INSERT INTO ${table} (call_id, status, started_at, ended_at) VALUES ($1, $2, $3, $4)`,
        [id, status, started, ended],
      );
    }
  }

  it.each(CASES.map((c) => [c.name, c] as const))(
    "%s: lists, ends in the column's format, reverts",
    async (_, c) => {
      const table = `t_${randomUUID().slice(0, 8)}`;
      const { config, store } = await appTable(table, c.startedType, c.endedType, c.env);
      await insert(table, c.rows);
      await store.schema.verify();
      // The index doctor recommends can be created on the column, and then serves the listing.
      await db.pool.query((await store.listingIndex()).statement);
      expect((await store.listingIndex()).usable).toBe(true);

      const cutoff = new Date(c.cutoff);
      const seen: [string, string][] = [];
      let page = await store.listActivePage(null, cutoff, 2);
      for (;;) {
        seen.push(...page.rows.map((r) => [r.id, r.startedAt.toISOString()] as [string, string]));
        if (page.next === null) break;
        page = await store.listActivePage(page.next, cutoff, 2);
      }
      expect(seen).toEqual(c.listed);
      const active = c.rows.filter((r) => r[1] === "active").length;
      expect(await store.activeSummary()).toEqual({
        active,
        oldestStartedAt: new Date(c.listed[0]?.[1] ?? ""),
      });
      expect(await store.unparseableStarts()).toEqual({ count: 0, example: null });

      const [id, started] = c.listed[0] ?? ["", ""];
      const runId = randomUUID();
      const endedAt = new Date(c.endedAt);
      expect((await store.endCalls([endRequest(id, new Date(started), endedAt, runId)])).ended).toEqual(
        new Set([id]),
      );
      const { rows } = await db.pool.query(
        `SELECT status, ended_at::text AS ended FROM ${table} WHERE call_id = $1`,
        [id],
      );
      expect(rows).toEqual([{ status: "completed", ended: c.written }]);
      const actions = `${config.calls.daemonSchema}.call_reconciler_actions`;
      const audit = await db.pool.query(
        `SELECT ended_at, previous_ended_at FROM ${actions} WHERE run_id = $1 AND call_id = $2`,
        [runId, id],
      );
      expect(audit.rows).toEqual([{ ended_at: endedAt, previous_ended_at: null }]);
      // The end counts among the ends since its own time (compared in the column's format).
      expect(await store.endedSince(new Date(endedAt.getTime() - 1000))).toBe(1);

      const revert = new RevertStore(db.pool, config.calls);
      const ends = await revert.runEnds(runId, "0", 10);
      const state = (await revert.states(ends)).get(ends[0]?.auditId ?? "");
      expect(state).toMatchObject({ present: true, status: "completed", asWritten: true });
      // What the column holds, read back: the end, to the column's precision.
      expect(state?.endedAt).toEqual(new Date(c.readBack ?? c.endedAt));
      const restored = await revert.restore(ends, randomUUID(), "tester@host");
      expect(restored.restored.size).toBe(1);
      const after = await db.pool.query(`SELECT status, ended_at FROM ${table} WHERE call_id = $1`, [id]);
      expect(after.rows).toEqual([{ status: "active", ended_at: null }]);
    },
  );

  it("the listing of a text start column walks doctor's index: the cutoff and the cursor are index conditions, no sort", async () => {
    const table = "big_text";
    const { config, store } = await appTable(table, "TEXT NOT NULL", "TEXT", { CALLS_TIME_ZONE: "UTC" });
    await db.pool.query(`INSERT INTO ${table} (call_id, status, started_at, ended_at)
      SELECT 'c' || g, CASE WHEN g % 5 = 0 THEN 'active' ELSE 'completed' END,
        to_char(timestamp '2026-01-01' + g * interval '1.5 second', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        CASE WHEN g % 5 = 0 THEN NULL ELSE to_char(timestamp '2026-01-02' + g * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.US') END
      FROM generate_series(1, 20000) AS g`);
    await store.schema.verify();
    const advice = await store.listingIndex();
    expect(advice.usable).toBe(false);
    expect(advice.statement).toBe(
      `CREATE INDEX CONCURRENTLY ${table}_active_idx ON ${table} (started_at, call_id) WHERE status = 'active'`,
    );
    await db.pool.query(advice.statement);
    await db.pool.query(`ANALYZE ${table}`);
    expect(await store.listingIndex()).toMatchObject({ usable: true, index: `${table}_active_idx` });
    const sql = buildPageStatements(config.calls, { oneActiveStatus: true, startedRaw: true });
    const cutoff = "2026-06-01T00:00:00.000000";
    const plans = [
      [sql.firstActivePage, ["active", cutoff, 100]],
      [sql.nextActivePage, ["active", cutoff, 100, "2026-01-01T00:10:00.000000", "c400"]],
    ] as const;
    for (const [text, params] of plans) {
      const { rows } = await db.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN (COSTS OFF) ${text}`, [
        ...params,
      ]);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(new RegExp(`Index (Only )?Scan using ${table}_active_idx on ${table}`));
      expect(plan).toMatch(/Index Cond: \(.*started_at <= /);
      expect(plan).not.toMatch(/Sort|Seq Scan/);
      if (params.length === 5) expect(plan).toMatch(/Index Cond: \(.*ROW\(started_at, call_id\) > ROW\(/);
    }
    // And the store pages through them in time order.
    const first = await store.listActivePage(null, new Date("2026-01-01T00:10:00Z"), 3);
    expect(first.rows.map((r) => [r.id, r.startedAt.toISOString()])).toEqual([
      ["c5", "2026-01-01T00:00:07.500Z"],
      ["c10", "2026-01-01T00:00:15.000Z"],
      ["c15", "2026-01-01T00:00:22.500Z"],
    ]);
    expect(first.next).toEqual({ startedAt: "2026-01-01T00:00:22.500000", id: "c15" });
  });

  it.each([
    [
      "text",
      "TEXT NOT NULL",
      { CALLS_TIME_ZONE: "UTC" },
      ["2026-12-06T03:00:00", "2026-12-06T03:00:01.5", "2026-12-06T03:00:02", "2026-12-06T03:00:03"],
    ],
    [
      "epoch milliseconds",
      "bigint NOT NULL",
      { CALLS_EPOCH_UNIT: "milliseconds" },
      ["1796526000000", "1796526001500", "1796526002000", "1796526003000"],
    ],
  ] as const)(
    "a %s start column is cut into equal shares at the rows' own times",
    async (_, type, env, starts) => {
      const table = `shares_${randomUUID().slice(0, 8)}`;
      const { store } = await appTable(table, type, type.replace(" NOT NULL", ""), env);
      for (const [i, started] of starts.entries()) {
        await db.pool.query(
          `INSERT INTO ${table} (call_id, twilio_call_sid, status, started_at) VALUES ($1, $2, 'active', $3)`,
          [`s${i}`, `CA${i}`, started],
        );
      }
      const shares = await store.activeStartShares(2);
      expect(shares).toEqual(new Map([[null, { rows: 4, cuts: [new Date("2026-12-06T03:00:01.500Z")] }]]));
    },
  );

  it("revert leaves a row whose end the app rewrote since", async () => {
    const table = "rewritten";
    const { config, store } = await appTable(table, "TEXT NOT NULL", "TEXT", { CALLS_TIME_ZONE: "UTC" });
    await insert(table, [["a", "active", "2026-12-06T03:04:05", null]]);
    const runId = randomUUID();
    await store.endCalls([endRequest("a", new Date("2026-12-06T03:04:05Z"), new Date(ENDED_AT), runId)]);
    await db.pool.query(`UPDATE ${table} SET ended_at = '2026-12-06T04:31:00.000000' WHERE call_id = 'a'`);
    const revert = new RevertStore(db.pool, config.calls);
    const ends = await revert.runEnds(runId, "0", 10);
    const { restored, states } = await revert.restore(ends, randomUUID(), "tester@host");
    expect(restored.size).toBe(0);
    expect(states.get(ends[0]?.auditId ?? "")).toMatchObject({
      asWritten: false,
      endedAt: new Date("2026-12-06T04:31:00Z"),
    });
    const { rows } = await db.pool.query(`SELECT ended_at FROM ${table}`);
    expect(rows).toEqual([{ ended_at: "2026-12-06T04:31:00.000000" }]);
  });

  it("a start that does not parse is listed as no time (never ended), counted with an example, and fails nothing", async () => {
    const table = "unparseable";
    const { store } = await appTable(table, "TEXT", "TEXT", { CALLS_TIME_ZONE: "UTC" });
    await insert(table, [
      ["good", "active", "2026-12-06T03:04:05", null],
      ["feb30", "active", "2026-02-30T00:00:00", null],
      ["blank", "active", "", null],
      ["words", "active", "yesterday", null],
      ["null", "active", null as unknown as string, null],
    ]);
    await store.schema.verify();
    const page = await store.listActivePage(null, new Date("2026-12-07T00:00:00Z"), 10);
    // Compared raw, text that sorts after every time is past the cutoff, and NULL is no match: never listed.
    expect(
      page.rows.map((r) => [
        r.id,
        Number.isNaN(r.startedAt.getTime()) ? "invalid" : r.startedAt.toISOString(),
      ]),
    ).toEqual([
      ["blank", "invalid"],
      ["feb30", "invalid"],
      ["good", "2026-12-06T03:04:05.000Z"],
    ]);
    expect(await store.unparseableStarts()).toEqual({ count: 4, example: expect.any(String) });
    expect((await store.activeSummary()).active).toBe(5);
    expect(await store.activeStartShares(2)).toBeInstanceOf(Map);
  });

  it("naive text without CALLS_TIME_ZONE, and an epoch column without CALLS_EPOCH_UNIT, are refused in one line", async () => {
    const naive = await appTable("naive_no_zone", "TEXT NOT NULL", "TEXT", {});
    await insert("naive_no_zone", [["a", "active", "2026-12-06T03:04:05.123456", null]]);
    await expect(naive.store.schema.verify()).rejects.toThrow(
      /^CALLS_COL_STARTED_AT \(naive_no_zone\.started_at\): text such as "2026-12-06T03:04:05\.123456" holds no time zone; set CALLS_TIME_ZONE/,
    );
    const epoch = await appTable("epoch_no_unit", "bigint NOT NULL", "bigint", {});
    const err = await epoch.store.schema.verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect((err as Error).message).toBe(
      "CALLS_COL_STARTED_AT (epoch_no_unit.started_at) is bigint and CALLS_COL_ENDED_AT (epoch_no_unit.ended_at) is bigint: set CALLS_EPOCH_UNIT to seconds or milliseconds (what it counts since the Unix epoch)",
    );
  });

  it("an empty text column is written in Python's naive format in CALLS_TIME_ZONE, or with +00:00 without it", async () => {
    for (const [table, env, written] of [
      ["empty_zoned", { CALLS_TIME_ZONE: "Europe/Berlin" }, "2026-12-06T05:30:00.250000"],
      ["empty_plain", {}, "2026-12-06T04:30:00.250000+00:00"],
    ] as const) {
      const { store } = await appTable(table, "TEXT", "TEXT", env);
      await store.schema.verify();
      // A row the app inserts after start-up, with an offset its end does not have to follow.
      await db.pool.query(`INSERT INTO ${table} (call_id, status, started_at) VALUES ('a', 'active', NULL)`);
      await store.endCalls([endRequest("a", new Date(0), new Date(ENDED_AT), randomUUID())]);
      const { rows } = await db.pool.query(`SELECT ended_at FROM ${table}`);
      expect(rows).toEqual([{ ended_at: written }]);
    }
  });
});
