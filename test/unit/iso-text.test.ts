import { describe, expect, it } from "vitest";
import {
  detectShape,
  fallbackShape,
  formatIso,
  type IsoShape,
  parseIsoInstant,
  parseIsoShape,
} from "../../src/time/iso-text.js";
import { epochTime, textTime } from "../../src/time/raw-time.js";
import { instantOf, wallOf } from "../../src/time/zone-offset.js";

const iso = (d: Date) => (Number.isNaN(d.getTime()) ? "invalid" : d.toISOString());

describe("parseIsoInstant", () => {
  it.each([
    // Python's datetime.utcnow().isoformat(), naive, read in CALLS_TIME_ZONE.
    ["2026-12-06T03:04:05.123456", "UTC", "2026-12-06T03:04:05.123Z"],
    ["2026-12-06T03:04:05", "UTC", "2026-12-06T03:04:05.000Z"],
    ["2026-12-06 03:04:05.5", "UTC", "2026-12-06T03:04:05.500Z"],
    ["2026-12-06T03:04", "UTC", "2026-12-06T03:04:00.000Z"],
    ["2026-12-06T03:04:05.123456789", "UTC", "2026-12-06T03:04:05.123Z"],
    ["2026-12-06T08:34:05", "Asia/Kolkata", "2026-12-06T03:04:05.000Z"],
    // A fall-back hour's repeated wall time: the later instant (standard time), as PostgreSQL's AT TIME ZONE.
    ["2026-11-01T01:30:00", "America/New_York", "2026-11-01T06:30:00.000Z"],
    // A spring-forward gap's wall time: read with the offset before the gap, as PostgreSQL does.
    ["2026-03-08T02:30:00", "America/New_York", "2026-03-08T07:30:00.000Z"],
    // An offset wins over the zone.
    ["2026-12-06T03:04:05Z", "Asia/Kolkata", "2026-12-06T03:04:05.000Z"],
    ["2026-12-06T03:04:05+00:00", undefined, "2026-12-06T03:04:05.000Z"],
    ["2026-12-06T08:34:05.25+05:30", undefined, "2026-12-06T03:04:05.250Z"],
    ["2026-12-05T22:04:05-0500", undefined, "2026-12-06T03:04:05.000Z"],
    ["2026-12-06T05:04:05+02", undefined, "2026-12-06T03:04:05.000Z"],
    ["2024-02-29T00:00:00Z", undefined, "2024-02-29T00:00:00.000Z"],
    // A wall time without a zone names no instant.
    ["2026-12-06T03:04:05", undefined, "invalid"],
    // Not of the strict shape, or no such date or time.
    ["2026-12-06", "UTC", "invalid"],
    ["2026-12-06T3:04:05", "UTC", "invalid"],
    ["2026-12-06T03:04:05.", "UTC", "invalid"],
    ["2026-12-06t03:04:05", "UTC", "invalid"],
    ["2026-12-06T03:04:05 ", "UTC", "invalid"],
    [" 2026-12-06T03:04:05", "UTC", "invalid"],
    ["2026-12-06T03:04:05+5", "UTC", "invalid"],
    ["2026-12-06T03:04:05+24:00", "UTC", "invalid"],
    ["2026-02-29T00:00:00", "UTC", "invalid"],
    ["2026-13-01T00:00:00", "UTC", "invalid"],
    ["2026-12-06T24:00:00", "UTC", "invalid"],
    ["2026-12-06T23:60:00", "UTC", "invalid"],
    ["2026-12-06T23:59:60", "UTC", "invalid"],
    ["0000-01-01T00:00:00", "UTC", "invalid"],
    ["1765000000", "UTC", "invalid"],
    ["not a time", "UTC", "invalid"],
    ["", "UTC", "invalid"],
    [null, "UTC", "invalid"],
  ])("%j in %s → %s", (text, zone, expected) => {
    expect(iso(parseIsoInstant(text, zone))).toBe(expected);
  });
});

const naive6: IsoShape = { separator: "T", fraction: 6, seconds: true, offset: { kind: "none" } };

describe("formatIso", () => {
  const at = new Date("2026-12-06T03:04:05.123Z");
  it.each<[IsoShape, string | undefined, string]>([
    [naive6, "UTC", "2026-12-06T03:04:05.123000"],
    [naive6, "Asia/Kolkata", "2026-12-06T08:34:05.123000"],
    [{ ...naive6, separator: " ", fraction: 0 }, "UTC", "2026-12-06 03:04:05"],
    [{ ...naive6, fraction: 2 }, "UTC", "2026-12-06T03:04:05.12"],
    [{ ...naive6, fraction: 0, seconds: false }, "UTC", "2026-12-06T03:04"],
    [{ ...naive6, fraction: 3, offset: { kind: "Z" } }, undefined, "2026-12-06T03:04:05.123Z"],
    [
      { ...naive6, offset: { kind: "numeric", minutes: 0, style: "colon" } },
      undefined,
      "2026-12-06T03:04:05.123000+00:00",
    ],
    [
      { ...naive6, fraction: 0, offset: { kind: "numeric", minutes: -300, style: "compact" } },
      "Asia/Kolkata",
      "2026-12-05T22:04:05-0500",
    ],
    [
      { ...naive6, fraction: 0, offset: { kind: "numeric", minutes: 120, style: "hour" } },
      undefined,
      "2026-12-06T05:04:05+02",
    ],
  ])("%j in %s → %s", (shape, zone, expected) => {
    const text = formatIso(at, shape, zone);
    expect(text).toBe(expected);
    // What it writes reads back as the same instant (to the shape's precision).
    if (shape.fraction >= 3) expect(iso(parseIsoInstant(text, zone))).toBe(at.toISOString());
  });

  it("refuses to write a wall time without a zone", () => {
    expect(() => formatIso(at, naive6, undefined)).toThrow(/CALLS_TIME_ZONE/);
  });
});

