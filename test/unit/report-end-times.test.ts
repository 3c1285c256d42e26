import { describe, expect, it } from "vitest";
import { callStory } from "../../src/cli/call-story.js";
import { summaryText } from "../../src/cli/causes-report.js";
import type { CallAction, CauseRow } from "../../src/db/causes.js";
import { summarise } from "../../src/diagnosis/summary.js";
import type { Evidence } from "../../src/model/index.js";

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

describe("report: what the end times are", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 0 };

  it("speaks of end times corrected, not durations: the daemon writes no duration", () => {
    const text = summaryText(summarise([row(1)], window));
    expect(text).not.toMatch(/Durations corrected/);
    expect(text).toMatch(
      /End times corrected: 1 calls lasted 2 min in all; a cleanup stamping the time they were found would have recorded 10 min/,
    );
  });

  it("says how many of the end times are only bounds", () => {
    const text = summaryText(
      summarise(
        [
          row(1),
          row(2, { source: "age_bound", cause: "age_bound", callSid: null, providerStatus: "timeout" }),
          row(3, { source: "openai", cause: "openai", callSid: null }),
        ],
        window,
      ),
    );
    expect(text).toMatch(/2 of these end times are only bounds/);
  });
});

describe("report --call: where each end came from", () => {
  it("a Twilio end is Twilio's end time", () => {
    const story = callStory(row(1), [ended()]).join("\n");
    expect(story).toMatch(/the call ended at Twilio \(completed\), Twilio's end time/);
  });

  it("an age-bound end of a realtime id is a bound, not Twilio's", () => {
    const story = callStory(
      row(1, {
        callId: "rtc_1",
        source: "age_bound",
        cause: "age_bound",
        callSid: null,
        direction: null,
        providerStatus: "timeout",
        providerEndedAt: at(86_400),
        detail: null,
      }),
      [ended({ source: "age_bound", newStatus: "timeout", endedAt: at(86_400) })],
    ).join("\n");
    expect(story).not.toMatch(/Twilio/);
    expect(story).toMatch(
      /2026-12-02T00:00:00.000Z {2}the call ended no later than this \(the age bound: no provider knew it; timeout\)/,
    );
  });

  it("a realtime-only end at the session cap is a bound, named as such", () => {
    // As the audit table's jsonb gives it back: times as strings.
    const gone = (first: Date): unknown =>
      JSON.parse(
        JSON.stringify({
          twilio: { kind: "skipped", why: "no_id" },
          openai: { kind: "gone", firstSeenGoneAt: first, lastSeenLiveAt: null },
        } satisfies Evidence),
      );
    const realtime = (end: Date) =>
      row(1, {
        callId: "rtc_2",
        source: "openai",
        cause: "openai",
        callSid: null,
        direction: null,
        providerEndedAt: end,
        detail: null,
      });
    const capped = callStory(realtime(at(3600)), [
      ended({ source: "openai", endedAt: at(3600), evidence: gone(at(7200)) }),
    ]).join("\n");
    expect(capped).not.toMatch(/Twilio/);
    expect(capped).toMatch(
      /the call ended no later than this \(OpenAI no longer knew its session; OpenAI's session cap; completed\)/,
    );
    const sighted = callStory(realtime(at(900)), [
      ended({ source: "openai", endedAt: at(900), evidence: gone(at(900)) }),
    ]).join("\n");
    expect(sighted).toMatch(
      /the call ended no later than this \(OpenAI no longer knew its session; its absence first seen; completed\)/,
    );
  });
});
