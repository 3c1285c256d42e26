import { DatabaseSync } from "@photostructure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { type ActiveCall, type PageCursor, RowRefusedError } from "../../src/model/index.js";
import { SqliteBusyError } from "../../src/sqlite/busy.js";
import { SqliteFile } from "../../src/sqlite/file.js";
import type { SqliteCallStore } from "../../src/sqlite/store.js";
import { type AppFile, appFile, endRequest, sid } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

async function listAll(store: SqliteCallStore, cutoff: Date, pageSize: number): Promise<ActiveCall[]> {
  const all: ActiveCall[] = [];
  let cursor: PageCursor | null = null;
  let pages = 0;
  do {
    const page = await store.listActivePage(cursor, cutoff, pageSize);
    all.push(...page.rows);
    cursor = page.next;
    if (++pages > 1000) throw new Error("paging does not terminate");
  } while (cursor !== null);
  return all;
}

const BASE = new Date("2026-12-06T08:00:00Z");
const at = (seconds: number) => new Date(BASE.getTime() + seconds * 1000);

interface Row {
  call_id: string;
  status: string;
  ended_at: string | null;
  duration_seconds: number | null;
}
const rowOf = (file: AppFile, id: string) =>
  file.app
    .prepare("SELECT call_id, status, ended_at, duration_seconds FROM calls WHERE call_id = ?")
    .get(id) as unknown as Row;
const count = (file: AppFile, table: string) =>
  Number((file.app.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);

describe("SqliteCallStore's listing", () => {
  for (const [label, env, format] of [
    ["naive text in CALLS_TIME_ZONE", {}, pythonIsoformat],
    ["text with +00:00", { CALLS_TIME_ZONE: undefined }, (d: Date) => `${pythonIsoformat(d)}+00:00`],
  ] as const) {
    it(`pages in start order across page boundaries, ties included (${label})`, async () => {
      f = await appFile(env);
      // Five rows share one start to the microsecond (the fraction Python leaves out when it is 0 included).
      for (let i = 0; i < 5; i++) f.insert({ id: sid(100 + i), startedAt: format(at(60)) });
      f.insert({ id: sid(1), startedAt: format(at(0.5)) });
      f.insert({ id: "rtc_abc123", startedAt: format(at(30.25)) });
      f.insert({ id: sid(2), startedAt: format(at(61)) });
      f.insert({ id: sid(3), startedAt: format(at(1)), status: "completed", endedAt: format(at(2)) });
      f.insert({ id: sid(4), startedAt: format(at(2)), endedAt: format(at(3)) });
      f.insert({ id: sid(5), startedAt: format(at(3600)) });
      const store = f.store();
      const expected = [sid(1), "rtc_abc123", ...[100, 101, 102, 103, 104].map(sid), sid(2)];
      for (const size of [1, 2, 5, 7, 500]) {
        const rows = await listAll(store, at(120), size);
        expect(
          rows.map((r) => r.id),
          `page size ${size}`,
        ).toEqual(expected);
        expect(rows[0]?.startedAt).toEqual(at(0.5));
      }
      const [first, realtime] = await listAll(store, at(120), 500);
      // One column holds both providers' ids: each row goes to the provider its id's shape names.
      expect(first).toMatchObject({ twilioSid: sid(1), openaiId: null, sharedId: { owner: "twilio" } });
      expect(realtime).toMatchObject({
        twilioSid: null,
        openaiId: "rtc_abc123",
        sharedId: { owner: "openai" },
      });
      // The cutoff is respected to the second: a row started exactly at it is listed.
      expect((await listAll(store, at(60), 500)).map((r) => r.id)).toEqual(expected.slice(0, 7));
    });
  }

  it("lists an unparseable start with an Invalid Date, and says which rows are held", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: "2026-12-06T08:00:00" });
    f.insert({ id: sid(2), startedAt: "2026-12-06Tbroken" });
    f.insert({ id: sid(3), startedAt: "2026-12-06T08:00:01" });
    f.app
      .prepare(
        "INSERT INTO call_reconciler_holds (call_id, held_by, held_at, released_at) VALUES (?, 'hold:t', '2026-12-06T09:00:00.000Z', NULL), (?, 'hold:t', '2026-12-06T09:00:00.000Z', '2026-12-06T09:01:00.000Z')",
      )
      .run(sid(3), sid(1));
    const store = f.store();
    const page = await store.listActivePage(null, new Date("2026-12-07T00:00:00Z"), 10);
    // Compared raw, as text: the bad value sorts where its text does.
    expect(page.rows.map((r) => r.id)).toEqual([sid(1), sid(3), sid(2)]);
    expect(Number.isNaN(page.rows[2]?.startedAt.getTime())).toBe(true);
    expect(page.held).toEqual(new Set([sid(3)]));
    expect(await store.heldAmong([sid(1), sid(3)])).toEqual(new Set([sid(3)]));
    expect(await store.unparseableStarts()).toEqual({ count: 1, example: "2026-12-06Tbroken" });
    expect(await store.activeSummary()).toEqual({
      active: 3,
      oldestStartedAt: new Date("2026-12-06T08:00:00Z"),
    });
  });

  it("cuts each account's Twilio rows into equal shares by start", async () => {
    f = await appFile();
    for (let i = 0; i < 8; i++) f.insert({ id: sid(i), startedAt: pythonIsoformat(at(i * 10)) });
    f.insert({ id: "rtc_x", startedAt: pythonIsoformat(at(5)) });
    const shares = await f.store().activeStartShares(4);
    expect(shares).toEqual(new Map([[null, { rows: 8, cuts: [at(10), at(30), at(50)] }]]));
  });
});

