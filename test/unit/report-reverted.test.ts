import { describe, expect, it } from "vitest";
import { callStory } from "../../src/cli/call-story.js";
import { summaryText } from "../../src/cli/causes-report.js";
import { summarise } from "../../src/diagnosis/summary.js";
import { at, causeRow, endedAction, T0 } from "../helpers/cause-rows.js";

describe("report: reverted ends are not zombies ended", () => {
  const window = { since: T0, until: at(86_400), endedByApp: 8 };

  it("counts them apart, out of the totals, the share, the lifetimes and the causes", () => {
    const rows = [
      causeRow(1),
      causeRow(2),
      causeRow(3, { reverted: true, cause: "callback_failed", endedHereAt: at(90_000) }),
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
    const s = summarise([causeRow(1, { reverted: true })], window);
    expect(s).toMatchObject({ zombies: 0, reverted: 1, byCause: {}, lifetimeSeconds: null });
    expect(summaryText(s)).toMatch(/reverted: 1/);
  });
});

describe("report --call: a reverted end", () => {
  it("a reverted end says so on its first line", () => {
    const story = callStory(causeRow(1, { reverted: true }), [
      endedAction(),
      endedAction({ outcome: "reverted", endedAt: null, decidedAt: at(3000) }),
    ]);
    expect(story[0]).toMatch(/: cause callback_acknowledged \(end reverted\)$/);
  });
});
