import { describe, expect, it } from "vitest";
import { callStory } from "../../src/cli/call-story.js";
import { summaryText } from "../../src/cli/causes-report.js";
import { doctorReport } from "../../src/cli/doctor-check.js";
import { type RevertReport, revertJson, revertTable } from "../../src/cli/revert-report.js";
import { summarise } from "../../src/diagnosis/summary.js";
import type { CauseRow } from "../../src/model/index.js";

/** What a hostile record can carry in any text field: a screen clear, a forged line, a reversed tail. */
const EVIL = "\x1b[2J\x1b]0;t\x07ok\n| forged |\u202etxt.exe";
const EVIL_SHOWN = "\\x1b[2J\\x1b]0;t\\x07ok\\n| forged |\\u202etxt.exe";
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function expectSafe(text: string, maxLine = 500): void {
  expect(CONTROL.exec(text)).toBeNull();
  for (const line of text.split("\n")) {
    expect(line.length, line.slice(0, 80)).toBeLessThanOrEqual(maxLine);
    expect(line.startsWith("| forged")).toBe(false);
  }
}

const T0 = new Date("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** A cause row whose every provider-given field is hostile. */
function evilRow(): CauseRow {
  // In the host: a path segment this long is redacted as token-like before it is shown.
  const endpoint = { scheme: "https", host: `${EVIL}.example`, path: "/status" };
  return {
    callId: EVIL,
    source: "twilio",
    direction: EVIL,
    providerStatus: EVIL,
    startedAt: at(0),
    providerEndedAt: at(120),
    endedHereAt: at(600),
    cause: "callback_failed",
    detail: {
      created: { statusCallback: endpoint, statusCallbackEvents: [EVIL], at: at(0).toISOString() },
      requests: [{ endpoint, method: EVIL, callStatus: EVIL, responseCode: 500, at: at(120).toISOString() }],
      endpoint,
      method: EVIL,
      callStatus: EVIL,
      responseCode: 500,
      reason: EVIL,
    },
    callSid: EVIL,
    accountSid: null,
    attempts: 1,
    lastError: `${EVIL}${"e".repeat(3000)}`,
    diagnosedAt: at(900),
    reverted: false,
  };
}

describe("the human outputs show hostile text escaped and bounded", () => {
  it("report --call: the story of a call whose records are hostile", () => {
    const row = evilRow();
    const story = callStory(row, [
      {
        runId: "00000000-0000-4000-8000-000000000001",
        previousStatus: EVIL,
        newStatus: "completed",
        endedAt: at(120),
        source: "twilio",
        decidedAt: at(600),
        outcome: "ended",
      },
    ]).join("\n");
    expectSafe(story);
    expect(story).toContain(EVIL_SHOWN);
    expect(story.split("\n")[0]).toBe(`Call ${EVIL_SHOWN} (${EVIL_SHOWN}): cause callback_failed`);
  });

  it("report --call: a pending diagnosis shows its last error escaped and cut", () => {
    const story = callStory({ ...evilRow(), diagnosedAt: null }, []).join("\n");
    expectSafe(story);
    expect(story).toContain(`last: ${EVIL_SHOWN}eee`);
  });

  it("report: endpoints, directions and statuses from Twilio's records", () => {
    const s = summarise([evilRow()], { since: T0, until: at(86_400), endedByApp: 1 });
    const text = summaryText(s);
    expectSafe(text);
    expect(text).toContain(`By direction: ${EVIL_SHOWN}`);
    expect(text).toContain(`https://${EVIL_SHOWN}.example/status`);
  });

  it("doctor: a detail quoting a provider's or the database's words stays on its one line", () => {
    const text = doctorReport([
      { name: "twilio", state: "fail", detail: `HTTP 500: ${EVIL}` },
      { name: "subaccounts", state: "fail", detail: `refused: ${"A".repeat(5000)}` },
    ]);
    expectSafe(text, 1100);
    expect(text.split("\n")).toHaveLength(2);
    expect(text).toContain(`✗ twilio       HTTP 500: ${EVIL_SHOWN}`);
  });

  it("revert: the table escapes; --json keeps every value as it is", () => {
    const report: RevertReport = {
      revertRunId: "00000000-0000-4000-8000-000000000002",
      dryRun: true,
      target: { call: EVIL },
      items: [
        {
          end: {
            auditId: "1",
            runId: "00000000-0000-4000-8000-000000000001",
            callId: EVIL,
            previousStatus: "active",
            previousEndedAt: null,
            newStatus: "completed",
            endedAt: at(120),
            durationSeconds: null,
            previousDurationSeconds: null,
            source: "twilio",
            revertedBy: null,
            revertedAt: null,
          },
          now: { present: true, status: EVIL, endedAt: at(120), asWritten: true, revertedBy: null },
          outcome: "would_restore",
        },
      ],
      note: null,
    };
    const text = revertTable(report);
    expectSafe(text);
    expect(text).toContain(EVIL_SHOWN);
    const json = revertJson(report);
    expect(json.call).toBe(EVIL);
    expect(json.calls[0]).toMatchObject({ callId: EVIL, now: { status: EVIL } });
  });
});
