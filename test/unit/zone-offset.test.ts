/** Offsets read once per hour must equal the zone's at every instant, across transitions too. */
import { describe, expect, it } from "vitest";
import { instantOf, offsetMinutesAt } from "../../src/time/zone-offset.js";

const MINUTE = 60_000;

describe("offsetMinutesAt", () => {
  it("is exact minute by minute around a spring-forward and a fall-back (Europe/Berlin, 2026)", () => {
    const forward = Date.UTC(2026, 2, 29, 1, 0); // 02:00 CET becomes 03:00 CEST
    const back = Date.UTC(2026, 9, 25, 1, 0); // 03:00 CEST becomes 02:00 CET
    for (let t = forward - 120 * MINUTE; t < forward + 120 * MINUTE; t += MINUTE)
      expect(offsetMinutesAt("Europe/Berlin", t), new Date(t).toISOString()).toBe(t < forward ? 60 : 120);
    for (let t = back - 120 * MINUTE; t < back + 120 * MINUTE; t += MINUTE)
      expect(offsetMinutesAt("Europe/Berlin", t), new Date(t).toISOString()).toBe(t < back ? 120 : 60);
  });

  it("handles a transition that is not on the hour (Australia/Lord_Howe moves by 30 minutes)", () => {
    // 2026-04-05 02:00 local (+11:00) becomes 01:30 (+10:30): 2026-04-04T15:00Z.
    const back = Date.UTC(2026, 3, 4, 15, 0);
    for (let t = back - 90 * MINUTE; t < back + 90 * MINUTE; t += MINUTE)
      expect(offsetMinutesAt("Australia/Lord_Howe", t)).toBe(t < back ? 660 : 630);
    // 2026-10-04 02:00 local (+10:30) becomes 02:30 (+11:00): 2026-10-03T15:30Z, in the middle of a UTC hour.
    const forward = Date.UTC(2026, 9, 3, 15, 30);
    for (let t = forward - 90 * MINUTE; t < forward + 90 * MINUTE; t += MINUTE)
      expect(offsetMinutesAt("Australia/Lord_Howe", t), new Date(t).toISOString()).toBe(
        t < forward ? 630 : 660,
      );
  });

  it("answers the same the second time as the first (the cached hour)", () => {
    const t = Date.UTC(2026, 11, 6, 3, 4, 5, 123);
    expect(offsetMinutesAt("Asia/Kolkata", t)).toBe(330);
    expect(offsetMinutesAt("Asia/Kolkata", t + 1000)).toBe(330);
    expect(offsetMinutesAt("UTC", t)).toBe(0);
    expect(instantOf("Asia/Kolkata", t + 330 * MINUTE)).toBe(t);
  });
});
