/**
 * PgCallStore.activeByCallSids on real PostgreSQL, on the default table, on one with naive timestamps in a
 * time zone, and on the app's own table (text times, one id column for both providers, its own statuses):
 * the rows it gives are exactly the listing's rows of those SIDs, field for field, held flags included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallsTableMapping, loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { buildPageStatements, daemonTables } from "../../src/db/sql.js";
import { PgCallStore } from "../../src/db/store.js";
import { APP_CALLS_TABLE_SQL, APP_TABLE_SETTINGS, seedAppCalls } from "../../src/dev/app-table.js";
import { type ActivePage, MAX_CALL_SIDS_PER_READ } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

/** `CA` and 32 hex digits: a Twilio Call SID numbered `n`. */
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 8, minute, 0, 123));
const FAR = new Date("2100-01-01T00:00:00Z");

/** One call as a shape stores it: `id` is the row's id; `twilio` its SID, `rtc` its realtime id. */
interface Row {
  id: string;
  twilio: string | null;
  rtc: string | null;
  status: string;
  startedAt: Date;
  ended: boolean;
}

interface Shape {
  name: string;
  env: Record<string, string>;
  create(db: FreshDatabase, mapping: CallsTableMapping): Promise<void>;
  insert(db: FreshDatabase, rows: readonly Row[]): Promise<void>;
  /** The id of a row with SID `twilio` or realtime id `rtc` (the SID itself in a one-id-column table). */
  idOf(n: number, kind: "twilio" | "rtc"): string;
  /** The status of a live call that is not `active`, listed as active (null: the shape has none). */
  ringing: string | null;
}

const separateColumns = (timeType: string, zoned: string | null) => ({
  async create(db: FreshDatabase) {
    await db.pool.query(`CREATE TABLE calls (call_id text PRIMARY KEY, twilio_call_sid text UNIQUE,
      twilio_account_sid text, openai_call_id text, status text NOT NULL, started_at ${timeType} NOT NULL,
      ended_at ${timeType})`);
  },
  async insert(db: FreshDatabase, rows: readonly Row[]) {
    const time = (p: string) => (zoned === null ? p : `(${p}::timestamptz AT TIME ZONE '${zoned}')`);
    for (const r of rows)
      await db.pool.query(
        `INSERT INTO calls (call_id, twilio_call_sid, twilio_account_sid, openai_call_id, status, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, ${time("$6")}, ${time("$7")})`,
        [
          r.id,
          r.twilio,
          r.twilio === null ? null : `AC${"b".repeat(32)}`,
          r.rtc,
          r.status,
          r.startedAt,
          r.ended ? new Date(r.startedAt.getTime() + 60_000) : null,
        ],
      );
  },
  idOf: (n: number, kind: "twilio" | "rtc") => `${kind}-row-${n}`,
  ringing: "ringing",
});

const SHAPES: Shape[] = [
  {
    name: "the default table",
    env: { ACTIVE_STATUSES: "active,ringing" },
    ...separateColumns("timestamptz", null),
  },
  {
    name: "naive timestamps in CALLS_TIME_ZONE",
    env: { ACTIVE_STATUSES: "active,ringing", CALLS_TIME_ZONE: "Asia/Kolkata" },
    ...separateColumns("timestamp", "Asia/Kolkata"),
  },
  {
    name: "the app's own table (text times, one id column, its own statuses)",
    env: { ...APP_TABLE_SETTINGS },
    async create(db) {
      await db.pool.query(APP_CALLS_TABLE_SQL);
    },
    async insert(db, rows) {
      await seedAppCalls(
        db.pool,
        rows.map((r) => ({
          callId: r.id,
          callType: r.twilio === null ? "inbound" : "outbound",
          status: r.status,
          startedAt: r.startedAt,
          endedAt: r.ended ? new Date(r.startedAt.getTime() + 60_000) : null,
          durationSeconds: r.ended ? 60 : null,
        })),
      );
    },
    idOf: (n, kind) => (kind === "twilio" ? sid(n) : `rtc_${String(n).padStart(8, "0")}abcdef`),
    ringing: null,
  },
];

