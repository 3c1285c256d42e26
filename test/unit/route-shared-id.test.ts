import { describe, expect, it } from "vitest";
import { type ActiveCall, type IdOwner, idOwner, routeSharedId } from "../../src/model/index.js";

const SID = `CA${"0123456789abcdef".repeat(2)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";

/** Whose id each value is, by its shape alone. */
const owners: [value: string, owner: IdOwner][] = [
  [SID, "twilio"],
  [`CA${"ABCDEF0123456789".repeat(2)}`, "twilio"],
  [RTC, "openai"],
  ["rtc_x", "openai"],
  [`rtc_${"a".repeat(200)}`, "openai"],
  // Near misses: of neither shape, so asked of nobody.
  [`CA${"0".repeat(31)}`, "neither"],
  [`CA${"0".repeat(33)}`, "neither"],
  [`CA${"g".repeat(32)}`, "neither"],
  [`ca${"0".repeat(32)}`, "neither"],
  [`AC${"0".repeat(32)}`, "neither"],
  [` ${SID}`, "neither"],
  ["rtc_", "neither"],
  ["rtc_with space", "neither"],
  [`rtc_${"a".repeat(201)}`, "neither"],
  ["RTC_abc", "neither"],
  ["sess_abc", "neither"],
  ["550e8400-e29b-41d4-a716-446655440000", "neither"],
  ["", "neither"],
];

const row = (value: string | null): ActiveCall => ({
  id: "call-1",
  twilioSid: value,
  openaiId: value,
  twilioAccount: null,
  status: "active",
  startedAt: new Date("2026-11-25T12:00:00Z"),
});

describe("idOwner", () => {
  it.each(owners)("%j is %s's", (value, owner) => {
    expect(idOwner(value)).toBe(owner);
  });
});

describe("routeSharedId", () => {
  const cases: [name: string, value: string | null, expected: Partial<ActiveCall>][] = [
    [
      "a Call SID goes to Twilio only",
      SID,
      { twilioSid: SID, openaiId: null, sharedId: { value: SID, owner: "twilio" } },
    ],
    [
      "a realtime id goes to OpenAI only",
      RTC,
      { twilioSid: null, openaiId: RTC, sharedId: { value: RTC, owner: "openai" } },
    ],
    [
      "an id of neither shape goes to nobody, and is kept to be shown",
      "call-42",
      { twilioSid: null, openaiId: null, sharedId: { value: "call-42", owner: "neither" } },
    ],
    ["no id: nothing to route", null, { twilioSid: null, openaiId: null }],
  ];

  it.each(cases)("%s", (_name, value, expected) => {
    const routed = routeSharedId(row(value));
    expect(routed).toMatchObject(expected);
    if (value === null) expect(routed.sharedId).toBeUndefined();
  });

  it("keeps the rest of the row and does not change the row it was given", () => {
    const given = row(RTC);
    const before = JSON.stringify(given);
    const routed = routeSharedId(given);
    expect(JSON.stringify(given)).toBe(before);
    expect(routed).toMatchObject({ id: "call-1", status: "active", startedAt: given.startedAt });
  });
});
