import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { ActiveListing } from "../../src/db/listing.js";
import { readListingIndex } from "../../src/db/listing-index.js";
import { migrate } from "../../src/db/migrate.js";
import { createPool } from "../../src/db/pool.js";
import { buildPageStatements } from "../../src/db/sql.js";
import { PgCallStore } from "../../src/db/store.js";
import { countingListings } from "../../src/dev/counting-pool.js";
import type { ActivePage, PageCursor } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const DEFAULT = loadConfig({}).calls;
const CUTOFF = new Date("2026-11-25T10:30:00Z");
const EXPECTED = [
  "early",
  ...Array.from({ length: 23 }, (_, i) => `tie-${String(i).padStart(2, "0")}`),
  "late",
];

/** The windowed listing as PgCallStore builds it, with a window small enough to need several. */
function listing(pool: pg.Pool, windowRows: number): ActiveListing {
  return new ActiveListing({
    pool,
    statements: async () => ({
      sql: buildPageStatements(DEFAULT, { oneActiveStatus: true }),
      startedZone: [],
    }),
    activeParam: "active",
    checkIndex: () => readListingIndex(pool, { mapping: DEFAULT, activeStatuses: ["active"] }),
    windowRows,
  });
}

async function listAll(
  list: (c: PageCursor | null) => Promise<ActivePage>,
  between?: () => Promise<void>,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: PageCursor | null = null;
  let pages = 0;
  do {
    const page = await list(cursor);
    ids.push(...page.rows.map((r) => r.id));
    cursor = page.next;
    if (++pages > 1000) throw new Error("paging does not terminate");
    await between?.();
  } while (cursor !== null);
  return ids;
}

describe("the listing without an index: one scan, not one per page", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
      status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
    // History, ties to the microsecond (a Date cursor would loop or skip), and rows the listing leaves out.
    await db.pool.query(`INSERT INTO calls (call_id, status, started_at, ended_at)
      SELECT 'h-' || i, 'completed', '2026-11-20'::timestamptz + make_interval(secs => i), '2026-11-21'
      FROM generate_series(1, 3000) AS i`);
    await db.pool.query(`INSERT INTO calls (call_id, status, started_at)
      SELECT 'tie-' || lpad(i::text, 2, '0'), 'active', '2026-11-25 10:00:00.123456+00'
      FROM generate_series(0, 22) AS i`);
    await db.pool.query(`INSERT INTO calls (call_id, status, started_at) VALUES
      ('early', 'active', '2026-11-25 09:00:00.000001+00'), ('late', 'active', '2026-11-25 10:00:00.123457+00'),
      ('young', 'active', '2026-11-25 11:00:00+00')`);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("lists the same rows in the same order as the keyset pages, whatever the page and window sizes", async () => {
    expect((await readListingIndex(db.pool, { mapping: DEFAULT, activeStatuses: ["active"] })).usable).toBe(
      false,
    );
    for (const windowRows of [1, 7, 25, 26, 50_000]) {
      for (const pageSize of [1, 4, 23, 24, 500]) {
        const l = listing(db.pool, windowRows);
        expect(
          await listAll((c) => l.page(c, CUTOFF, pageSize)),
          `window ${windowRows}, page ${pageSize}`,
        ).toEqual(EXPECTED);
      }
    }
  });

  it("reads the table once per window, where keyset pages would read it once per page", async () => {
    const c = countingListings(db.pool);
    const store = new PgCallStore(c.pool, DEFAULT, ["active"]);
    expect(await listAll((cur) => store.listActivePage(cur, CUTOFF, 4))).toEqual(EXPECTED);
    expect(c.listings()).toBe(1);
    const small = countingListings(db.pool);
    const windowed = listing(small.pool, 10);
    expect(await listAll((cur) => windowed.page(cur, CUTOFF, 4))).toEqual(EXPECTED);
    // 25 rows in windows of 10: three statements (the last one short, so nothing follows it).
    expect(small.listings()).toBe(3);
  });

  it("holds no transaction between pages, so a pass slower than idle_in_transaction_session_timeout is fine", async () => {
    const pool = createPool(db.url, { idleInTransactionTimeoutMs: 100, statementTimeoutMs: 5_000 });
    try {
      const l = listing(pool, 10);
      const idleInTransaction = async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        );
        return rows[0]?.n;
      };
      const seen: (number | undefined)[] = [];
      const ids = await listAll(
        (c) => l.page(c, CUTOFF, 4),
        async () => {
          // A sleep: a provider round slower, in real time, than the 100 ms timeout between two pages.
          await sleep(150);
          seen.push(await idleInTransaction());
        },
      );
      expect(ids).toEqual(EXPECTED);
      expect(seen.every((n) => n === 0)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it("goes back to keyset pages once an index serves the listing", async () => {
    const c = countingListings(db.pool);
    const store = new PgCallStore(c.pool, DEFAULT, ["active"]);
    await db.pool.query(
      "CREATE INDEX calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'",
    );
    try {
      expect(await listAll((cur) => store.listActivePage(cur, CUTOFF, 4))).toEqual(EXPECTED);
      // 25 rows in pages of 4: 7 pages, the last one short.
      expect(c.listings()).toBe(7);
    } finally {
      await db.pool.query("DROP INDEX calls_active_idx");
    }
  });
});
