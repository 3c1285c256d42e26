import { describe, expect, it } from "vitest";
import { summarise, type ZombieRecord } from "../../src/diagnosis/summary.js";
import { at, HOOK, T0 } from "../helpers/cause-rows.js";

function zombie(i: number, over: Partial<ZombieRecord> = {}): ZombieRecord {
  return {
    callId: `c${i}`,
    source: "twilio",
    direction: "outbound-api",
    providerStatus: "completed",
    startedAt: at(0),
    providerEndedAt: at(120),
    endedHereAt: at(120 + 60 * (i + 1)),
    cause: "callback_acknowledged",
    detail: {
      endpoint: HOOK,
      method: "POST",
      callStatus: "completed",
      responseCode: 200,
      durationMs: 80 + i,
    },
    ...over,
  };
}

describe("summarise: what report says about a window's zombies", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 54 };

  it("counts, shares, lifetimes and corrected end times", () => {
    const zombies = [
      ...Array.from({ length: 4 }, (_, i) => zombie(i)),
      zombie(9, { cause: null, detail: null }),
      zombie(10, {
        source: "age_bound",
        cause: "age_bound",
        direction: null,
        detail: null,
        providerStatus: "timeout",
      }),
    ];
    const s = summarise(zombies, window);
    expect(s).toMatchObject({
      zombies: 6,
      lostShare: 6 / 60,
      byCause: { callback_acknowledged: 4, pending: 1, age_bound: 1 },
      byDirection: { "outbound-api": { completed: 5 }, age_bound: { timeout: 1 } },
      byDay: { "2026-12-01": 6 },
      lifetimeSeconds: { median: 180, p95: 660, max: 660 },
      durations: { calls: 6, trueSeconds: 720 },
      boundEnds: 1,
      reverted: 0,
    });
    expect(s.byEndpoint).toEqual([
      expect.objectContaining({
        endpoint: "POST https://api.example.org/twilio/status",
        calls: 4,
        medianDurationMs: 81,
      }),
    ]);
    expect(s.diagnosis).toEqual([
      expect.stringMatching(
        /^Twilio delivered `completed` for 4 of 5 calls to POST https:\/\/api.example.org\/twilio\/status and got 200 in about 81 ms/,
      ),
      expect.stringMatching(/^1 Twilio ends are still waiting/),
      expect.stringMatching(/^1 calls were ended on the age bound/),
    ]);
  });

  it("an empty window has no share when nothing ended, and no lifetimes", () => {
    expect(summarise([], { ...window, endedByApp: 0 })).toMatchObject({
      zombies: 0,
      lostShare: null,
      lifetimeSeconds: null,
      durations: null,
      diagnosis: [],
    });
  });

  it("a failed callback names its code; not requested names why; unknown names its reason", () => {
    const s = summarise(
      [
        zombie(1, {
          cause: "callback_failed",
          detail: { endpoint: HOOK, method: "POST", responseCode: null, errorCode: "11200" },
        }),
        zombie(2, {
          cause: "callback_not_requested",
          detail: { reason: "completed_not_in_events", statusCallback: HOOK },
        }),
        zombie(3, { cause: "unknown", detail: { reason: "records_expired" } }),
      ],
      window,
    );
    expect(s.diagnosis).toEqual([
      expect.stringMatching(/got no answer \(timeout or connection error\) \(Twilio error 11200\)/),
      expect.stringMatching(
        /StatusCallbackEvent leaves out completed \(callback https:\/\/api.example.org\/twilio\/status\)/,
      ),
      expect.stringMatching(/the cause is unknown \(records_expired\)/),
    ]);
  });
});

describe("summarise: causes an Event Streams event settled", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 0 };

  it("counts them per endpoint and says so in the sentence; Call Events' causes are not counted", () => {
    const fromEvent = (i: number) =>
      zombie(i, {
        detail: {
          endpoint: HOOK,
          method: "POST",
          callStatus: "completed",
          responseCode: 200,
          from: "event_stream",
        },
      });
    const mixed = summarise([fromEvent(0), fromEvent(1), zombie(2)], window);
    expect(mixed.byEndpoint).toEqual([expect.objectContaining({ calls: 3, fromEvents: 2 })]);
    expect(mixed.diagnosis[0]).toContain("3 of 3 calls (2 told by Event Streams)");

    const all = summarise([fromEvent(0), fromEvent(1)], window);
    expect(all.diagnosis[0]).toContain("2 of 2 calls (all told by Event Streams)");

    const none = summarise([zombie(0)], window);
    expect(none.byEndpoint[0]?.fromEvents).toBe(0);
    expect(none.diagnosis[0]).not.toContain("Event Streams");
  });
});
