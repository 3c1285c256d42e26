import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallsTableMapping, loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { buildEndStatements, buildPageStatements } from "../../src/db/sql.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import { readActions } from "../../src/dev/seed.js";
import type { EndRequest } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { withOwnState } from "../helpers/own-state.js";

const DEFAULT = loadConfig({}).calls;
/** Neither UTC nor Asia/Kolkata: the store's sessions must not matter. */
const SESSION_ZONE = "America/Los_Angeles";

/** A calls table whose start and end columns are `timestamp` (no time zone), indexed like the README says. */
async function naiveTable(
  db: FreshDatabase,
  table: string,
  endedDecl = "timestamp",
): Promise<CallsTableMapping> {
  await db.pool.query(`CREATE TABLE ${table} (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
    status text NOT NULL, started_at timestamp NOT NULL, ended_at ${endedDecl})`);
  await db.pool.query(`CREATE INDEX ${table}_active ON ${table} (status, started_at, call_id)`);
  return withOwnState(db.pool, { ...DEFAULT, table });
}

/** Inserts active rows whose start column holds `at` as a wall time in `zone`. */
async function insertRows(db: FreshDatabase, table: string, zone: string, rows: [string, string][]) {
  for (const [id, at] of rows) {
    await db.pool.query(
      `INSERT INTO ${table} (call_id, status, started_at) VALUES ($1, 'active', $2::timestamptz AT TIME ZONE $3)`,
      [id, at, zone],
    );
  }
}

function endRequest(id: string, startedAt: Date, endedAt: Date): EndRequest {
  return {
    call: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt },
    newStatus: "completed",
    endedAt,
    durationSeconds: (endedAt.getTime() - startedAt.getTime()) / 1000,
    source: "twilio",
    runId: randomUUID(),
    evidence: { twilio: { kind: "ended" } },
    decidedAt: new Date(),
  };
}

