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
