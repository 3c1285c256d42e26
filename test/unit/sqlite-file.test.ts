import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "@photostructure/sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteBusyError } from "../../src/sqlite/busy.js";
import { SqliteFile, SqliteFileMissingError } from "../../src/sqlite/file.js";
import { LATEST_SQLITE_MIGRATION, migrateOwnTables } from "../../src/sqlite/migrate.js";

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sqlite-file-"));
  path = join(dir, "calls.db");
  const app = new DatabaseSync(path);
  app.exec("CREATE TABLE t (x INTEGER)");
  app.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Another connection to the file, as the app opens one, holding the write lock until released. */
function appHoldsWriteLock(): { release: () => void } {
  const app = new DatabaseSync(path);
  app.exec("BEGIN IMMEDIATE");
  app.prepare("INSERT INTO t VALUES (1)").run();
  return {
    release: () => {
      app.exec("COMMIT");
      app.close();
    },
  };
}

/** The app's connection in the middle of its commit (an EXCLUSIVE lock): readers are locked out too. */
function appHoldsExclusiveLock(): { release: () => void } {
  const app = new DatabaseSync(path);
  app.exec("BEGIN EXCLUSIVE");
  app.prepare("INSERT INTO t VALUES (1)").run();
  return {
    release: () => {
      app.exec("COMMIT");
      app.close();
    },
  };
}

describe("SqliteFile", () => {
  it("refuses a file that is not there, in one line naming it, unless asked to create it", async () => {
    const missing = join(dir, "nope.db");
    const file = new SqliteFile(missing, { busyTimeoutMs: 100 });
    await expect(file.read((db) => db.prepare("SELECT 1").get())).rejects.toThrow(SqliteFileMissingError);
    await expect(file.read((db) => db.prepare("SELECT 1").get())).rejects.toThrow(
      `no SQLite file at ${missing}`,
    );
    expect(existsSync(missing)).toBe(false);
    const created = new SqliteFile(missing, { busyTimeoutMs: 100, create: true });
    await created.read((db) => db.prepare("SELECT 1").get());
    created.close();
    expect(existsSync(missing)).toBe(true);
  });

  it("a file that is not a database is one line naming it, not a stack trace", async () => {
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "this is not a SQLite file, but long enough to have a header of one".repeat(10));
    const file = new SqliteFile(junk, { busyTimeoutMs: 100 });
    const failure = file.read((db) => db.prepare("SELECT * FROM sqlite_master").all());
    await expect(failure).rejects.toThrow(SqliteFileMissingError);
    await expect(failure).rejects.toThrow(`DATABASE_URL: ${junk} is not a SQLite database`);
    file.close();
  });

  it("opened read-only, refuses every write", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 100, readOnly: true });
    await expect(file.write((db) => db.prepare("INSERT INTO t VALUES (3)").run())).rejects.toThrow(
      /readonly/,
    );
    expect(await file.read((db) => db.prepare("SELECT count(*) AS n FROM t").get())).toEqual({ n: 0 });
    file.close();
  });

  it("waits for the app's write lock without blocking the event loop, then writes", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 5_000 });
    const lock = appHoldsWriteLock();
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
      if (ticks === 5) lock.release();
    }, 20);
    try {
      await file.write((db) => db.prepare("INSERT INTO t VALUES (2)").run());
    } finally {
      clearInterval(ticker);
    }
    // The lock was released by a timer: the event loop ran while the write waited.
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(await file.read((db) => db.prepare("SELECT x FROM t ORDER BY x").all())).toEqual([
      { x: 1 },
      { x: 2 },
    ]);
    file.close();
  });

  it("gives up after SQLITE_BUSY_TIMEOUT_MS with a clear error and writes nothing", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 200 });
    const lock = appHoldsWriteLock();
    try {
      await expect(file.write((db) => db.prepare("INSERT INTO t VALUES (2)").run())).rejects.toThrow(
        SqliteBusyError,
      );
    } finally {
      lock.release();
    }
    expect(await file.read((db) => db.prepare("SELECT x FROM t").all())).toEqual([{ x: 1 }]);
    file.close();
  });

  it("a read of many rows (`all`) waits for the app's commit too, then reads", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 5_000 });
    // The schema already read (as after the daemon's first statement): only the step meets the lock.
    await file.read((db) => db.prepare("SELECT x FROM t").all());
    // The app in the middle of its commit: the file is locked against readers too.
    const lock = appHoldsExclusiveLock();
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
      if (ticks === 5) lock.release();
    }, 20);
    try {
      expect(await file.read((db) => db.prepare("SELECT x FROM t").all())).toEqual([{ x: 1 }]);
    } finally {
      clearInterval(ticker);
    }
    // Read once the app's commit was done: the event loop ran while the read waited.
    expect(ticks).toBeGreaterThanOrEqual(5);
    file.close();
  });

  it("a read of many rows (`all`) locked out past SQLITE_BUSY_TIMEOUT_MS gives the clear error", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 200 });
    await file.read((db) => db.prepare("SELECT x FROM t").all());
    const lock = appHoldsExclusiveLock();
    try {
      await expect(file.read((db) => db.prepare("SELECT x FROM t").all())).rejects.toThrow(SqliteBusyError);
      await expect(file.read((db) => [...db.prepare("SELECT x FROM t").iterate()])).rejects.toThrow(
        SqliteBusyError,
      );
    } finally {
      lock.release();
    }
    file.close();
  });

  it("rolls a write back whole when it throws, and keeps the connection usable", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 100 });
    await expect(
      file.write((db) => {
        db.prepare("INSERT INTO t VALUES (7)").run();
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await file.write((db) => db.prepare("INSERT INTO t VALUES (8)").run());
    expect(await file.read((db) => db.prepare("SELECT x FROM t").all())).toEqual([{ x: 8 }]);
    file.close();
  });

  it("migrates the daemon's tables once; a second migrate applies nothing", async () => {
    const file = new SqliteFile(path, { busyTimeoutMs: 100 });
    expect(await migrateOwnTables(file)).toEqual([LATEST_SQLITE_MIGRATION]);
    expect(await migrateOwnTables(file)).toEqual([]);
    const tables = await file.read(
      (db) =>
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'call_reconciler_%' ORDER BY name",
          )
          .all() as Array<{ name: string }>,
    );
    expect(tables.map((r) => r.name)).toEqual([
      "call_reconciler_actions",
      "call_reconciler_binding",
      "call_reconciler_causes",
      "call_reconciler_holds",
      "call_reconciler_leases",
      "call_reconciler_migrations",
      "call_reconciler_sightings",
    ]);
    file.close();
  });
});