describe("timestamp without time zone start and end columns (CALLS_TIME_ZONE)", () => {
  let db: FreshDatabase;
  /** The store's own pool, whose sessions run in SESSION_ZONE. */
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    pool = new pg.Pool({ connectionString: db.url, max: 3, options: `-c TimeZone=${SESSION_ZONE}` });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("without CALLS_TIME_ZONE, start-up is refused with one line naming the columns and the setting", async () => {
    const m = await naiveTable(db, "no_zone");
    const err = await new PgCallStore(pool, m, ["active"]).schema.verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^CALLS_COL_STARTED_AT \(no_zone\.started_at\) and CALLS_COL_ENDED_AT \(no_zone\.ended_at\): .*CALLS_TIME_ZONE/,
    );
    expect(message).not.toContain("\n");
    // The listing refuses too (a caller that skipped schema.verify never reads naive values as local time).
    await expect(new PgCallStore(pool, m, ["active"]).listActivePage(null, new Date(), 10)).rejects.toThrow(
      SchemaMismatchError,
    );

    const endOnly = await naiveTable(db, "end_only", "timestamp");
    await db.pool.query("ALTER TABLE end_only ALTER started_at TYPE timestamptz");
    await expect(new PgCallStore(pool, endOnly, ["active"]).schema.verify()).rejects.toThrow(
      /^CALLS_COL_ENDED_AT \(end_only\.ended_at\): timestamp without time zone .*CALLS_TIME_ZONE/,
    );

    await db.pool.query("CREATE DOMAIN wall_time AS timestamp");
    const domain = await naiveTable(db, "domain_zone", "wall_time");
    await expect(new PgCallStore(pool, domain, ["active"]).schema.verify()).rejects.toThrow(
      /^CALLS_COL_STARTED_AT .* and CALLS_COL_ENDED_AT \(domain_zone\.ended_at\)/,
    );
  });

  it("a zone PostgreSQL does not know is refused naming CALLS_TIME_ZONE", async () => {
    const m = await naiveTable(db, "unknown_zone");
    await expect(
      new PgCallStore(pool, { ...m, timeZone: "Nowhere/Atlantis" }, ["active"]).schema.verify(),
    ).rejects.toThrow(/^CALLS_TIME_ZONE: PostgreSQL does not know the time zone Nowhere\/Atlantis/);
  });

  it.each([
    ["UTC", "+00:00"],
    ["Asia/Kolkata", "+05:30"],
  ])(
    "CALLS_TIME_ZONE=%s: reads, cuts off, pages and writes wall times in that zone",
    async (zone, offset) => {
      const table = `zoned_${randomUUID().slice(0, 8)}`;
      const m = { ...(await naiveTable(db, table)), timeZone: zone };
      // Microsecond-distinct starts and a tie broken by id: the keyset must return each row exactly once.
      await insertRows(db, table, zone, [
        ["a", "2026-03-01T10:00:00.000001Z"],
        ["b", "2026-03-01T10:00:00.000002Z"],
        ["c", "2026-03-01T10:00:00.000002Z"],
        ["d", "2026-03-01T11:00:00Z"],
        ["late", "2026-03-01T11:00:00.001Z"],
      ]);
      const store = new PgCallStore(pool, m, ["active"]);
      await store.schema.verify();
      const cutoff = new Date("2026-03-01T11:00:00Z");
      const seen: { id: string; startedAt: string }[] = [];
      let page = await store.listActivePage(null, cutoff, 2);
      for (;;) {
        seen.push(...page.rows.map((r) => ({ id: r.id, startedAt: r.startedAt.toISOString() })));
        if (page.next === null) break;
        page = await store.listActivePage(page.next, cutoff, 2);
      }
      expect(seen).toEqual([
        { id: "a", startedAt: "2026-03-01T10:00:00.000Z" },
        { id: "b", startedAt: "2026-03-01T10:00:00.000Z" },
        { id: "c", startedAt: "2026-03-01T10:00:00.000Z" },
        // Exactly at the cutoff: included; a millisecond later: not yet.
        { id: "d", startedAt: "2026-03-01T11:00:00.000Z" },
      ]);
      expect(await store.activeSummary()).toEqual({
        active: 5,
        oldestStartedAt: new Date("2026-03-01T10:00:00.000Z"),
      });

      const endedAt = new Date("2026-03-01T10:04:30.250Z");
      expect(await store.endCalls([endRequest("a", new Date("2026-03-01T10:00:00Z"), endedAt)])).toEqual({
        ended: new Set(["a"]),
        locked: new Set(),
      });
      const { rows } = await db.pool.query<{ wall: string; instant: string }>(
        `SELECT ended_at::text AS wall, to_char((ended_at AT TIME ZONE $1) AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.MS') AS instant FROM ${table} WHERE call_id = 'a'`,
        [zone],
      );
      const wall = offset === "+00:00" ? "2026-03-01 10:04:30.25" : "2026-03-01 15:34:30.25";
      expect(rows).toEqual([{ wall, instant: "2026-03-01T10:04:30.250" }]);
      // The audit row (timestamptz) holds the same instant.
      const action = (await readActions(db.pool, m)).find((a) => a.callId === "a");
      expect(action?.endedAt).toEqual(endedAt);
    },
  );

  it("the naive listing still walks the (status, started_at, id) index: the cutoff and the cursor are index conditions", async () => {
    const m = { ...(await naiveTable(db, "big_naive")), timeZone: "Asia/Kolkata" };
    await db.pool.query(`INSERT INTO big_naive (call_id, status, started_at)
      SELECT 'c' || g, CASE WHEN g % 50 = 0 THEN 'active' ELSE 'completed' END,
        timestamp '2026-01-01' + g * interval '1 second'
      FROM generate_series(1, 20000) AS g`);
    await db.pool.query("ANALYZE big_naive");
    const sql = buildPageStatements(m, { oneActiveStatus: true, startedInZone: true });
    const cutoff = new Date("2026-06-01T00:00:00Z");
    const plans = [
      [sql.firstActivePage, ["active", cutoff, 100, "Asia/Kolkata"]],
      [sql.nextActivePage, ["active", cutoff, 100, "2026-01-01 00:10:00", "c600", "Asia/Kolkata"]],
    ] as const;
    for (const [text, params] of plans) {
      const { rows } = await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN (COSTS OFF) ${text}`, [...params]);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(/Index (Only )?Scan using big_naive_active on big_naive/);
      // The cutoff is converted, not the column: the raw column is bounded in the index condition.
      expect(plan).toMatch(/Index Cond: \(.*started_at <= /);
      expect(plan).not.toMatch(/Sort|Seq Scan/);
      if (params.length === 6) expect(plan).toMatch(/Index Cond: \(.*ROW\(started_at, call_id\) > ROW\(/);
    }
  });

  it("timestamptz columns are used as they are: no conversion, no extra parameter", () => {
    const pages = buildPageStatements(DEFAULT, { oneActiveStatus: true });
    for (const text of [pages.firstActivePage, pages.nextActivePage, pages.activeSummary]) {
      expect(text).not.toMatch(/AT TIME ZONE|\$6/);
    }
    expect(pages.firstActivePage).not.toContain("$4");
    const withTz = buildEndStatements(DEFAULT, {
      id: "text",
      status: "text",
      endedAt: "timestamp with time zone",
    });
    const unknown = buildEndStatements(DEFAULT, { id: "text", status: "text" });
    for (const s of [withTz, unknown]) expect(s.endCalls).not.toContain("$10");
    expect(
      buildEndStatements(DEFAULT, { id: "text", status: "text", endedAt: "timestamp without time zone" })
        .endCalls,
    ).toContain('"ended_at" = (input.ended_at AT TIME ZONE $10::text)');
  });
});
