import { describe, expect, it } from "vitest";
import { compareStatusWords } from "../../src/config/status-words.js";

describe("compareStatusWords: what the daemon writes against what the finished rows carry", () => {
  it.each([
    ["cancelled", "canceled"],
    ["CANCELED", "canceled"],
    ["no_answer", "no-answer"],
    ["noanswer", "no-answer"],
    ["No Answer", "no-answer"],
    ["Time-Out", "timeout"],
  ])("%s is %s spelt otherwise: the entry to set", (app, daemon) => {
    expect(compareStatusWords({}, ["completed", app], "calls")).toEqual([
      `the daemon would write ${daemon}, which no finished row of calls carries, but ${JSON.stringify(app)} does: set STATUS_MAP=${daemon}:${app}`,
    ]);
  });

  it("a status never seen and not mapped says nothing: the app may have had no such call yet", () => {
    expect(compareStatusWords({}, ["completed", "failed"], "calls")).toEqual([]);
  });

  it("words that only look alike are not taken for each other", () => {
    expect(compareStatusWords({}, ["completed", "cancel", "answered"], "calls")).toEqual([]);
  });

  it("a mapped status: its target seen is right, unseen is a warning, spelt otherwise is the fix", () => {
    expect(compareStatusWords({ busy: "failed" }, ["completed", "failed"], "calls")).toEqual([]);
    expect(compareStatusWords({ busy: "declined" }, ["completed", "failed"], "calls")).toEqual([
      'STATUS_MAP maps busy to declined, which no finished row of calls carries (they carry "completed", "failed"): map busy to the status the app gives such calls',
    ]);
    expect(compareStatusWords({ busy: "Failed" }, ["completed", "failed"], "calls")).toEqual([
      'the daemon would write Failed (STATUS_MAP busy:Failed), which no finished row of calls carries, but "failed" does: set STATUS_MAP=busy:failed',
    ]);
  });

  it("no finished rows: nothing compared", () => {
    expect(compareStatusWords({ busy: "declined" }, [], "calls")).toEqual([]);
  });
});

describe("compareStatusWords with an enum or CHECK that accepts every target", () => {
  it("an unseen target is one of the app's words, not met yet: no warning; a near spelling still is one", () => {
    const opts = { targetsAccepted: true };
    expect(compareStatusWords({ busy: "declined" }, ["completed"], "calls", opts)).toEqual([]);
    expect(compareStatusWords({}, ["completed", "cancelled"], "calls", opts)).toEqual([
      expect.stringMatching(/set STATUS_MAP=canceled:cancelled$/),
    ]);
  });
});
