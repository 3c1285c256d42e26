import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallsTableMapping, loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { withOwnState } from "../helpers/own-state.js";

const DEFAULT = loadConfig({}).calls;
const STARTED = new Date("2026-11-01T00:00:00Z");

/** An app table with an enum status, like a user's own: `n` finished rows of each of `finished`, one live row. */
async function appTable(db: FreshDatabase, table: string, finished: Record<string, number>) {
  await db.pool.query(`CREATE TABLE ${table} (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
    status call_state NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
  await db.pool.query(
    `INSERT INTO ${table} (call_id, status, started_at) VALUES ('live', 'in_progress', $1)`,
    [STARTED],
  );
  for (const [status, n] of Object.entries(finished)) {
    await db.pool.query(
      `INSERT INTO ${table} (call_id, status, started_at, ended_at)
       SELECT $1 || g, $1::call_state, $2, $2::timestamptz + interval '5 minutes' FROM generate_series(1, $3::int) AS g`,
      [status, STARTED, n],
    );
  }
  return withOwnState(db.pool, { ...DEFAULT, table } satisfies CallsTableMapping);
}

const STATUS_MAP = "completed:done,busy:done,no-answer:no_answer,canceled:done,failed:done,timeout:timed_out";
const storeFor = (db: FreshDatabase, m: CallsTableMapping, active: string[]) =>
  new PgCallStore(db.pool, m, active, { statusMap: loadConfig({ STATUS_MAP }).statusMap });

async function failure(store: PgCallStore): Promise<string> {
  const err = await store.schema.verify().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SchemaMismatchError);
  const message = (err as Error).message;
  expect(message).not.toContain("\n");
  return message;
}

describe("active statuses that the table's finished rows carry (checked at start-up)", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    await db.pool.query(
      "CREATE TYPE call_state AS ENUM ('in_progress', 'ringing', 'no_answer', 'timed_out', 'done', 'completed')",
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("a status finished rows carry is refused with one line naming it, the count and the fix", async () => {
    const m = await appTable(db, "phone_calls", { completed: 12, done: 3 });
    expect(await failure(storeFor(db, m, ["in_progress", "ringing", "completed"]))).toBe(
      'ACTIVE_STATUSES includes "completed", which 12 finished rows (with an end time in ended_at, CALLS_COL_ENDED_AT) carry: remove it from ACTIVE_STATUSES',
    );
    expect(await failure(storeFor(db, m, ["in_progress", "done", "completed"]))).toBe(
      'ACTIVE_STATUSES includes "completed" and "done", which 15 finished rows (with an end time in ended_at, CALLS_COL_ENDED_AT) carry: remove them from ACTIVE_STATUSES',
    );
    // The app's live statuses alone start.
    await expect(storeFor(db, m, ["in_progress", "ringing"]).schema.verify()).resolves.toBeDefined();
  });

  it("the check reads a bounded number of rows: a big history is named as 'at least'", async () => {
    const m = await appTable(db, "big_calls", { completed: 1500 });
    expect(await failure(storeFor(db, m, ["in_progress", "completed"]))).toBe(
      'ACTIVE_STATUSES includes "completed", which at least 1000 finished rows (with an end time in ended_at, CALLS_COL_ENDED_AT) carry: remove it from ACTIVE_STATUSES',
    );
    // One active status: the listing's own form of the statement.
    expect(await failure(storeFor(db, m, ["completed"]))).toMatch(
      /^ACTIVE_STATUSES includes "completed", which at least 1000 finished rows/,
    );
  });
});
