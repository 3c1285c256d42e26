import { existsSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/dev/embedded.js";
import { type FreshDatabase, freshDatabase, urlForDatabase, withAdminClient } from "../helpers/db.js";

async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the test database server", () => {
  it("answers on the injected admin URL", async () => {
    const url = inject("adminDatabaseUrl");
    expect(url).toMatch(/^postgres(ql)?:\/\//);
    const external = process.env.TEST_DATABASE_URL;
    if (external) expect(url).toBe(external);
    const rows = await queryOnce<{ version: string }>(url, "select version()");
    expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
  });
});

describe("freshDatabase", () => {
  let a: FreshDatabase;
  let b: FreshDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
  });

  it("gives each caller its own database", async () => {
    expect(a.name).not.toBe(b.name);
    expect((await a.pool.query("select current_database() as db")).rows[0].db).toBe(a.name);
    expect((await b.pool.query("select current_database() as db")).rows[0].db).toBe(b.name);

    await a.pool.query("create table only_in_a (id int primary key)");
    await a.pool.query("insert into only_in_a values (1)");
    expect((await a.pool.query("select count(*)::int as n from only_in_a")).rows[0].n).toBe(1);
    const inB = await b.pool.query("select to_regclass('public.only_in_a') as t");
    expect(inB.rows[0].t).toBeNull();
  });

  it("drop() removes the database even with a session still open, and is idempotent", async () => {
    const c = await freshDatabase();
    const straggler = new pg.Client({ connectionString: c.url });
    straggler.on("error", () => {});
    await straggler.connect();
    await c.drop();
    await c.drop();
    const left = await withAdminClient((admin) =>
      admin.query("select 1 from pg_database where datname = $1", [c.name]),
    );
    expect(left.rowCount).toBe(0);
    await straggler.end().catch(() => {});
  });
});

describe("startEmbeddedPostgres", () => {
  it("starts a second server that answers queries; stop() removes its data dir and is idempotent", async () => {
    const server = await startEmbeddedPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);
      expect(server.url).not.toBe(inject("adminDatabaseUrl"));
      expect(existsSync(server.dataDir)).toBe(true);
      const rows = await queryOnce<{ n: number; v: string }>(
        server.url,
        "select 1 + 1 as n, current_setting('server_version_num') as v",
      );
      expect(rows[0]?.n).toBe(2);
      expect(Number(rows[0]?.v)).toBeGreaterThanOrEqual(130000);
      // Databases other than postgres work too.
      await queryOnce(server.url, "create database other");
      expect(
        (await queryOnce<{ ok: number }>(urlForDatabase(server.url, "other"), "select 1 as ok"))[0]?.ok,
      ).toBe(1);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
    await server.stop(); // idempotent
    await expect(queryOnce(server.url, "select 1")).rejects.toThrow();
  });
});
