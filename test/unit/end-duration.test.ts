/**
 * The length an end writes to CALLS_COL_DURATION is decided with the end time, in the pure part: Twilio's own
 * `duration` when Twilio's answer ended the call, else the end time written minus the row's start; and the
 * store writes it as the column's type takes it.
 */
import { describe, expect, it } from "vitest";
import type { ActiveCall, Evidence, TwilioEvidence } from "../../src/model/index.js";
import { writtenDuration } from "../../src/model/index.js";
import { normaliseTwilioCall } from "../../src/providers/twilio-normalise.js";
import { decide } from "../../src/reconcile/decide.js";
import { TEST_POLICY } from "../helpers/policy.js";

const NOW = new Date("2026-11-25T12:00:00Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const SID = `CA${"1".repeat(32)}`;
const ACCOUNT = `AC${"2".repeat(32)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";

const row = (startedAt: Date, ids: { sid?: string | null; rtc?: string | null } = {}): ActiveCall => ({
  id: "call-1",
  twilioSid: ids.sid === undefined ? SID : ids.sid,
  twilioAccount: null,
  openaiId: ids.rtc ?? null,
  status: "active",
  startedAt,
});
const skipped = { kind: "skipped", why: "no_id" } as const;
const ev = (twilio: Evidence["twilio"], openai: Evidence["openai"] = skipped): Evidence => ({
  twilio,
  openai,
});
const twilioEnd = (endedAt: Date, durationSeconds: number | null | undefined): TwilioEvidence => ({
  kind: "ended",
  status: "completed",
  endedAt,
  endTimeSource: "end_time",
  ...(durationSeconds === undefined ? {} : { durationSeconds }),
  raw: { start_time: null, end_time: null, duration: null, date_updated: null },
});

function lengthOf(r: ActiveCall, e: Evidence): number {
  const v = decide(r, e, NOW, TEST_POLICY);
  if (v.action !== "end") throw new Error(`expected an end, got ${JSON.stringify(v)}`);
  return v.durationSeconds;
}

describe("the length of an end", () => {
  it("the normaliser keeps Twilio's duration as a number (null when empty)", () => {
    const answer = (duration: unknown) =>
      normaliseTwilioCall(
        {
          sid: SID,
          account_sid: ACCOUNT,
          status: "completed",
          start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
          end_time: "Fri, 18 Oct 2019 17:03:00 +0000",
          duration,
        },
        { callSid: SID, accountSid: ACCOUNT },
      );
    expect(answer("177")).toMatchObject({ kind: "ended", durationSeconds: 177 });
    expect(answer("")).toMatchObject({ kind: "ended", durationSeconds: null });
    expect(answer(null)).toMatchObject({ kind: "ended", durationSeconds: null });
  });

  it("a Twilio end: Twilio's own duration, not the end minus the row's start", () => {
    // The app stamped the row 7.25 s before Twilio's start_time (ringing): Twilio's talk time is the truth.
    expect(lengthOf(row(ago(3607.25)), ev(twilioEnd(ago(0), 3600)))).toBe(3600);
    expect(lengthOf(row(ago(3607.25)), ev(twilioEnd(ago(0), 0)))).toBe(0);
  });

  it("a Twilio end without a duration: the end written minus the row's start, to the millisecond", () => {
    expect(lengthOf(row(ago(3607.25)), ev(twilioEnd(ago(0), null)))).toBe(3607.25);
    expect(lengthOf(row(ago(300.5)), ev(twilioEnd(ago(0.25), undefined)))).toBe(300.25);
  });

  it("a Twilio end before the row's start (rounding) is written at the start: length 0", () => {
    expect(lengthOf(row(ago(600.5)), ev(twilioEnd(ago(601), null)))).toBe(0);
  });

  it("an OpenAI end: its end time minus the row's start", () => {
    const r = row(ago(4000.125), { sid: null, rtc: RTC });
    const gone = { kind: "gone", firstSeenGoneAt: ago(300), lastSeenLiveAt: null } as const;
    const v = decide(r, ev(skipped, gone), NOW, TEST_POLICY);
    expect(v).toMatchObject({ action: "end", source: "openai" });
    // Capped at started_at + the session cap (3600 s): the length is the cap.
    expect(v.action === "end" && v.durationSeconds).toBe(3600);
    const young = row(ago(1800.125), { sid: null, rtc: RTC });
    const w = decide(young, ev(skipped, gone), NOW, {
      ...TEST_POLICY,
      sessionCapTrusted: false,
    });
    expect(w).toMatchObject({ action: "end", source: "openai" });
    expect(w.action === "end" && w.durationSeconds).toBe(1500.125);
  });

  it("an age-bound end: MAX_CALL_DURATION_SECONDS, the end minus the start", () => {
    const v = decide(row(ago(90_000.5), { sid: null }), ev(skipped), NOW, TEST_POLICY);
    expect(v).toMatchObject({ action: "end", source: "age_bound" });
    expect(v.action === "end" && v.durationSeconds).toBe(TEST_POLICY.maxCallDurationSeconds);
  });
});

describe("writtenDuration: as the column's type takes it", () => {
  it("whole seconds, rounded, for an integer column; to the millisecond otherwise", () => {
    const integer = true;
    const real = false;
    expect(writtenDuration(integer, 3607.25)).toBe(3607);
    expect(writtenDuration(integer, 3607.5)).toBe(3608);
    expect(writtenDuration(real, 3607.25)).toBe(3607.25);
    expect(writtenDuration(real, 1 / 3)).toBe(0.333);
  });
});
