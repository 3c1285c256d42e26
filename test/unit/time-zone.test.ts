import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

describe("CALLS_TIME_ZONE", () => {
  it("is unset by default, and blank means unset", () => {
    expect(loadConfig({}).calls.timeZone).toBeUndefined();
    expect(loadConfig({ CALLS_TIME_ZONE: "  " }).calls.timeZone).toBeUndefined();
  });

  it.each(["UTC", "Asia/Kolkata", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", " UTC "])(
    "accepts the IANA name %j",
    (zone) => {
      expect(loadConfig({ CALLS_TIME_ZONE: zone }).calls.timeZone).toBe(zone.trim());
    },
  );

  // IST is India for ICU but Israel for PostgreSQL; CET has summer time in the tz database but not in
  // PostgreSQL's abbreviations; "+05:30" is read by PostgreSQL with its sign inverted.
  it.each([
    "IST",
    "CET",
    "EST",
    "+05:30",
    "-03",
    "UTC+1",
    "Mars/Olympus_Mons",
    "Asia/Kolkata; DROP TABLE calls",
  ])("refuses %j with one line naming CALLS_TIME_ZONE", (zone) => {
    let err: unknown;
    try {
      loadConfig({ CALLS_TIME_ZONE: zone });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^CALLS_TIME_ZONE must be UTC or an IANA time zone name/);
    expect((err as Error).message).not.toContain("\n");
  });
});
