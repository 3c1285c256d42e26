/**
 * SqliteCallStore.activeByCallSids on a real SQLite file, on the app's own table (text times, one id column for
 * both providers, its own statuses) and on one with a column per provider: the rows it gives are exactly
 * the listing's rows of those SIDs, field for field, held flags included.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { type ActivePage, MAX_CALL_SIDS_PER_READ } from "../../src/model/index.js";
import { openSqlite } from "../../src/sqlite/database.js";
import { callsStatements } from "../../src/sqlite/sql/calls.js";
import type { SqliteCallStore } from "../../src/sqlite/store.js";
import { type AppFile, appFile, sid } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 8, minute, 0, 123));
const FAR = new Date("2100-01-01T00:00:00Z");
const rtc = (n: number) => `rtc_${String(n).padStart(8, "0")}abcdef`;

/** A table with a column per provider, as the default mapping names them. */
const SEPARATE_DDL = `CREATE TABLE calls (call_id TEXT PRIMARY KEY, twilio_call_sid TEXT UNIQUE, twilio_account_sid TEXT,
  openai_call_id TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, duration_seconds REAL)`;
const SEPARATE_ENV = {
  CALLS_COL_TWILIO_SID: "twilio_call_sid",
  CALLS_COL_OPENAI_ID: "openai_call_id",
  CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid",
  ACTIVE_STATUSES: "active,ringing",
};

function hold(file: AppFile, id: string): void {
  file.app
    .prepare(
      "INSERT INTO call_reconciler_holds (call_id, reason, held_by, held_at) VALUES (?, 'by hand', 'hold:tester', ?)",
    )
    .run(id, new Date().toISOString());
}

/** The listing's page of every active row, cut to the rows of `ids`: what a by-SID read must equal. */
async function listed(store: SqliteCallStore, ids: readonly string[]): Promise<ActivePage> {
  const page = await store.listActivePage(null, FAR, 500);
  expect(page.next).toBeNull();
  return {
    rows: page.rows.filter((r) => ids.includes(r.id)),
    next: null,
    held: new Set([...page.held].filter((id) => ids.includes(id))),
  };
}

describe("SqliteCallStore.activeByCallSids", () => {
  it("on the app's table: the listing's rows of the active SIDs asked, held flags included, never a realtime id", async () => {
    f = await appFile();
    const iso = pythonIsoformat;
    f.insert({ id: sid(1), startedAt: iso(at(1)) });
    f.insert({ id: sid(2), startedAt: iso(at(2)) });
    f.insert({ id: sid(3), startedAt: iso(at(3)), status: "completed", endedAt: iso(at(4)), duration: 60 });
    f.insert({ id: sid(4), startedAt: iso(at(4)), endedAt: iso(at(5)) });
    f.insert({ id: sid(5), startedAt: iso(at(5)) });
    f.insert({ id: rtc(6), startedAt: iso(at(6)) });
    f.insert({ id: sid(7), startedAt: iso(new Date(Date.now() + 3600_000)) });
    hold(f, sid(2));
    const store = f.store();
    const page = await store.activeByCallSids([
      sid(7),
      sid(2),
      sid(1),
      sid(3),
      sid(4),
      sid(99),
      rtc(6),
      sid(1),
    ]);
    expect(page).toEqual(await listed(store, [sid(1), sid(2), sid(7)]));
    expect(page.rows.map((r) => r.id)).toEqual([sid(1), sid(2), sid(7)]);
    expect(page.rows[0]).toMatchObject({ twilioSid: sid(1), openaiId: null, sharedId: { owner: "twilio" } });
    expect([...page.held]).toEqual([sid(2)]);
    // The realtime row is active and listed: only a by-SID read leaves it out.
    expect((await listed(store, [rtc(6)])).rows).toHaveLength(1);
    expect(await store.activeByCallSids([rtc(6), sid(3), sid(4)])).toEqual({
      rows: [],
      next: null,
      held: new Set(),
    });
    expect(await store.activeByCallSids([])).toEqual({ rows: [], next: null, held: new Set() });
  });

  it("on a table with a column per provider: by the SID column, any active status", async () => {
    f = await appFile(SEPARATE_ENV, SEPARATE_DDL);
    const insert = f.app.prepare(
      "INSERT INTO calls (call_id, twilio_call_sid, twilio_account_sid, openai_call_id, status, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const account = `AC${"b".repeat(32)}`;
    insert.run("row-1", sid(1), account, null, "active", pythonIsoformat(at(1)), null);
    insert.run("row-2", sid(2), null, null, "ringing", pythonIsoformat(at(2)), null);
    insert.run("row-3", sid(3), null, null, "completed", pythonIsoformat(at(3)), pythonIsoformat(at(4)));
    insert.run("row-4", null, null, rtc(4), "active", pythonIsoformat(at(4)), null);
    insert.run("row-5", sid(5), null, null, "active", pythonIsoformat(at(5)), null);
    hold(f, "row-1");
    const store = f.store();
    const page = await store.activeByCallSids([sid(1), sid(2), sid(3), rtc(4), "row-5"]);
    expect(page).toEqual(await listed(store, ["row-1", "row-2"]));
    expect(page.rows[0]).toMatchObject({
      id: "row-1",
      twilioSid: sid(1),
      twilioAccount: account,
      startedAt: at(1),
    });
    expect([...page.held]).toEqual(["row-1"]);
  });

  it("looks the SIDs up in the SID column's index", async () => {
    f = await appFile();
    const sql = callsStatements(f.config.calls, '"calls"', 1).activeByCallSids;
    const plan = (
      f.app.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ s0: "active", sids: "[]" }) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join("\n");
    expect(plan).toMatch(/SEARCH c USING INDEX sqlite_autoindex_calls_1 \(call_id=\?\)/);
  });

  it(`takes at most ${MAX_CALL_SIDS_PER_READ} SIDs a read`, async () => {
    f = await appFile();
    const many = Array.from({ length: MAX_CALL_SIDS_PER_READ }, (_, i) => sid(1000 + i));
    expect(await f.store().activeByCallSids(many)).toMatchObject({ rows: [] });
    await expect(f.store().activeByCallSids([...many, sid(1)])).rejects.toThrow(RangeError);
  });

  it("has no nudge relay: SQLite carries no message between connections", async () => {
    f = await appFile();
    const target = f.config.database;
    if (target?.kind !== "sqlite") throw new Error("the helper's config names no SQLite file");
    const database = await openSqlite(f.config, target);
    expect(database.nudgeRelay()).toBeNull();
    await database.close();
  });
});
