/**
 * The README's worked mapping (step 2) is what an operator copies for a table unlike the default: the settings
 * it shows must load, and fit the table it shows, or the first thing they try fails at start-up.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, mapStatus } from "../../src/config/config.js";
import { END_STATUSES } from "../../src/model/index.js";
import { readDoc, sqlBlockUnder } from "../helpers/markdown.js";

const README = readDoc("README.md");
const STEP = README.slice(README.search(/^### 2\. Map your table/m));
const TABLE_SQL = sqlBlockUnder(STEP, "Map your table");
/** The `export NAME=value` assignments of the step's shell block. */
const SETTINGS = Object.fromEntries(
  [...(/```sh\n([\s\S]*?)```/.exec(STEP)?.[1] ?? "").matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]),
);
const ENUM_VALUES = [...(/AS ENUM\s*\(([^)]*)\)/.exec(TABLE_SQL)?.[1] ?? "").matchAll(/'([^']+)'/g)].map(
  (m) => m[1],
);

describe("the README's worked mapping", () => {
  const config = loadConfig({ DATABASE_URL: "postgres://reconciler:secret@db:5432/app", ...SETTINGS });

  it("loads, and maps a table other than the default", () => {
    expect(config.calls.table).toBe("telephony.PhoneCalls");
    expect(config.calls.status).not.toBe("status");
  });

  it("names columns the table it shows has, spelt as it spells them", () => {
    const {
      table: _table,
      timeZone: _tz,
      epochUnit: _unit,
      twilioAccount: _account,
      duration: _duration,
      daemonSchema: _schema,
      ...columns
    } = config.calls;
    for (const column of Object.values(columns)) expect(TABLE_SQL).toContain(`"${column}"`);
  });

  it("writes only values the enum has, and its live values are the enum's", () => {
    expect(ENUM_VALUES.length).toBeGreaterThan(0);
    for (const status of END_STATUSES) expect(ENUM_VALUES).toContain(mapStatus(config.statusMap, status));
    for (const status of config.activeStatuses) expect(ENUM_VALUES).toContain(status);
  });

  it("indexes the listing with the active statuses it configures", () => {
    const index = /CREATE INDEX[\s\S]*?WHERE[^;]*/.exec(
      STEP.slice(STEP.indexOf(TABLE_SQL) + TABLE_SQL.length),
    );
    for (const status of config.activeStatuses) expect(index?.[0]).toContain(`'${status}'`);
  });
});