describe("listingIndex", () => {
  it("the app's own start index does not serve the listing; the statement it advises does", async () => {
    f = await appFile();
    const store = f.store();
    const before = await store.listingIndex();
    expect(before).toEqual({
      usable: false,
      index: null,
      statement: `CREATE INDEX IF NOT EXISTS "call_reconciler_calls_active_idx" ON "calls" ("started_at", "call_id") WHERE "status" = 'active'`,
    });
    f.app.exec(before.statement);
    expect(await store.listingIndex()).toEqual({
      ...before,
      usable: true,
      index: "call_reconciler_calls_active_idx",
    });
  });

  it("sees an index another connection created after this one listed (the operator runs doctor's statement)", async () => {
    f = await appFile();
    for (let i = 0; i < 300; i++) {
      const done = i % 3 !== 0;
      f.insert({
        id: sid(i),
        startedAt: pythonIsoformat(at(i)),
        status: done ? "completed" : "active",
        endedAt: done ? pythonIsoformat(at(i + 60)) : null,
      });
    }
    const store = f.store();
    const before = await store.listingIndex();
    await store.listActivePage(null, at(1000), 100);
    const operator = new DatabaseSync(f.path);
    operator.exec(before.statement);
    operator.close();
    expect(await store.listingIndex()).toEqual({
      ...before,
      usable: true,
      index: "call_reconciler_calls_active_idx",
    });
  });

  it("each listing's first page asks again, so the gauge sees an index created while the daemon runs", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: pythonIsoformat(at(0)) });
    const heard: boolean[] = [];
    const store = f.store({ onListingIndex: (found) => heard.push(found.usable) });
    const first = await store.listActivePage(null, at(1000), 100);
    if (first.next !== null) await store.listActivePage(first.next, at(1000), 100);
    expect(heard).toEqual([false]);
    f.app.exec((await store.listingIndex()).statement);
    await store.listActivePage(null, at(1000), 100);
    expect(heard).toEqual([false, false, true]);
  });

  it("several active statuses: the statement compares each, the form the listing's parameters match", async () => {
    f = await appFile({ ACTIVE_STATUSES: "ringing,active" });
    const store = f.store();
    const { statement } = await store.listingIndex();
    expect(statement).toContain(`WHERE "status" = 'ringing' OR "status" = 'active'`);
    f.app.exec(statement);
    expect((await store.listingIndex()).usable).toBe(true);
    f.app.exec(
      `DROP INDEX call_reconciler_calls_active_idx; CREATE INDEX by_status ON calls (status, started_at)`,
    );
    expect(await store.listingIndex()).toMatchObject({ usable: true, index: "by_status" });
  });
});