describe("detectShape", () => {
  it.each<[string, string[], IsoShape | null]>([
    [
      "Python naive isoformat: the fraction it leaves out at microsecond 0 is not the format",
      ["2026-12-06T03:04:05.123456", "2026-12-06T03:04:06", "2026-12-06T03:04:07.000001"],
      naive6,
    ],
    [
      "space separated, no fraction",
      ["2026-12-06 03:04:05", "2026-12-06 03:04:06"],
      {
        ...naive6,
        separator: " ",
        fraction: 0,
      },
    ],
    [
      "the separator and offset most rows use",
      ["2026-12-06T03:04:05.123Z", "2026-12-06T03:04:05.124Z", "2026-12-06 03:04:05+00:00"],
      { separator: "T", fraction: 3, seconds: true, offset: { kind: "Z" } },
    ],
    [
      "+00:00",
      ["2026-12-06T03:04:05.123456+00:00", "2026-12-06T03:04:05+00:00"],
      { ...naive6, offset: { kind: "numeric", minutes: 0, style: "colon" } },
    ],
    ["minutes only", ["2026-12-06T03:04"], { ...naive6, fraction: 0, seconds: false }],
    ["values that do not parse are left out", ["garbage", "2026-12-06T03:04:05"], { ...naive6, fraction: 0 }],
    ["nothing parses", ["garbage", ""], null],
    ["no values", [], null],
  ])("%s", (_, samples, expected) => {
    expect(detectShape(samples)).toEqual(expected);
  });

  it("falls back to Python's naive format in CALLS_TIME_ZONE, or +00:00 without one", () => {
    expect(fallbackShape("UTC")).toEqual(naive6);
    expect(formatIso(new Date("2026-12-06T03:04:05Z"), fallbackShape(undefined), undefined)).toBe(
      "2026-12-06T03:04:05.000000+00:00",
    );
  });
});

describe("wall times in a zone", () => {
  it.each([
    ["UTC", "2026-07-01T12:00:00Z", "2026-07-01T12:00:00Z"],
    ["Europe/Berlin", "2026-07-01T12:00:00Z", "2026-07-01T14:00:00Z"],
    ["Europe/Berlin", "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"],
    ["Asia/Kolkata", "2026-01-01T00:00:00.250Z", "2026-01-01T05:30:00.250Z"],
    ["America/St_Johns", "2026-01-01T00:00:00Z", "2025-12-31T20:30:00Z"],
  ])("%s: %s shows %s, and back", (zone, instant, wall) => {
    const at = Date.parse(instant);
    expect(new Date(wallOf(zone, at)).toISOString()).toBe(new Date(wall).toISOString());
    expect(new Date(instantOf(zone, Date.parse(wall))).toISOString()).toBe(new Date(at).toISOString());
  });
});

describe("raw columns", () => {
  it.each([
    ["seconds", "1765000000", "2025-12-06T05:46:40.000Z"],
    ["seconds", "1765000000.5", "2025-12-06T05:46:40.500Z"],
    ["milliseconds", "1765000000123", "2025-12-06T05:46:40.123Z"],
    ["seconds", "", "invalid"],
    ["seconds", "x", "invalid"],
    ["milliseconds", null, "invalid"],
    ["seconds", "1e300", "invalid"],
  ] as const)("epoch %s: %j → %s", (unit, raw, expected) => {
    expect(iso(epochTime(unit).parse(raw))).toBe(expected);
  });

  it("writes an epoch as a whole number of its unit, and knows what it wrote", () => {
    const at = new Date("2025-12-06T05:46:40.987Z");
    expect(epochTime("seconds").format(at)).toBe("1765000000");
    expect(epochTime("milliseconds").format(at)).toBe("1765000000987");
    expect(epochTime("seconds").wrote("1765000000", at)).toBe(true);
    expect(epochTime("seconds").wrote("1765000000.000", at)).toBe(true);
    expect(epochTime("seconds").wrote("1765000001", at)).toBe(false);
    expect(epochTime("seconds").wrote("", at)).toBe(false);
  });

  it("recognises the text an end wrote, in the value's own format", () => {
    const at = new Date("2026-12-06T03:04:05.123Z");
    const time = textTime(naive6, "UTC");
    expect(time.format(at)).toBe("2026-12-06T03:04:05.123000");
    expect(time.wrote("2026-12-06T03:04:05.123000", at)).toBe(true);
    expect(time.wrote("2026-12-06T03:04:05.123", at)).toBe(true);
    expect(time.wrote("2026-12-06T03:04:05.124000", at)).toBe(false);
    expect(time.wrote("2026-12-06T03:04:05.123000Z", at)).toBe(true);
    expect(time.wrote("garbage", at)).toBe(false);
    expect(textTime(naive6, undefined).wrote("2026-12-06T03:04:05.123000", at)).toBe(false);
  });
});

it("a shape parsed is the shape formatted (to the millisecond a Date holds)", () => {
  for (const text of ["2026-12-06T03:04:05.123000", "2026-12-06 03:04", "2026-12-06T03:04:05.1-0330"]) {
    const parsed = parseIsoShape(text);
    expect(parsed).not.toBeNull();
    if (parsed === null) continue;
    expect(formatIso(parseIsoInstant(text, "UTC"), parsed.shape, "UTC")).toBe(text);
  }
});
