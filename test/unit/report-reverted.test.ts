import { describe, expect, it } from "vitest";
import { callStory } from "../../src/cli/call-story.js";
import { summaryText } from "../../src/cli/causes-report.js";
import type { CallAction, CauseRow } from "../../src/db/causes.js";
import { summarise } from "../../src/diagnosis/summary.js";

const T0 = new Date("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const HOOK = { scheme: "https", host: "api.example.org", path: "/twilio/status" };
const RUN = "00000000-0000-4000-8000-000000000001";

function row(i: number, over: Partial<CauseRow> = {}): CauseRow {
  return {
    callId: `c${i}`,
    source: "twilio",
    direction: "outbound-api",
    providerStatus: "completed",
    startedAt: at(0),
    providerEndedAt: at(120),
    endedHereAt: at(600),
    cause: "callback_acknowledged",
    detail: { endpoint: HOOK, method: "POST", callStatus: "completed", responseCode: 200, durationMs: 80 },
    callSid: `CA${i}`,
    accountSid: null,
    attempts: 1,
    lastError: null,
    diagnosedAt: at(1500),
    reverted: false,
    ...over,
  };
}

const ended = (over: Partial<CallAction> = {}): CallAction => ({
  runId: RUN,
  previousStatus: "active",
  newStatus: "completed",
  endedAt: at(120),
  source: "twilio",
  decidedAt: at(600),
  outcome: "ended",
  ...over,
});

describe("report: reverted ends are not zombies ended", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 8 };

  it("counts them apart, out of the totals, the share, the lifetimes and the causes", () => {
    const rows = [
      row(1),
      row(2),
      row(3, { reverted: true, cause: "callback_failed", endedHereAt: at(90_000) }),
    ];
    const s = summarise(rows, window);
    expect(s).toMatchObject({
      zombies: 2,
      reverted: 1,
      lostShare: 2 / 10,
      byCause: { callback_acknowledged: 2 },
      lifetimeSeconds: { max: 480 },
      durations: { calls: 2 },
    });
    expect(s.byCause.callback_failed).toBeUndefined();
    expect(s.byEndpoint.map((g) => g.cause)).toEqual(["callback_acknowledged"]);
    const text = summaryText(s);
    expect(text).toMatch(/: 2\n/);
    expect(text).toMatch(/^reverted: 1 \(/m);
    expect(text).toMatch(/Ends lost: 2 of 10 calls/);
  });

  it("a window whose only ends were reverted lost no end, and says what was reverted", () => {
    const s = summarise([row(1, { reverted: true })], window);
    expect(s).toMatchObject({ zombies: 0, reverted: 1, byCause: {}, lifetimeSeconds: null });
    expect(summaryText(s)).toMatch(/reverted: 1/);
  });
});

describe("report --call: a reverted end", () => {
  it("a reverted end says so on its first line", () => {
    const story = callStory(row(1, { reverted: true }), [
      ended(),
      ended({ outcome: "reverted", endedAt: null, decidedAt: at(3000) }),
    ]);
    expect(story[0]).toMatch(/: cause callback_acknowledged \(end reverted\)$/);
  });
});
