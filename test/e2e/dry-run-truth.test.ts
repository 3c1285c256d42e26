/**
 * The dry run shows what `--apply` would do, and fails where `--apply` would fail: the values written are the
 * mapped ones, and an end column that cannot take a timestamp is refused before any pass.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

describe("the dry run tells the truth about the writes", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.pool.query(
      `CREATE TYPE call_state AS ENUM ('in_progress', 'completed', 'timed_out', 'no_answer')`,
    );
    await db.pool.query(`CREATE TABLE phone_calls (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), sid text,
      rtc text, state call_state NOT NULL, begun_at timestamptz NOT NULL, finished_at timestamptz,
      finished_epoch integer, finished_on date)`);
    await db.pool.query(
      `INSERT INTO phone_calls (state, begun_at) VALUES ('in_progress', now() - interval '2 days')`,
    );
    const migrated = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(migrated.code).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    LOG_LEVEL: "error",
    CALLS_TABLE: "phone_calls",
    CALLS_COL_ID: "id",
    CALLS_COL_TWILIO_SID: "sid",
    CALLS_COL_OPENAI_ID: "rtc",
    CALLS_COL_STATUS: "state",
    CALLS_COL_STARTED_AT: "begun_at",
    CALLS_COL_ENDED_AT: "finished_at",
    ACTIVE_STATUSES: "in_progress",
    STATUS_MAP: "timeout:timed_out,no-answer:no_answer,busy:completed,canceled:completed,failed:completed",
    ...extra,
  });

  it("shows the mapped values it would write, in the table and in --json", async () => {
    const table = await runCli(["audit"], env());
    expect(table.stderr).toBe("");
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/would end → timed_out \(age_bound\)/);
    const json = await runCli(["audit", "--json"], env());
    const [call] = JSON.parse(json.stdout).calls;
    expect(call).toMatchObject({ newStatus: "timed_out", providerStatus: "timeout", outcome: "would_end" });
  });

  it("refuses an end column that cannot hold a timestamp in the dry run already", async () => {
    const r = await runCli(["audit"], env({ CALLS_COL_ENDED_AT: "finished_on" }));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "call-reconciler: CALLS_COL_ENDED_AT (phone_calls.finished_on) is date, not a timestamp: map the column that holds the call's end as timestamptz (or timestamp with CALLS_TIME_ZONE, ISO 8601 text, or an integer, bigint or numeric epoch with CALLS_EPOCH_UNIT)",
    );
    const epoch = await runCli(["audit"], env({ CALLS_COL_ENDED_AT: "finished_epoch" }));
    expect(epoch.code).toBe(2);
    expect(epoch.stderr.trim()).toBe(
      "call-reconciler: CALLS_COL_ENDED_AT (phone_calls.finished_epoch) is integer: set CALLS_EPOCH_UNIT to seconds or milliseconds (what it counts since the Unix epoch)",
    );
    const { rows } = await db.pool.query("SELECT state::text FROM phone_calls");
    expect(rows).toEqual([{ state: "in_progress" }]);
  });
});
