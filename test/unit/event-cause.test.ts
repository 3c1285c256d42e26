import { describe, expect, it } from "vitest";
import { causeFromEvent, EVENT_CAUSE_SOURCE } from "../../src/diagnosis/event-cause.js";
import type { CallNudge } from "../../src/model/index.js";

const base: CallNudge = {
  eventId: "EV1",
  callSid: `CA${"a".repeat(32)}`,
  accountSid: `AC${"0".repeat(32)}`,
  callStatus: "completed",
  eventAt: new Date("2026-12-06T12:00:00Z"),
  appResponseCode: 200,
  callback: {
    url: "https://app.example.com/twilio/status/sk_live_abcdefghijkl?x=1",
    method: "POST",
    durationMs: 120,
    at: "2026-12-06T12:00:00.500Z",
  },
};

describe("causeFromEvent", () => {
  it.each([
    [200, "callback_acknowledged"],
    [204, "callback_acknowledged"],
    [299, "callback_acknowledged"],
    [301, "callback_failed"],
    [404, "callback_failed"],
    [500, "callback_failed"],
    [502, "callback_failed"],
  ])("an app that answered %i: %s", (code, cause) => {
    const found = causeFromEvent({ ...base, appResponseCode: code });
    expect(found?.cause).toBe(cause);
    expect(found?.detail).toMatchObject({ cause, responseCode: code, from: EVENT_CAUSE_SOURCE, attempts: 1 });
  });

  it("keeps where the callback went without its query or its secret path segment", () => {
    const found = causeFromEvent(base);
    expect(found?.detail).toMatchObject({
      endpoint: { scheme: "https", host: "app.example.com", path: "/twilio/status/:redacted" },
      method: "POST",
      callStatus: "completed",
      durationMs: 120,
      at: "2026-12-06T12:00:00.500Z",
    });
    expect(JSON.stringify(found)).not.toContain("sk_live");
  });

  it("settles nothing when the event carries no answer: Twilio's records are read as for any end", () => {
    expect(causeFromEvent({ ...base, appResponseCode: null })).toBeNull();
  });

  it("without the callback's details, the event's time stands for when the app answered", () => {
    const found = causeFromEvent({ ...base, callback: null, appResponseCode: 500 });
    expect(found?.detail).toMatchObject({
      cause: "callback_failed",
      failure: "http_error",
      endpoint: null,
      at: "2026-12-06T12:00:00.000Z",
    });
  });
});
