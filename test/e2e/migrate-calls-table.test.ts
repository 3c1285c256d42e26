/**
 * `migrate --with-calls-table` never alters an app's existing calls table: it checks it as `doctor` does and
 * prints the index to create; only a missing table is created, with its index.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_MAPPING, APP_TABLE_SQL, indexesOfCalls, seedAppRows } from "../helpers/app-table.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const ADVICE =
  "CREATE INDEX CONCURRENTLY calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'";

function noStack(r: CliResult): void {
  expect(r.stderr).not.toContain("unexpected error");
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("migrate --with-calls-table on a calls table that already exists", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
    await db.pool.query(APP_TABLE_SQL);
    await seedAppRows(db.pool, ["active", "completed", "failed"]);
  });
  afterEach(async () => {
    await db.drop();
  });

  it("with a mapping that matches: exit 0, no index built, the CONCURRENTLY statement printed to run instead", async () => {
    const before = await indexesOfCalls(db.pool);
    const r = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: db.url, ...APP_MAPPING });
    noStack(r);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applied migrations: 1, .* in schema public/);
    expect(r.stdout).toMatch(/calls table calls already exists: left as it is, checked/);
    expect(r.stdout).toMatch(/^✓ tables /m);
    expect(r.stdout).toContain(`migrate builds none on an existing table: as its owner, run\n  ${ADVICE};\n`);
    expect(r.stdout).not.toMatch(/created index/);
    expect(await indexesOfCalls(db.pool)).toEqual(before);
    expect(before).toEqual(["calls_pkey", "idx_calls_started_at"]);

    // The statement, run as printed, serves the listing: the next migrate says so and prints none.
    await db.pool.query(ADVICE);
    const again = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: db.url, ...APP_MAPPING });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^✓ listing index /m);
    expect(again.stdout).not.toContain("CREATE INDEX");
  });

  it("with the default mapping, which does not match: a clear non-zero exit naming every problem, nothing altered", async () => {
    const before = await indexesOfCalls(db.pool);
    const columns = async () =>
      (
        await db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'calls'",
        )
      ).rows[0]?.n;
    const columnsBefore = await columns();
    const r = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: db.url });
    noStack(r);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^✗ tables +CALLS_COL_TWILIO_SID: table calls has no column "twilio_call_sid"; /m,
    );
    expect(r.stderr).toMatch(/calls table calls is not usable as configured: fix the problems above/);
    expect(await indexesOfCalls(db.pool)).toEqual(before);
    expect(await columns()).toBe(columnsBefore);
    // The daemon's own tables were still migrated.
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM call_reconciler_migrations",
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
  });
});

describe("migrate --with-calls-table without a calls table", () => {
  let db: FreshDatabase;
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it("creates the default table and the index its listing needs", async () => {
    const r = await runCli(["migrate", "--with-calls-table"], { DATABASE_URL: db.url });
    noStack(r);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created calls table calls$/m);
    expect(r.stdout).toMatch(/^created index calls_active_idx for the listing of active calls$/m);
    expect(await indexesOfCalls(db.pool)).toEqual(["calls_active_idx", "calls_pkey"]);
  });

  it("says in its help that an existing table is only checked", async () => {
    const r = await runCli(["migrate", "--help"], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/never alters/);
    expect(r.stdout).toMatch(/CREATE INDEX CONCURRENTLY/);
  });
});