describe("SqliteCallStore's ends", () => {
  async function listed(store: SqliteCallStore): Promise<ActiveCall[]> {
    return listAll(store, new Date("2026-12-07T00:00:00Z"), 100);
  }

  it("writes the end in the column's own format, the duration, and its audit and cause rows", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: "2026-12-06T08:00:00.123456" });
    f.insert({ id: "rtc_9", startedAt: "2026-12-06T08:01:00.000001" });
    const store = f.store();
    const [twilio, realtime] = await listed(store);
    const reqs = [
      endRequest(twilio as ActiveCall, { newStatus: "canceled" }),
      endRequest(realtime as ActiveCall, { source: "openai", durationSeconds: 12.0004, evidence: undefined }),
    ];
    expect(await store.endCalls(reqs)).toEqual({ ended: new Set([sid(1), "rtc_9"]), locked: new Set() });
    // STATUS_MAP canceled → cancelled; microseconds as the rows write them; REAL: to the millisecond.
    expect(rowOf(f, sid(1))).toEqual({
      call_id: sid(1),
      status: "cancelled",
      ended_at: "2026-12-06T08:01:01.357000",
      duration_seconds: 61.235,
    });
    expect(rowOf(f, "rtc_9")).toMatchObject({ status: "completed", duration_seconds: 12 });
    const actions = f.app
      .prepare(
        "SELECT call_id, previous_status, new_status, provider_status, ended_at, duration_seconds, previous_duration_seconds, source, evidence, outcome, forced FROM call_reconciler_actions ORDER BY id",
      )
      .all();
    expect(actions).toEqual([
      {
        call_id: sid(1),
        previous_status: "active",
        new_status: "cancelled",
        provider_status: "canceled",
        ended_at: "2026-12-06T08:01:01.357Z",
        duration_seconds: 61.235,
        previous_duration_seconds: null,
        source: "twilio",
        evidence: JSON.stringify({ twilio: { kind: "ended", direction: "outbound-api" } }),
        outcome: "ended",
        forced: 0,
      },
      expect.objectContaining({ call_id: "rtc_9", evidence: "null", source: "openai" }),
    ]);
    const causes = f.app
      .prepare(
        "SELECT call_id, cause, due_at, call_sid, direction FROM call_reconciler_causes ORDER BY call_id",
      )
      .all();
    expect(causes).toEqual([
      // Twilio's records of the call are readable 15 minutes after its end, or at once for an old end.
      {
        call_id: sid(1),
        cause: null,
        due_at: "2026-12-06T09:00:00.123Z",
        call_sid: sid(1),
        direction: "outbound-api",
      },
      { call_id: "rtc_9", cause: "openai", due_at: null, call_sid: null, direction: null },
    ]);
    // Level-triggered: the same batch again changes nothing and writes nothing.
    expect(await store.endCalls(reqs)).toEqual({ ended: new Set(), locked: new Set() });
    expect(count(f, "call_reconciler_actions")).toBe(2);
  });

  it("never overwrites a row the app ended meanwhile, by its end time or its status, nor a held one", async () => {
    f = await appFile();
    for (const n of [1, 2, 3, 4]) f.insert({ id: sid(n), startedAt: pythonIsoformat(at(n)) });
    const store = f.store();
    const calls = await listed(store);
    f.app.exec(`UPDATE calls SET ended_at = '2026-12-06T08:00:09.000001' WHERE call_id = '${sid(1)}'`);
    f.app.exec(`UPDATE calls SET status = 'completed' WHERE call_id = '${sid(2)}'`);
    f.app.exec(
      `INSERT INTO call_reconciler_holds (call_id, held_by, held_at) VALUES ('${sid(3)}', 'hold:t', '2026-12-06T09:00:00.000Z')`,
    );
    const result = await store.endCalls(calls.map((c) => endRequest(c)));
    expect(result).toEqual({ ended: new Set([sid(4)]), locked: new Set() });
    expect(rowOf(f, sid(1))).toMatchObject({ status: "active", ended_at: "2026-12-06T08:00:09.000001" });
    expect(rowOf(f, sid(2))).toMatchObject({ status: "completed", ended_at: null });
    expect(rowOf(f, sid(3))).toMatchObject({ status: "active", ended_at: null });
    expect(await store.endCall(endRequest(calls[1] as ActiveCall))).toBe("not_active");
    expect(count(f, "call_reconciler_actions")).toBe(1);
    expect(count(f, "call_reconciler_causes")).toBe(1);
  });

  it("a batch the table refuses (CHECK) throws RowRefusedError and writes nothing; the refusal is kept once", async () => {
    f = await appFile(
      {},
      (await import("../../src/dev/app-sqlite.js")).APP_SQLITE_DDL.replace(
        "status TEXT NOT NULL,",
        "status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'failed')),",
      ),
    );
    f.insert({ id: sid(1), startedAt: pythonIsoformat(at(1)) });
    f.insert({ id: sid(2), startedAt: pythonIsoformat(at(2)) });
    const store = f.store();
    const [ok, bad] = await listed(store);
    const reqs = [endRequest(ok as ActiveCall), endRequest(bad as ActiveCall, { newStatus: "canceled" })];
    const err = await store.endCalls(reqs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RowRefusedError);
    expect((err as RowRefusedError).code).toBe("SQLITE_275");
    expect(rowOf(f, sid(1))).toMatchObject({ status: "active", ended_at: null });
    expect(count(f, "call_reconciler_actions")).toBe(0);
    expect(count(f, "call_reconciler_causes")).toBe(0);
    // The pass then tries the rows alone and records the refusal once.
    expect(await store.refusedBefore(reqs)).toEqual(new Set());
    expect(await store.recordRefusal(reqs[1] as never, (err as Error).message)).toBe(true);
    expect(await store.recordRefusal(reqs[1] as never, (err as Error).message)).toBe(false);
    expect(await store.refusedBefore(reqs)).toEqual(new Set([sid(2)]));
    expect(await store.endCall(reqs[0] as never)).toBe("ended");
  });

  it("rolls the end back when its audit row cannot be written", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: pythonIsoformat(at(1)) });
    f.app.exec(`CREATE TRIGGER audit_full BEFORE INSERT ON call_reconciler_actions
      BEGIN SELECT RAISE(ABORT, 'audit trail full'); END`);
    const store = f.store();
    const [call] = await listed(store);
    await expect(store.endCalls([endRequest(call as ActiveCall)])).rejects.toThrow("audit trail full");
    expect(rowOf(f, sid(1))).toMatchObject({ status: "active", ended_at: null, duration_seconds: null });
    expect(count(f, "call_reconciler_causes")).toBe(0);
  });

  it("the app holding the write lock past the busy timeout: SqliteBusyError, nothing written", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: pythonIsoformat(at(1)) });
    const impatient = new SqliteFile(f.path, { busyTimeoutMs: 150 });
    const { SqliteCallStore } = await import("../../src/sqlite/store.js");
    const store = new SqliteCallStore(impatient, f.config.calls, f.config.activeStatuses);
    const [call] = await listed(store);
    const app = new DatabaseSync(f.path);
    app.exec("BEGIN IMMEDIATE");
    try {
      await expect(store.endCalls([endRequest(call as ActiveCall)])).rejects.toThrow(SqliteBusyError);
    } finally {
      app.exec("ROLLBACK");
      app.close();
      impatient.close();
    }
    expect(rowOf(f, sid(1))).toMatchObject({ status: "active", ended_at: null });
    expect(count(f, "call_reconciler_actions")).toBe(0);
  });
});

