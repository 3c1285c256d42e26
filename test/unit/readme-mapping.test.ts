/**
 * The README's worked mappings (step 2) are what an operator copies for a table unlike the default: the
 * settings each shows must load, and fit the table it shows, or the first thing they try fails at start-up.
 * The first is the table a small Python app creates for itself (text times, one id column, a duration, its
 * own words); the second a camelCase table with an enum status.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, mapStatus } from "../../src/config/config.js";
import { APP_CALLS_TABLE_SQL, APP_TABLE_SETTINGS } from "../../src/dev/app-table.js";
import { END_STATUSES } from "../../src/model/index.js";
import { readDoc } from "../helpers/markdown.js";

const README = readDoc("README.md");
const STEP = README.slice(README.search(/^### 2\. Map your table/m), README.search(/^### 3\. /m));
const blocks = (lang: string) =>
  [...STEP.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1] ?? "");
const [APP_SQL = "", ENUM_SQL = "", INDEX_SQL = ""] = blocks("sql");
const [APP_SH = "", ENUM_SH = ""] = blocks("sh");
/** The `export NAME=value` assignments of a shell block. */
const settingsOf = (sh: string) =>
  Object.fromEntries([...sh.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
const URL = { DATABASE_URL: "postgres://reconciler:secret@db:5432/app" };

/** The mapped column names of a config (the settings that are not columns left out). */
function columnsOf(config: ReturnType<typeof loadConfig>): string[] {
  const {
    table: _table,
    timeZone: _tz,
    epochUnit: _unit,
    twilioAccount: _account,
    daemonSchema: _schema,
    ...columns
  } = config.calls;
  return Object.values(columns).filter((c): c is string => typeof c === "string");
}

describe("the README's first worked mapping: the app's own table, as it is", () => {
  const config = loadConfig({ ...URL, ...settingsOf(APP_SH) });

  it("is the app table the demo and the tests reconcile, mapped with the same settings", () => {
    for (const [name, value] of Object.entries(settingsOf(APP_SH)))
      expect(APP_TABLE_SETTINGS[name]).toBe(value);
    for (const column of columnsOf(config)) {
      expect(APP_SQL).toMatch(new RegExp(`\\b${column} [A-Z]+`));
      expect(APP_CALLS_TABLE_SQL).toMatch(new RegExp(`\\b${column} [A-Z]+`));
    }
  });

  it("shares one id column between the providers, writes the duration and reads naive text in UTC", () => {
    expect(config.calls.twilioSid).toBe(config.calls.id);
    expect(config.calls.openaiId).toBe(config.calls.id);
    expect(config.calls.duration).toBe("duration_seconds");
    expect(config.calls.timeZone).toBe("UTC");
  });

  it("writes only the words the table's comment says its finished rows carry", () => {
    const words = [...(/'active', then ([^\n]*)/.exec(APP_SQL)?.[1] ?? "").matchAll(/'([^']+)'/g)].map(
      (m) => m[1],
    );
    expect(words.length).toBeGreaterThan(0);
    for (const status of END_STATUSES) expect(words).toContain(mapStatus(config.statusMap, status));
  });

  it("indexes its listing", () => {
    expect(INDEX_SQL).toMatch(/ON calls \(started_at, call_id\) WHERE status = 'active'/);
  });
});

describe("the README's second worked mapping: camelCase and an enum", () => {
  const config = loadConfig({ ...URL, ...settingsOf(ENUM_SH) });
  const ENUM_VALUES = [...(/AS ENUM\s*\(([^)]*)\)/.exec(ENUM_SQL)?.[1] ?? "").matchAll(/'([^']+)'/g)].map(
    (m) => m[1],
  );

  it("loads, and maps a table other than the default", () => {
    expect(config.calls.table).toBe("telephony.PhoneCalls");
    expect(config.calls.status).not.toBe("status");
  });

  it("names columns the table it shows has, spelt as it spells them", () => {
    for (const column of columnsOf(config)) expect(ENUM_SQL).toContain(`"${column}"`);
  });

  it("writes only values the enum has, and its live values are the enum's", () => {
    expect(ENUM_VALUES.length).toBeGreaterThan(0);
    for (const status of END_STATUSES) expect(ENUM_VALUES).toContain(mapStatus(config.statusMap, status));
    for (const status of config.activeStatuses) expect(ENUM_VALUES).toContain(status);
  });

  it("indexes the listing with the active statuses it configures", () => {
    const index = /CREATE INDEX[^;]*PhoneCalls[^;]*/.exec(INDEX_SQL);
    for (const status of config.activeStatuses) expect(index?.[0]).toContain(`'${status}'`);
  });
});
