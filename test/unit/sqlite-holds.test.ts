import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SchemaMismatchError } from "../../src/model/index.js";
import { SqliteHoldBook } from "../../src/sqlite/holds.js";
import { APP_MAPPING, type AppFile, appFile, insertCall } from "../helpers/sqlite-app-file.js";

let f: AppFile;
afterEach(() => f.close());

describe("SqliteHoldBook", () => {
  beforeEach(async () => {
    f = await appFile();
  });

  it("finds a call by the id typed, with its status and end as the columns hold them", async () => {
    insertCall(f.app, { id: "CA1", startedAt: new Date("2026-12-06T10:00:00.250Z") });
    insertCall(f.app, {
      id: "rtc_2",
      status: "completed",
      startedAt: new Date("2026-12-06T10:00:00Z"),
      endedAt: new Date("2026-12-06T10:05:03.123Z"),
    });
    const book = new SqliteHoldBook(f.file, APP_MAPPING);
    expect(await book.callById("CA1")).toEqual({ callId: "CA1", status: "active", endedAt: null });
    expect(await book.callById("rtc_2")).toEqual({
      callId: "rtc_2",
      status: "completed",
      endedAt: "2026-12-06T10:05:03.123000",
    });
    expect(await book.callById("CA404")).toBeNull();
  });

  it("reads a typed id as an INTEGER id column does, and answers with the canonical id", async () => {
    f.app.exec("CREATE TABLE calls2 (id INTEGER PRIMARY KEY, status TEXT, ended_at TEXT, started_at TEXT)");
    f.app.prepare("INSERT INTO calls2 VALUES (7, 'active', NULL, '2026-12-06T10:00:00')").run();
    const book = new SqliteHoldBook(f.file, { ...APP_MAPPING, table: "main.calls2", id: "id" });
    expect(await book.callById("007")).toEqual({ callId: "7", status: "active", endedAt: null });
    expect(await book.callById("abc")).toBeNull();
  });

  it("holds once, says a second hold found the first, releases, and holds anew after", async () => {
    let clock = new Date("2026-12-06T11:00:00.000Z");
    const book = new SqliteHoldBook(f.file, APP_MAPPING, () => clock);
    const first = await book.hold("CA1", { reason: "disputed", heldBy: "ops@host" });
    expect(first).toEqual({
      made: true,
      hold: { callId: "CA1", reason: "disputed", heldBy: "ops@host", runId: null, heldAt: clock },
    });
    clock = new Date("2026-12-06T11:01:00.000Z");
    const again = await book.hold("CA1", { reason: "other", heldBy: "someone@else" });
    expect(again).toEqual({ made: false, hold: first.hold });
    expect(await book.current("CA1")).toEqual(first.hold);

    expect(await book.release("CA1", "ops@host")).toEqual(first.hold);
    expect(await book.current("CA1")).toBeNull();
    expect(await book.release("CA1", "ops@host")).toBeNull();

    const renewed = await book.hold("CA1", { reason: null, heldBy: "ops@host", runId: "run-9" });
    expect(renewed.made).toBe(true);
    expect(renewed.hold.runId).toBe("run-9");
    // The released hold stays, as history.
    const history = f.app
      .prepare("SELECT held_by, released_by, released_at FROM call_reconciler_holds ORDER BY id")
      .all();
    expect(history).toEqual([
      { held_by: "ops@host", released_by: "ops@host", released_at: "2026-12-06T11:01:00.000Z" },
      { held_by: "ops@host", released_by: null, released_at: null },
    ]);
  });
});

describe("SqliteHoldBook before migrate", () => {
  beforeEach(async () => {
    f = await appFile({ own: false });
  });

  it("says to run migrate", async () => {
    const book = new SqliteHoldBook(f.file, APP_MAPPING);
    await expect(book.current("CA1")).rejects.toThrow(SchemaMismatchError);
    await expect(book.hold("CA1", { reason: null, heldBy: "x" })).rejects.toThrow("call-reconciler migrate");
  });
});

describe("SqliteHoldBook on a table the settings misname", () => {
  beforeEach(async () => {
    f = await appFile();
  });

  it("names the setting to fix", async () => {
    await expect(
      new SqliteHoldBook(f.file, { ...APP_MAPPING, table: "call" }).callById("CA1"),
    ).rejects.toThrow("CALLS_TABLE: the SQLite file has no table call");
    await expect(
      new SqliteHoldBook(f.file, { ...APP_MAPPING, status: "state" }).callById("CA1"),
    ).rejects.toThrow("CALLS_COL_STATUS: table calls lacks the column");
  });
});
