/** One guard for a share too large to trust: what it sets aside, and what becomes of it at the end of the pass. */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { EndSource } from "../../src/model/index.js";
import type { PendingEnd } from "../../src/reconcile/check-page.js";
import { newPassResult } from "../../src/reconcile/pass-result.js";
import { exceedsShare, ShareGuard } from "../../src/reconcile/share-guard.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const pending = (id: string, source: EndSource): PendingEnd => ({
  row: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt: NOW },
  evidence: { twilio: { kind: "skipped", why: "no_id" }, openai: { kind: "skipped", why: "no_id" } },
  verdict: { action: "end", newStatus: "completed", endedAt: NOW, durationSeconds: 0, source, why: "test" },
  decidedAt: NOW,
});

function guard(confirmed: boolean) {
  const msgs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      msgs.push((JSON.parse(String(chunk)) as { msg: string }).msg);
      done();
    },
  });
  const g = new ShareGuard(
    {
      source: "age_bound",
      suspect: "ageBoundSuspect",
      notWritten: "ageBoundHeldBack",
      outcome: "age_bound_share",
      confirmed,
      confirmedWarning: "confirmed",
      suspectWarning: "suspect",
    },
    createLogger("info", sink),
  );
  const rest = g.takeAside([pending("a", "age_bound"), pending("t", "twilio"), pending("b", "age_bound")]);
  return { g, rest, msgs, result: newPassResult("run-1", false, NOW) };
}

describe("ShareGuard", () => {
  it("sets aside only its source's ends, and hands them all back when nothing is suspect", () => {
    const { g, rest, msgs, result } = guard(false);
    expect(rest.map((p) => p.row.id)).toEqual(["t"]);
    expect(g.settle(null, result, 10).map((p) => p.row.id)).toEqual(["a", "b"]);
    expect(result).toMatchObject({ ageBoundSuspect: null, ageBoundHeldBack: 0, findings: [] });
    expect(msgs).toEqual([]);
  });

  it("writes none of a suspect share: counted, each a finding, said once", () => {
    const { g, msgs, result } = guard(false);
    expect(g.settle("too many", result, 1)).toEqual([]);
    expect(result).toMatchObject({ ageBoundSuspect: "too many", ageBoundHeldBack: 2, findingsOmitted: 1 });
    expect(result.findings.map((f) => [f.call.id, f.outcome])).toEqual([["a", "age_bound_share"]]);
    expect(msgs).toEqual(["suspect"]);
  });

  it("writes a suspect share the operator confirmed, and says so", () => {
    const { g, msgs, result } = guard(true);
    expect(g.settle("too many", result, 10)).toHaveLength(2);
    expect(result).toMatchObject({ ageBoundSuspect: null, ageBoundHeldBack: 0 });
    expect(msgs).toEqual(["confirmed"]);
  });

  it.each([
    [9, 9, 0.5, false],
    [10, 10, 0.5, true],
    [5, 10, 0.5, false],
    [6, 10, 0.5, true],
  ])("exceedsShare(%i ends, %i seen, %f)", (ends, seen, share, expected) => {
    expect(exceedsShare(ends, seen, share)).toBe(expected);
  });
});
