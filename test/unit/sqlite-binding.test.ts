import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { APP_TABLE_SETTINGS } from "../../src/dev/app-table.js";
import { SchemaMismatchError } from "../../src/model/index.js";
import { checkBinding } from "../../src/sqlite/binding.js";
import { type AppFile, appFile } from "../helpers/sqlite-app.js";

let f: AppFile | undefined;
afterEach(() => {
  f?.close();
  f = undefined;
});

const clock = () => new Date("2026-12-06T10:00:00.123Z");

describe("the binding of the file's state to one calls table", () => {
  it("is unbound until asked to bind, then bound to the table as the file spells it", async () => {
    f = await appFile();
    expect(await checkBinding(f.file, f.config.calls, { bind: false })).toEqual({
      table: { schema: "main", name: "calls" },
      boundAt: null,
      boundNow: false,
    });
    expect(await checkBinding(f.file, f.config.calls, { bind: true, clock })).toEqual({
      table: { schema: "main", name: "calls" },
      boundAt: clock(),
      boundNow: true,
    });
    // The same table spelt otherwise is the same table.
    const spelt = loadConfig({ ...APP_TABLE_SETTINGS, CALLS_TABLE: "main.CALLS" }).calls;
    expect(await checkBinding(f.file, spelt, { bind: true })).toEqual({
      table: { schema: "main", name: "calls" },
      boundAt: clock(),
      boundNow: false,
    });
  });

  it("refuses another table of the file in one line with the fix", async () => {
    f = await appFile();
    await checkBinding(f.file, f.config.calls, { bind: true });
    f.app.exec("CREATE TABLE calls_copy AS SELECT * FROM calls");
    const copy = loadConfig({ ...APP_TABLE_SETTINGS, CALLS_TABLE: "calls_copy" }).calls;
    const err = await checkBinding(f.file, copy, { bind: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    const message = (err as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toContain(
      "holds the daemon's state (holds, sightings, audit trail) of main.calls, not of main.calls_copy",
    );
    expect(message).toContain(`UPDATE call_reconciler_binding SET calls_table = 'calls_copy'`);
  });

  it("asks for migrate when the file has no daemon tables, and names a missing table", async () => {
    f = await appFile();
    f.app.exec("DROP TABLE call_reconciler_binding");
    await expect(checkBinding(f.file, f.config.calls, { bind: false })).rejects.toThrow(
      /call_reconciler_binding\) are missing in the SQLite file .*: run `call-reconciler migrate` first/,
    );
    const missing = loadConfig({ ...APP_TABLE_SETTINGS, CALLS_TABLE: "phone_calls" }).calls;
    await expect(checkBinding(f.file, missing, { bind: false })).rejects.toThrow(
      "CALLS_TABLE: table phone_calls does not exist in the SQLite file",
    );
  });
});