describe("the commands' view", () => {
  it("a forced store marks its audit rows; now is the host's clock; ping answers", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: pythonIsoformat(at(1)) });
    const now = new Date("2026-12-06T12:00:00Z");
    const store = f.store({ clock: () => now });
    expect(await store.now()).toEqual(now);
    f.insert({
      id: sid(2),
      startedAt: pythonIsoformat(at(0)),
      status: "completed",
      endedAt: "2026-12-06T11:59:59.999999",
    });
    f.insert({
      id: sid(3),
      startedAt: pythonIsoformat(at(0)),
      status: "completed",
      endedAt: "2026-12-06T12:00:01",
    });
    expect(await store.endedSince(now)).toBe(1);
    await expect(store.ping()).resolves.toBeUndefined();
    const forced = store.asForced();
    const [call] = (await forced.listActivePage(null, now, 10)).rows;
    expect(await forced.endCall(endRequest(call as ActiveCall))).toBe("ended");
    expect(f.app.prepare("SELECT forced, recorded_at FROM call_reconciler_actions").all()).toEqual([
      { forced: 1, recorded_at: now.toISOString() },
    ]);
  });
});

describe("an epoch table", () => {
  it("pages and ends on INTEGER epoch seconds, with a whole-second duration", async () => {
    f = await appFile(
      { CALLS_EPOCH_UNIT: "seconds", CALLS_TIME_ZONE: undefined },
      `CREATE TABLE calls (call_id INTEGER PRIMARY KEY, call_type TEXT, started_at INTEGER NOT NULL,
        ended_at INTEGER, duration_seconds INTEGER, status TEXT NOT NULL)`,
    );
    const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
    for (const n of [3, 1, 2, 10])
      f.app
        .prepare("INSERT INTO calls VALUES (?, 'in', ?, NULL, NULL, 'active')")
        .run(n, epoch(at(n === 10 ? 1 : 0)));
    const store = f.store();
    const rows = await listAll(store, at(5), 1);
    expect(rows.map((r) => [r.id, r.startedAt])).toEqual([
      ["1", at(0)],
      ["2", at(0)],
      ["3", at(0)],
      ["10", at(1)],
    ]);
    expect(await store.endCalls([endRequest(rows[3] as ActiveCall, { durationSeconds: 61.5 })])).toEqual({
      ended: new Set(["10"]),
      locked: new Set(),
    });
    expect(
      f.app.prepare("SELECT ended_at, duration_seconds, status FROM calls WHERE call_id = 10").get(),
    ).toEqual({
      ended_at: epoch(at(1)) + 61,
      duration_seconds: 62,
      status: "completed",
    });
  });
});

