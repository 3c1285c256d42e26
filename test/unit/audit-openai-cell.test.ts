import { describe, expect, it } from "vitest";
import { reportTable } from "../../src/cli/report.js";
import type { Verdict } from "../../src/model/index.js";
import { emptyDiagnosisTally } from "../../src/reconcile/diagnose-due.js";
import {
  emptyCheckTally,
  emptyWriteTally,
  type Finding,
  type PassResult,
} from "../../src/reconcile/pass-result.js";

const T0 = new Date("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const RUN = "00000000-0000-4000-8000-000000000001";

describe("audit table: the OpenAI cell agrees with the decision", () => {
  const call = { id: "rtc_3", twilioSid: null, twilioAccount: null, openaiId: "rtc_3", status: "active" };
  const finding = (firstSeenGoneAt: Date | null, verdict: Verdict, outcome: Finding["outcome"]): Finding => ({
    call: { ...call, startedAt: at(0) },
    ageSeconds: 3000,
    evidence: {
      twilio: { kind: "skipped", why: "no_id" },
      openai: { kind: "gone", firstSeenGoneAt, lastSeenLiveAt: null },
    },
    verdict,
    outcome,
  });
  const table = (f: Finding) => {
    const r: PassResult = {
      ...emptyCheckTally(),
      ...emptyWriteTally(),
      runId: RUN,
      dryRun: true,
      startedAt: at(3000),
      finishedAt: at(3001),
      aborted: false,
      realtimeSuspect: null,
      realtimeHeldBack: 0,
      ageBoundSuspect: null,
      ageBoundHeldBack: 0,
      clockSkewMs: 0,
      twilioStrategy: "per-call",
      listRequests: 0,
      diagnoses: emptyDiagnosisTally(),
      findings: [f],
      findingsOmitted: 0,
    };
    return reportTable(r);
  };
  const unconfirmed: Verdict = { action: "unverified", reason: "absence_unconfirmed", why: "waiting" };

  it("an absence seen before but not yet confirmed is not called confirmed", () => {
    const text = table(finding(at(2990), unconfirmed, "unverified"));
    expect(text).toMatch(/unverified: absence_unconfirmed/);
    expect(text).not.toMatch(/gone \(confirmed\)/);
    expect(text).toMatch(/gone \(not yet confirmed\)/);
  });

  it("a first sighting stays one", () => {
    expect(table(finding(null, unconfirmed, "unverified"))).toMatch(/gone \(1st sighting\)/);
  });

  it("an absence the daemon ends the call on is confirmed", () => {
    const end: Verdict = {
      action: "end",
      newStatus: "completed",
      endedAt: at(1000),
      durationSeconds: 1000,
      source: "openai",
      why: "gone",
    };
    expect(table(finding(at(1000), end, "would_end"))).toMatch(/gone \(confirmed\)/);
  });
});
