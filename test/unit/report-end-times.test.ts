import { describe, expect, it } from "vitest";
import { callStory } from "../../src/cli/call-story.js";
import { summaryText } from "../../src/cli/causes-report.js";
import { summarise } from "../../src/diagnosis/summary.js";
import type { Evidence } from "../../src/model/index.js";
import { at, causeRow, endedAction, T0 } from "../helpers/cause-rows.js";

describe("report: what the end times are", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 0 };

  it("speaks of end times corrected, not durations: the daemon writes no duration", () => {
    const text = summaryText(summarise([causeRow(1)], window));
    expect(text).not.toMatch(/Durations corrected/);
    expect(text).toMatch(
      /End times corrected: 1 calls lasted 2 min in all; a cleanup stamping the time they were found would have recorded 10 min/,
    );
  });

  it("says how many of the end times are only bounds", () => {
    const text = summaryText(
      summarise(
        [
          causeRow(1),
          causeRow(2, { source: "age_bound", cause: "age_bound", callSid: null, providerStatus: "timeout" }),
          causeRow(3, { source: "openai", cause: "openai", callSid: null }),
        ],
        window,
      ),
    );
    expect(text).toMatch(/2 of these end times are only bounds/);
  });
});

describe("report --call: where each end came from", () => {
  it("a Twilio end is Twilio's end time", () => {
    const story = callStory(causeRow(1), [endedAction()]).join("\n");
    expect(story).toMatch(/the call ended at Twilio \(completed\), Twilio's end time/);
  });

  it("an age-bound end of a realtime id is a bound, not Twilio's", () => {
    const story = callStory(
      causeRow(1, {
        callId: "rtc_1",
        source: "age_bound",
        cause: "age_bound",
        callSid: null,
        direction: null,
        providerStatus: "timeout",
        providerEndedAt: at(86_400),
        detail: null,
      }),
      [endedAction({ source: "age_bound", newStatus: "timeout", endedAt: at(86_400) })],
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
      causeRow(1, {
        callId: "rtc_2",
        source: "openai",
        cause: "openai",
        callSid: null,
        direction: null,
        providerEndedAt: end,
        detail: null,
      });
    const capped = callStory(realtime(at(3600)), [
      endedAction({ source: "openai", endedAt: at(3600), evidence: gone(at(7200)) }),
    ]).join("\n");
    expect(capped).not.toMatch(/Twilio/);
    expect(capped).toMatch(
      /the call ended no later than this \(OpenAI no longer knew its session; OpenAI's session cap; completed\)/,
    );
    const sighted = callStory(realtime(at(900)), [
      endedAction({ source: "openai", endedAt: at(900), evidence: gone(at(900)) }),
    ]).join("\n");
    expect(sighted).toMatch(
      /the call ended no later than this \(OpenAI no longer knew its session; its absence first seen; completed\)/,
    );
  });
});
