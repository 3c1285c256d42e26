import { afterEach, describe, expect, it } from "vitest";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { openSqlite } from "../../src/sqlite/database.js";
import { type AppFile, appFile, sid } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

async function open(file: AppFile) {
  const target = file.config.database;
  if (target?.kind !== "sqlite") throw new Error("the helper's config names no SQLite file");
  return openSqlite(file.config, target);
}

describe("the SQLite database's start-up warning on the status column", () => {
  it("says so when no row holds an active status, naming what the column holds", async () => {
    f = await appFile();
    f.insert({ id: sid(1), startedAt: pythonIsoformat(new Date()), status: "in_call" });
    const database = await open(f);
    expect(await database.statusColumnWarning()).toBe(
      'CALLS_COL_STATUS=status holds none of ACTIVE_STATUSES (active) in any row of calls; it holds "in_call": check CALLS_COL_STATUS and ACTIVE_STATUSES',
    );
    await database.close();
  });

  it("is silent for an empty table and for one with an active row", async () => {
    f = await appFile();
    const database = await open(f);
    expect(await database.statusColumnWarning()).toBeNull();
    f.insert({ id: sid(2), startedAt: pythonIsoformat(new Date()) });
    expect(await database.statusColumnWarning()).toBeNull();
    await database.close();
  });
});
