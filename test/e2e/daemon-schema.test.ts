/**
 * RECONCILER_SCHEMA: the daemon's tables live in a schema of their own, and every statement names it. The
 * database's search_path is emptied, so any statement that still relied on it to find a table would fail.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const TABLES = ["actions", "binding", "causes", "holds", "leases", "migrations", "sightings"].map(
  (t) => `call_reconciler_${t}`,
);

describe("the daemon's tables in RECONCILER_SCHEMA, with an empty search_path", () => {
  let db: FreshDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await freshDatabase();
    await db.pool.query(`ALTER DATABASE "${db.name}" SET search_path = ''`);
    await db.pool.end();
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => {});
    db = { ...db, pool };
    env = {
      DATABASE_URL: db.url,
      RECONCILER_SCHEMA: "reconciler",
      CALLS_TABLE: "public.calls",
      LOG_LEVEL: "error",
    };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("migrate creates the schema, says where it wrote, and puts nothing in public but the calls table", async () => {
    const first = await runCli(["migrate", "--with-calls-table"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created schema reconciler$/m);
    expect(first.stdout).toMatch(/applied migrations: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 in schema reconciler/);
    const again = await runCli(["migrate"], env);
    expect(again.stdout).toMatch(/the daemon's tables in schema reconciler are up to date/);
    expect(again.stdout).not.toMatch(/created schema/);

    const { rows } = await db.pool.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname IN ('public', 'reconciler') ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { schema: "public", name: "calls" },
      ...TABLES.map((name) => ({ schema: "reconciler", name })),
    ]);
  });

  it("audit --apply, hold and revert read and write only there", async () => {
    await db.pool.query(
      `INSERT INTO public.calls (call_id, status, started_at) VALUES
         ('old', 'active', pg_catalog.now() - interval '2 days'),
         ('young', 'active', pg_catalog.now() - interval '10 minutes')`,
    );
    const audit = await runCli(["audit", "--apply", "--json"], env);
    expect(audit.stderr).toBe("");
    // 3: the young call stays unverified (no provider is configured); the old one is past the age bound.
    expect(audit.code).toBe(3);
    const actions = await db.pool.query<{ call_id: string; run_id: string }>(
      "SELECT call_id, run_id::text FROM reconciler.call_reconciler_actions",
    );
    expect(actions.rows.map((r) => r.call_id)).toEqual(["old"]);
    const lease = await db.pool.query("SELECT name FROM reconciler.call_reconciler_leases");
    expect(lease.rowCount).toBe(1);

    const hold = await runCli(["hold", "young", "--reason", "live, per the customer"], env);
    expect(hold.stderr).toBe("");
    expect(hold.code).toBe(0);
    const revert = await runCli(["revert", "--call", "old", "--apply"], env);
    expect(revert.stderr).toBe("");
    expect(revert.code).toBe(0);
    const holds = await db.pool.query<{ call_id: string }>(
      "SELECT call_id FROM reconciler.call_reconciler_holds WHERE released_at IS NULL ORDER BY call_id",
    );
    expect(holds.rows.map((r) => r.call_id)).toEqual(["old", "young"]);
    const call = await db.pool.query<{ status: string }>(
      "SELECT status FROM public.calls WHERE call_id = 'old'",
    );
    expect(call.rows[0]?.status).toBe("active");
  });
});
