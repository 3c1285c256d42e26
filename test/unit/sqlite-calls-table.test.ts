import { afterEach, describe, expect, it } from "vitest";
import { SchemaMismatchError } from "../../src/model/index.js";
import { affinityOf } from "../../src/sqlite/calls-table.js";
import { sqliteTableName } from "../../src/sqlite/table-name.js";
import { type AppFile, appFile } from "../helpers/sqlite-app.js";
import { APP_MAPPING } from "../helpers/sqlite-app-file.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

describe("the calls table's shape in a SQLite file", () => {
  it("names the table bare or as main.name, and refuses another schema in one line", () => {
    expect(sqliteTableName({ ...APP_MAPPING, table: "calls" }).name).toBe("calls");
    expect(sqliteTableName({ ...APP_MAPPING, table: "main.calls" }).name).toBe("calls");
    expect(() => sqliteTableName({ ...APP_MAPPING, table: "telephony.calls" })).toThrow(SchemaMismatchError);
    expect(() => sqliteTableName({ ...APP_MAPPING, table: "telephony.calls" })).toThrow(
      /CALLS_TABLE=telephony\.calls.*main\.calls/,
    );
  });

  it("reads the app's table: naive ISO text in CALLS_TIME_ZONE, a REAL duration to the millisecond", async () => {
    f = await appFile();
    f.insert({ id: "CA1", startedAt: "2026-12-06T10:15:03.123456" });
    const shape = await f.store().shape();
    expect(shape).toMatchObject({
      name: "calls",
      quoted: '"main"."calls"',
      durationWhole: false,
      provisional: false,
    });
    expect(shape.started.format(new Date("2026-12-06T11:00:00.5Z"))).toBe("2026-12-06T11:00:00.500000");
    expect(shape.ended.format(new Date("2026-12-06T11:00:00Z"))).toBe("2026-12-06T11:00:00.000000");
  });

  it("an empty table is written in the fallback shape, and read again once it has rows", async () => {
    f = await appFile({ CALLS_TIME_ZONE: undefined });
    const store = f.store();
    expect((await store.shape()).started.format(new Date("2026-12-06T11:00:00Z"))).toBe(
      "2026-12-06T11:00:00.000000+00:00",
    );
    f.insert({ id: "CA1", startedAt: "2026-12-06T10:15:03+00:00" });
    expect((await store.shape()).started.format(new Date("2026-12-06T11:00:00.25Z"))).toBe(
      "2026-12-06T11:00:00+00:00",
    );
  });

  it("naive text without CALLS_TIME_ZONE is refused in one line naming the setting and a value", async () => {
    f = await appFile({ CALLS_TIME_ZONE: undefined });
    f.insert({ id: "CA1", startedAt: "2026-12-06T10:15:03.123456" });
    const err = await f
      .store()
      .shape()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect(String((err as Error).message)).toMatch(
      /^CALLS_COL_STARTED_AT \(calls\.started_at\): text such as "2026-12-06T10:15:03\.123456" holds no time zone; set CALLS_TIME_ZONE/,
    );
  });

  it("a missing table or column is named with its setting and the closest name", async () => {
    f = await appFile({ CALLS_TABLE: "call", CALLS_COL_STATUS: "state" });
    await expect(f.store().shape()).rejects.toThrow(
      /^CALLS_TABLE: table call does not exist.*CALLS_TABLE=calls\?/,
    );
    f.close();
    f = await appFile({ CALLS_COL_STATUS: "statuss", CALLS_COL_DURATION: "duration" });
    await expect(f.store().shape()).rejects.toThrow(
      'CALLS_COL_STATUS: table calls has no column "statuss"; did you mean CALLS_COL_STATUS=status?; CALLS_COL_DURATION: table calls has no column "duration"',
    );
  });

  it("epoch columns need CALLS_EPOCH_UNIT; an INTEGER duration takes whole seconds; BLOB times are refused", async () => {
    const ddl = `CREATE TABLE calls (call_id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER,
      status TEXT NOT NULL, duration_seconds INTEGER, raw_time BLOB)`;
    f = await appFile({}, ddl);
    await expect(f.store().shape()).rejects.toThrow(
      "CALLS_COL_STARTED_AT (calls.started_at) is INTEGER and CALLS_COL_ENDED_AT (calls.ended_at) is INTEGER: set CALLS_EPOCH_UNIT",
    );
    f.close();
    f = await appFile({ CALLS_EPOCH_UNIT: "seconds" }, ddl);
    const shape = await f.store().shape();
    expect(shape.durationWhole).toBe(true);
    expect(shape.started.format(new Date("2026-12-06T11:00:00.9Z"))).toBe("1796554800");
    f.close();
    f = await appFile({ CALLS_EPOCH_UNIT: "seconds", CALLS_COL_ENDED_AT: "raw_time" }, ddl);
    await expect(f.store().shape()).rejects.toThrow(
      /^CALLS_COL_ENDED_AT \(calls\.raw_time\) is declared BLOB/,
    );
  });

  it("a DATETIME column holding Python's ISO text is read as text; a TEXT duration is refused", async () => {
    const ddl = `CREATE TABLE calls (call_id TEXT PRIMARY KEY, started_at DATETIME NOT NULL, ended_at DATETIME,
      status TEXT NOT NULL, duration_seconds TEXT)`;
    f = await appFile({ CALLS_COL_DURATION: undefined }, ddl);
    f.app.exec("INSERT INTO calls VALUES ('CA1', '2026-12-06 10:15:03.123456', NULL, 'active', NULL)");
    expect((await f.store().shape()).started.format(new Date("2026-12-06T11:00:00Z"))).toBe(
      "2026-12-06 11:00:00.000000",
    );
    f.close();
    f = await appFile({}, ddl);
    await expect(f.store().shape()).rejects.toThrow(
      /^CALLS_COL_DURATION \(calls\.duration_seconds\) is declared TEXT, not a number of seconds/,
    );
  });

  it("knows SQLite's affinity rules", () => {
    expect(
      ["INTEGER", "BIGINT", "TEXT", "VARCHAR(20)", "", "BLOB", "REAL", "DOUBLE", "DATETIME", "NUMERIC"].map(
        affinityOf,
      ),
    ).toEqual(["integer", "integer", "text", "text", "blob", "blob", "real", "real", "numeric", "numeric"]);
  });
});
