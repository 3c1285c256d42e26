/**
 * A read that meets the app's commit (its EXCLUSIVE lock, held while its journal is written) waits for it like
 * a write does. The driver's `all()` and `iterate()` throw that SQLITE_BUSY without the `errcode` its `get()`,
 * `run()` and `exec()` carry: a wait keyed on `errcode` alone let the listing fail the pass at once.
 */
import { DatabaseSync } from "@photostructure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteFile } from "../../src/sqlite/file.js";
import { type AppFile, appFile, sid } from "../helpers/sqlite-app.js";

let app: AppFile | undefined;
afterEach(() => app?.close());

/** The app in the middle of a commit: readers wait until `release`, which a timer calls. */
function appCommitting(path: string): { release: () => void } {
  const db = new DatabaseSync(path);
  db.exec("BEGIN EXCLUSIVE");
  db.prepare(
    "INSERT INTO calls (call_id, call_type, started_at, status) VALUES (?, 'outbound', '2026-12-06T10:00:00.000001', 'active')",
  ).run(sid(99));
  return {
    release: () => {
      db.exec("COMMIT");
      db.close();
    },
  };
}

describe("SQLite reads beside the app's commits", () => {
  it("a read of many rows (all()) waits for the app's commit, then reads", async () => {
    app = await appFile();
    const file = new SqliteFile(app.path, { busyTimeoutMs: 5_000 });
    // The connection is open and has read the schema, as the daemon's is after its first pass.
    await file.read((db) => db.prepare("SELECT count(*) AS n FROM calls").get());
    const lock = appCommitting(app.path);
    const timer = setTimeout(lock.release, 200);
    try {
      const rows = await file.read((db) => db.prepare("SELECT call_id FROM calls").all());
      expect(rows).toEqual([{ call_id: sid(99) }]);
    } finally {
      clearTimeout(timer);
      file.close();
    }
  });

  it("the listing waits for the app's commit, then lists the row it committed", async () => {
    app = await appFile();
    // A finished call: the end column's format is known, so the listing reads nothing else before its page.
    app.insert({
      id: sid(1),
      status: "completed",
      startedAt: "2026-12-06T09:00:00.000001",
      endedAt: "2026-12-06T09:01:00.000001",
      duration: 60,
    });
    const store = app.store();
    // A first pass has listed before the app commits: the daemon's connection has read the schema.
    const cutoff = new Date("2026-12-07T00:00:00Z");
    expect((await store.listActivePage(null, cutoff, 10)).rows).toEqual([]);
    const lock = appCommitting(app.path);
    const timer = setTimeout(lock.release, 200);
    try {
      const page = await store.listActivePage(null, cutoff, 10);
      expect(page.rows.map((r) => r.id)).toEqual([sid(99)]);
    } finally {
      clearTimeout(timer);
    }
  });
});