for (const shape of SHAPES) {
  describe(`activeByCallSids on ${shape.name} (real PostgreSQL)`, () => {
    let db: FreshDatabase;
    let store: PgCallStore;
    const row = (n: number, over: Partial<Row> = {}): Row => ({
      id: shape.idOf(n, "twilio"),
      twilio: sid(n),
      rtc: null,
      status: "active",
      startedAt: at(n),
      ended: false,
      ...over,
    });
    const realtime = (n: number): Row => ({
      ...row(n),
      id: shape.idOf(n, "rtc"),
      twilio: null,
      rtc: shape.idOf(n, "rtc"),
    });

    beforeAll(async () => {
      db = await freshDatabase();
      const config = loadConfig(shape.env);
      await shape.create(db, config.calls);
      await migrate(db.pool, { withCallsTable: false, mapping: config.calls });
      store = new PgCallStore(db.pool, config.calls, config.activeStatuses, { statusMap: config.statusMap });
      await store.schema.verify();
      await shape.insert(db, [
        row(1),
        row(2),
        row(3, { status: shape.ringing ?? "active" }),
        // Over: an end status, or an end time under an active status.
        row(4, { status: "completed", ended: true }),
        row(5, { ended: true }),
        // Active, not asked.
        row(6),
        realtime(7),
        // Started later than any pass would list yet: a nudge is about a call of any age.
        row(8, { startedAt: new Date(Date.now() + 3600_000) }),
      ]);
      await db.pool.query(
        `INSERT INTO ${daemonTables().holds} (call_id, reason, held_by) VALUES ($1, 'by hand', 'hold:tester')`,
        [shape.idOf(2, "twilio")],
      );
    });
    afterAll(async () => {
      await db.drop();
    });

    /** The listing's page of every active row, cut to the rows of `ids`: what a by-SID read must equal. */
    async function listed(ids: readonly string[]): Promise<ActivePage> {
      const page = await store.listActivePage(null, FAR, 500);
      expect(page.next).toBeNull();
      const rows = page.rows.filter((r) => ids.includes(r.id));
      return { rows, next: null, held: new Set([...page.held].filter((id) => ids.includes(id))) };
    }

    it("gives exactly the listing's rows of the active SIDs asked, held flags included", async () => {
      const page = await store.activeByCallSids([
        sid(8),
        sid(1),
        sid(2),
        sid(3),
        sid(4),
        sid(5),
        sid(99),
        sid(1),
      ]);
      const expected = await listed([1, 2, 3, 8].map((n) => shape.idOf(n, "twilio")));
      expect(expected.rows).toHaveLength(4);
      expect(page).toEqual(expected);
      expect([...page.held]).toEqual([shape.idOf(2, "twilio")]);
      expect(page.rows[0]).toMatchObject({ twilioSid: sid(1), startedAt: at(1) });
    });

    it("leaves out ended, unknown and realtime ids, and reads nothing for no SID", async () => {
      expect(await store.activeByCallSids([sid(4), sid(5), sid(99), shape.idOf(7, "rtc")])).toEqual({
        rows: [],
        next: null,
        held: new Set(),
      });
      expect(await store.activeByCallSids([])).toEqual({ rows: [], next: null, held: new Set() });
      // The realtime row is active and listed: only a by-SID read leaves it out.
      expect((await listed([shape.idOf(7, "rtc")])).rows).toHaveLength(1);
    });

    it(`takes at most ${MAX_CALL_SIDS_PER_READ} SIDs a read`, async () => {
      const many = Array.from({ length: MAX_CALL_SIDS_PER_READ }, (_, i) => sid(1000 + i));
      expect(await store.activeByCallSids([...many, sid(1000)])).toMatchObject({ rows: [] });
      await expect(store.activeByCallSids([...many, sid(1)])).rejects.toThrow(RangeError);
    });
  });
}

describe("activeByCallSids' plan on the app's table", () => {
  let db: FreshDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it("looks the SIDs up in the id column's primary key, not a scan of the history", async () => {
    db = await freshDatabase();
    const config = loadConfig({ ...APP_TABLE_SETTINGS });
    await db.pool.query(APP_CALLS_TABLE_SQL);
    await migrate(db.pool, { withCallsTable: false, mapping: config.calls });
    await db.pool.query(
      `INSERT INTO calls (call_id, call_type, started_at, ended_at, status)
       SELECT 'CA' || lpad(to_hex(g), 32, '0'), 'outbound', '2026-12-01T00:00:00', '2026-12-01T00:01:00', 'completed'
       FROM generate_series(1, 20000) AS g`,
    );
    await db.pool.query("ANALYZE calls");
    const store = new PgCallStore(db.pool, config.calls, config.activeStatuses);
    await store.schema.verify();
    const sql = buildPageStatements(config.calls, { startedRaw: true }).activeByCallSids as string;
    const { rows } = await db.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, [
      config.activeStatuses,
      [sid(1), sid(2)],
    ]);
    const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
    expect(plan).toMatch(/Index Scan using calls_pkey|Bitmap Index Scan on calls_pkey/);
    expect(plan).not.toMatch(/Seq Scan on calls/);
  });
});