describe("sightings", () => {
  it("round-trip, and the last live one is the positive control; week-old ones are forgotten", async () => {
    f = await appFile();
    let now = new Date("2026-12-06T10:00:00Z");
    const store = f.store({ clock: () => now });
    expect(await store.sightings(["rtc_a"])).toEqual(new Map());
    expect(await store.lastLiveSighting()).toBeNull();
    const sightings = new Map([
      ["rtc_a", { firstGoneAt: new Date("2026-12-06T09:59:00.123Z"), lastLiveAt: null }],
      ["rtc_b", { firstGoneAt: null, lastLiveAt: new Date("2026-12-06T09:58:00Z") }],
    ]);
    await store.saveSightings(sightings);
    expect(await store.sightings(["rtc_a", "rtc_b", "rtc_c"])).toEqual(sightings);
    expect(await store.lastLiveSighting()).toEqual(new Date("2026-12-06T09:58:00Z"));
    await store.saveSightings(
      new Map([["rtc_b", { firstGoneAt: new Date("2026-12-06T10:00:00Z"), lastLiveAt: null }]]),
    );
    expect((await store.sightings(["rtc_b"])).get("rtc_b")).toEqual({
      firstGoneAt: new Date("2026-12-06T10:00:00Z"),
      lastLiveAt: null,
    });
    now = new Date("2026-12-14T10:00:00Z");
    expect(await store.lastLiveSighting()).toBeNull();
    expect(await store.sightings(["rtc_a"])).toEqual(new Map());
  });
});
