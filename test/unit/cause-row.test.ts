import { describe, expect, it } from "vitest";
import { type EndRequest, newCauseRow, TWILIO_RECORDS_DELAY_MS } from "../../src/model/index.js";

const SID = `CA${"1".repeat(32)}`;
const CONFIGURED = `AC${"0".repeat(32)}`;
const SUB = `AC${"2".repeat(32)}`;
const ENDED = new Date("2026-12-06T10:00:00Z");
const DECIDED = new Date("2026-12-06T10:05:00Z");

function end(over: Partial<EndRequest> & { sid?: string | null; account?: string | null }): EndRequest {
  const { sid = SID, account = null, ...rest } = over;
  return {
    call: {
      id: "c1",
      twilioSid: sid,
      twilioAccount: account,
      openaiId: null,
      status: "active",
      startedAt: new Date("2026-12-06T09:00:00Z"),
    },
    newStatus: "completed",
    endedAt: ENDED,
    durationSeconds: 3600,
    source: "twilio",
    runId: "r1",
    evidence: null,
    decidedAt: DECIDED,
    ...rest,
  };
}

describe("newCauseRow: the cause row an end writes", () => {
  it("a Twilio end waits for its diagnosis until Twilio's records are readable, under the account it was asked in", () => {
    const row = newCauseRow(
      end({
        account: SUB,
        evidence: { twilio: { kind: "ended", direction: "outbound-api", asked: { account: SUB } } },
      }),
      CONFIGURED,
    );
    expect(row).toMatchObject({
      cause: null,
      accountSid: SUB,
      direction: "outbound-api",
      dueAt: new Date(ENDED.getTime() + TWILIO_RECORDS_DELAY_MS),
    });
  });

  it("without an account asked or named, the configured one; the due time is never before the decision", () => {
    const late = new Date(ENDED.getTime() + TWILIO_RECORDS_DELAY_MS + 60_000);
    expect(newCauseRow(end({ decidedAt: late }), CONFIGURED)).toMatchObject({
      accountSid: CONFIGURED,
      dueAt: late,
    });
  });

  it("any other end is settled at once with its source, and its evidence need not be Twilio's shape", () => {
    const row = newCauseRow(
      end({ sid: null, source: "openai", evidence: { twilio: "completed" } }),
      CONFIGURED,
    );
    expect(row).toMatchObject({
      cause: "openai",
      accountSid: null,
      callSid: null,
      direction: null,
      dueAt: null,
    });
  });
});
