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

  // The tz database's names without a slash are links PostgreSQL and the runtime both resolve, none of them an
  // abbreviation PostgreSQL would read otherwise (GMT, UCT and Zulu are abbreviations there too, all of UTC).
  it.each([
    "GMT",
    "Etc/UTC",
    "UCT",
    "Zulu",
    "Universal",
    "Greenwich",
    "GMT0",
    "GMT+0",
    "GB",
    "GB-Eire",
    "NZ-CHAT",
    "Japan",
    "PRC",
    "W-SU",
    "EST5EDT",
    "US/Eastern",
    "gmt",
  ])("accepts the IANA link %j", (zone) => {
    expect(loadConfig({ CALLS_TIME_ZONE: zone }).calls.timeZone).toBe(zone);
  });

  // IST is India for ICU but Israel for PostgreSQL; CET has summer time in the tz database but not in
  // PostgreSQL's abbreviations; "+05:30" is read by PostgreSQL with its sign inverted.
  it.each([
    "IST",
    "CET",
    "EST",
    "est",
    // tz database zones that PostgreSQL reads first as a fixed-offset abbreviation, without their summer time
    "EET",
    "WET",
    "MET",
    "HST",
    "MST",
    // the runtime's own legacy names, in no tz database
    "PST",
    "JST",
    "BST",
    "Factory",
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
