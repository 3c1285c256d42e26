import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SchemaMismatchError } from "../../src/model/index.js";
import { createCallsTableIfMissing } from "../../src/sqlite/calls-table-create.js";
import { SqliteFile } from "../../src/sqlite/file.js";
import { SqliteCallStore } from "../../src/sqlite/store.js";
import { APP_MAPPING, type AppFile, appFile, insertCall } from "../helpers/sqlite-app-file.js";

describe("createCallsTableIfMissing on a new file", () => {
  let dir: string;
  let file: SqliteFile;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sqlite-create-"));
    file = new SqliteFile(join(dir, "calls.db"), { busyTimeoutMs: 1_000, create: true });
  });
  afterEach(() => {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the table in SQLite's types with the partial index the listing uses, then finds it existing", async () => {
    const opts = { mapping: APP_MAPPING, activeStatuses: ["active", "ringing"] };
    expect(await createCallsTableIfMissing(file, opts)).toEqual({
      callsTable: "created",
      listingIndexCreated: "call_reconciler_calls_active_idx",
    });
    const columns = await file.read((db) =>
      db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('calls') ORDER BY cid").all(),
    );
    expect(columns).toEqual([
      { name: "call_id", type: "TEXT", notnull: 0, pk: 1 },
      { name: "twilio_account_sid", type: "TEXT", notnull: 0, pk: 0 },
      { name: "status", type: "TEXT", notnull: 1, pk: 0 },
      { name: "started_at", type: "TEXT", notnull: 1, pk: 0 },
      { name: "ended_at", type: "TEXT", notnull: 0, pk: 0 },
      { name: "duration_seconds", type: "REAL", notnull: 0, pk: 0 },
    ]);
    // The listing's own plan uses it: the index is the one the store would advise.
    const store = new SqliteCallStore(file, { ...APP_MAPPING, timeZone: "UTC" }, opts.activeStatuses);
    expect(await store.listingIndex()).toMatchObject({
      usable: true,
      index: "call_reconciler_calls_active_idx",
    });
    expect(await createCallsTableIfMissing(file, opts)).toEqual({
      callsTable: "existing",
      listingIndexCreated: null,
    });
  });

  it("refuses a table in another schema: the calls table is in the file itself", async () => {
    await expect(
      createCallsTableIfMissing(file, {
        mapping: { ...APP_MAPPING, table: "app.calls" },
        activeStatuses: ["active"],
      }),
    ).rejects.toThrow(SchemaMismatchError);
  });

  it("takes a free index name when the file has one of that name", async () => {
    await file.write((db) =>
      db.exec("CREATE TABLE other (x TEXT); CREATE INDEX call_reconciler_calls_active_idx ON other (x)"),
    );
    const made = await createCallsTableIfMissing(file, { mapping: APP_MAPPING, activeStatuses: ["active"] });
    expect(made.listingIndexCreated).toBe("call_reconciler_calls_active_idx1");
    const sql = await file.read(
      (db) =>
        db
          .prepare("SELECT sql FROM sqlite_master WHERE name = 'call_reconciler_calls_active_idx1'")
          .get() as { sql: string },
    );
    expect(sql.sql).toBe(
      `CREATE INDEX "call_reconciler_calls_active_idx1" ON "calls" ("started_at", "call_id") WHERE "status" = 'active'`,
    );
  });
});

describe("createCallsTableIfMissing on the app's file", () => {
  let f: AppFile;
  beforeEach(async () => {
    f = await appFile({ own: false });
  });
  afterEach(() => f.close());

  it("leaves the app's table exactly as it is, byte for byte", async () => {
    insertCall(f.app, { id: "CA1", startedAt: new Date("2026-12-06T10:00:00.250Z") });
    f.app.close();
    const before = readFileSync(f.path);
    const result = await createCallsTableIfMissing(f.file, {
      mapping: { ...APP_MAPPING, table: "main.CALLS" },
      activeStatuses: ["active"],
    });
    expect(result).toEqual({ callsTable: "existing", listingIndexCreated: null });
    expect(readFileSync(f.path).equals(before)).toBe(true);
  });
});
