import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CallsTableMapping, loadConfig } from "../../src/config/config.js";
import { readListingIndex } from "../../src/db/listing-index.js";
import { migrate } from "../../src/db/migrate.js";
import { buildPageStatements } from "../../src/db/sql.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const DEFAULT = loadConfig({}).calls;
const STATEMENT =
  "CREATE INDEX CONCURRENTLY calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'";

/** `ended` rows of history (a day or more old) and `active` rows started 1 to 3 hours ago; then ANALYZE. */
async function seedHistory(db: FreshDatabase, ended: number, active: number, activeStatus = "active") {
  await db.pool.query(
    `INSERT INTO calls (call_id, status, started_at, ended_at)
     SELECT 'h-' || i, 'completed', now() - make_interval(days => 1 + i % 300), now() - make_interval(days => 1)
     FROM generate_series(1, $1::int) AS i`,
    [ended],
  );
  await db.pool.query(
    `INSERT INTO calls (call_id, status, started_at)
     SELECT 'a-' || i, $2, now() - make_interval(secs => 3600 + i % 7200) FROM generate_series(1, $1::int) AS i`,
    [active, activeStatus],
  );
  await db.pool.query("ANALYZE calls");
}

/** Every index the plan of `sql` (with `params`) reads, as the planner would run it now. */
/** The indexes a page's plan reads on the calls table (the holds it also reads are the daemon's own). */
async function indexesUsed(db: FreshDatabase, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  return [...JSON.stringify(rows[0]?.["QUERY PLAN"]).matchAll(/"Index Name":"([^"]+)"/g)]
    .map((m) => m[1] ?? "")
    .filter((name) => !name.startsWith("call_reconciler_"));
}

describe("the index the listing needs", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("migrate --with-calls-table creates the partial index, and the planner uses it for every page", async () => {
    const created = await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT });
    expect(created.listingIndexCreated).toBe("calls_active_idx");
    // Once an index serves the listing, migrating again creates none.
    expect(
      (await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT })).listingIndexCreated,
    ).toBeNull();
    await seedHistory(db, 20_000, 200);
    const sql = buildPageStatements(DEFAULT, { oneActiveStatus: true });
    const cutoff = new Date();
    expect(await indexesUsed(db, sql.firstActivePage, ["active", cutoff, 500])).toEqual(["calls_active_idx"]);
    expect(
      await indexesUsed(db, sql.nextActivePage, ["active", cutoff, 500, "2000-01-01 00:00:00+00", "a-1"]),
    ).toEqual(["calls_active_idx"]);
    expect(await readListingIndex(db.pool, { mapping: DEFAULT, activeStatuses: ["active"] })).toEqual({
      usable: true,
      index: "calls_active_idx",
      statement: STATEMENT,
    });
  });

  it("with several active statuses, the index covers them all and serves `status = ANY($1)`", async () => {
    const statuses = ["active", "ringing"];
    await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT, activeStatuses: statuses });
    await seedHistory(db, 20_000, 200, "ringing");
    const sql = buildPageStatements(DEFAULT, { oneActiveStatus: false });
    expect(await indexesUsed(db, sql.firstActivePage, [statuses, new Date(), 500])).toEqual([
      "calls_active_idx",
    ]);
    const found = await readListingIndex(db.pool, { mapping: DEFAULT, activeStatuses: statuses });
    expect(found).toMatchObject({ usable: true, index: "calls_active_idx" });
    // An index on fewer statuses than the listing asks for cannot serve it.
    expect(
      await readListingIndex(db.pool, { mapping: DEFAULT, activeStatuses: [...statuses, "queued"] }),
    ).toEqual({
      usable: false,
      index: null,
      statement:
        "CREATE INDEX CONCURRENTLY calls_active_idx1 ON calls (started_at, call_id) WHERE status IN ('active', 'ringing', 'queued')",
    });
  });

  it("tells which indexes serve the listing: partial on the active statuses, or led by the status column", async () => {
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
      status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
    const check = () => readListingIndex(db.pool, { mapping: DEFAULT, activeStatuses: ["active"] });
    expect(await check()).toEqual({ usable: false, index: null, statement: STATEMENT });
    // Neither reads active rows only: one on the start column walks the whole history, one on other statuses.
    await db.pool.query("CREATE INDEX calls_started_idx ON calls (started_at)");
    await db.pool.query(
      "CREATE INDEX calls_ringing_idx ON calls (started_at, call_id) WHERE status = 'ringing'",
    );
    expect(await check()).toEqual({ usable: false, index: null, statement: STATEMENT });
    // The index older releases created.
    await db.pool.query("CREATE INDEX calls_reconciler_active_idx ON calls (status, started_at, call_id)");
    expect(await check()).toMatchObject({ usable: true, index: "calls_reconciler_active_idx" });
    await db.pool.query("DROP INDEX calls_reconciler_active_idx");
    // The statement it recommends, run as printed.
    await db.pool.query(STATEMENT);
    expect(await check()).toMatchObject({ usable: true, index: "calls_active_idx" });
  });

  it("quotes what needs quoting, and serves a naive-timestamp start column too", async () => {
    const mapping: CallsTableMapping = {
      ...DEFAULT,
      table: "public.CallLog",
      startedAt: "Begin",
      status: "state",
    };
    await db.pool.query(`CREATE TABLE "CallLog" (call_id text PRIMARY KEY, twilio_call_sid text,
      openai_call_id text, state text NOT NULL, "Begin" timestamp NOT NULL, ended_at timestamp)`);
    const t = { mapping, activeStatuses: ["live"], startedZone: ["Europe/Paris"] };
    const missing = await readListingIndex(db.pool, t);
    expect(missing).toEqual({
      usable: false,
      index: null,
      statement: `CREATE INDEX CONCURRENTLY "CallLog_active_idx" ON public."CallLog" ("Begin", call_id) WHERE state = 'live'`,
    });
    await db.pool.query(missing.statement);
    expect(await readListingIndex(db.pool, t)).toMatchObject({ usable: true, index: "CallLog_active_idx" });
  });
});

describe("migrate on a table an older release set up", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("keeps its (status, started_at, id) index and adds no second one", async () => {
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
      status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
    await db.pool.query("CREATE INDEX calls_reconciler_active_idx ON calls (status, started_at, call_id)");
    expect(
      (await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT })).listingIndexCreated,
    ).toBeNull();
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'calls'",
    );
    expect(rows[0]?.n).toBe(2);
  });
});
