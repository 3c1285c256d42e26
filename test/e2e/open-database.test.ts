import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/cli/database.js";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import type { Database } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

describe("openDatabase: the commands' one door to DATABASE_URL", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("opens PostgreSQL for a postgres URL, and the port migrates, binds and names the lease on it", async () => {
    const database: Database = await openDatabase(loadConfig({ DATABASE_URL: db.url }));
    try {
      expect(database.kind).toBe("postgresql");
      const migrated = await database.migrate({ withCallsTable: true });
      expect(migrated).toMatchObject({ schema: "public", callsTable: "created" });
      expect(await database.checkBinding({ bind: true })).toMatchObject({
        table: { schema: "public", name: "calls" },
        boundNow: true,
      });
      expect(await database.leaseName()).toBe("reconcile:public.calls");
      await database.verify();
      expect(await database.store.activeSummary()).toEqual({ active: 0, oldestStartedAt: null });
    } finally {
      await database.close();
    }
    // The tables are the database's, not the port's: they outlive it.
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM call_reconciler_binding",
    );
    expect(rows[0]?.n).toBe(1);
  });

  it("refuses an unset DATABASE_URL with one line naming both forms", async () => {
    const refused = openDatabase(loadConfig({}));
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      /^DATABASE_URL is required \(postgres:\/\/user:password@host:5432\/db, or sqlite:\/\/\/absolute\/path\/calls\.db\)$/,
    );
  });
});
