import { describe, expect, it } from "vitest";
import {
  type ActiveCall,
  type Evidence,
  routeSharedId,
  type TwilioEvidence,
  type Verdict,
} from "../../src/model/index.js";
import { CLOCK_SKEW_TOLERANCE_MS, decide, START_ROUNDING_TOLERANCE_MS } from "../../src/reconcile/decide.js";
import { TEST_POLICY } from "../helpers/policy.js";

const NOW = new Date("2026-11-25T12:00:00Z");
const policy = TEST_POLICY;
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const SID = `CA${"1".repeat(32)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";

function row(ageSeconds: number, ids: { sid?: string | null; rtc?: string | null } = {}): ActiveCall {
  return {
    id: "call-1",
    twilioSid: ids.sid === undefined ? SID : ids.sid,
    twilioAccount: null,
    openaiId: ids.rtc === undefined ? null : ids.rtc,
    status: "active",
    startedAt: ago(ageSeconds),
  };
}

/** A row read from one id column shared by both providers, as routeSharedId hands it over. */
function shared(ageSeconds: number, value: string): ActiveCall {
  return routeSharedId({ ...row(ageSeconds, { sid: value, rtc: value }) });
}

const skipped = { kind: "skipped", why: "no_id" } as const;
const otherProvider = { kind: "skipped", why: "other_provider" } as const;
const unrecognised = { kind: "skipped", why: "unrecognised_id" } as const;
const notConfigured = { kind: "skipped", why: "not_configured" } as const;
const ev = (twilio: Evidence["twilio"], openai: Evidence["openai"] = skipped): Evidence => ({
  twilio,
  openai,
});
const ended = (
  status: "completed" | "busy" | "no-answer" | "canceled" | "failed",
  endedAt: Date | null,
  source: "end_time" | "start_time+duration" | "date_updated" | null = "end_time",
): TwilioEvidence => ({
  kind: "ended",
  status,
  endedAt,
  endTimeSource: source,
  raw: { start_time: null, end_time: null, duration: null, date_updated: null },
});
/** Twilio terminal with its own start_time known (as the normaliser always supplies it). */
const endedAfter = (twilioStart: Date | null, endedAt: Date): TwilioEvidence => ({
  kind: "ended",
  status: "completed",
  endedAt,
  endTimeSource: "end_time",
  startedAt: twilioStart,
  raw: {
    start_time: twilioStart?.toUTCString() ?? null,
    end_time: endedAt.toUTCString(),
    duration: null,
    date_updated: null,
  },
});
const err = (
  reason:
    | "timeout"
    | "network"
    | "rate_limited"
    | "server_error"
    | "auth_failed"
    | "malformed_response"
    | "unknown_status"
    | "circuit_open",
): TwilioEvidence => ({
  kind: "error",
  reason,
  detail: reason,
});

type Expected =
  | { action: "keep"; why: string }
  | { action: "unverified"; reason: string }
  | { action: "end"; newStatus: string; source: string; endedAt: Date };

const cases: [name: string, call: ActiveCall, evidence: Evidence, expected: Expected][] = [
  // Live on Twilio: never ended, however old, whatever else is said.
  [
    "in-progress is kept",
    row(3600),
    ev({ kind: "live", status: "in-progress" }),
    { action: "keep", why: "twilio_live" },
  ],
  [
    "ringing is kept",
    row(600),
    ev({ kind: "live", status: "ringing" }),
    { action: "keep", why: "twilio_live" },
  ],
  [
    "queued is kept",
    row(600),
    ev({ kind: "live", status: "queued" }),
    { action: "keep", why: "twilio_live" },
  ],
  [
    "a 3-hour live call is kept (the 1-hour cron would kill it)",
    row(10_800),
    ev({ kind: "live", status: "in-progress" }),
    { action: "keep", why: "twilio_live" },
  ],
  [
    "live beyond the age bound is still kept",
    row(90_000),
    ev({ kind: "live", status: "in-progress" }),
    { action: "keep", why: "twilio_live" },
  ],
  [
    "Twilio live wins over OpenAI gone",
    row(3600, { rtc: RTC }),
    ev(
      { kind: "live", status: "in-progress" },
      { kind: "gone", firstSeenGoneAt: ago(600), lastSeenLiveAt: null },
    ),
    { action: "keep", why: "twilio_live" },
  ],
  // Twilio terminal: ended with Twilio's status and true end time, on first sight.
  [
    "completed ends at end_time",
    row(7200),
    ev(ended("completed", ago(3000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3000) },
  ],
  [
    "completed via start_time+duration",
    row(7200),
    ev(ended("completed", ago(3100), "start_time+duration")),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3100) },
  ],
  [
    "busy ends at date_updated",
    row(7200),
    ev(ended("busy", ago(7100), "date_updated")),
    { action: "end", newStatus: "busy", source: "twilio", endedAt: ago(7100) },
  ],
  [
    "no-answer ends",
    row(7200),
    ev(ended("no-answer", ago(7150), "date_updated")),
    { action: "end", newStatus: "no-answer", source: "twilio", endedAt: ago(7150) },
  ],
  [
    "canceled ends",
    row(7200),
    ev(ended("canceled", ago(7190), "date_updated")),
    { action: "end", newStatus: "canceled", source: "twilio", endedAt: ago(7190) },
  ],
  [
    "failed ends",
    row(7200),
    ev(ended("failed", ago(7199), "date_updated")),
    { action: "end", newStatus: "failed", source: "twilio", endedAt: ago(7199) },
  ],
  [
    "the incident: 60,000 s active, completed long ago",
    row(61_000),
    ev(ended("completed", ago(60_500))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(60_500) },
  ],
  [
    "Twilio terminal beats the age bound (true end time kept)",
    row(100_000),
    ev(ended("completed", ago(99_000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(99_000) },
  ],
  [
    "Twilio terminal wins over OpenAI live",
    row(3600, { rtc: RTC }),
    ev(ended("completed", ago(100)), { kind: "live" }),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(100) },
  ],
  [
    "end time slightly ahead of the database's clock waits a pass: no ended_at later than now() is written",
    row(3600),
    ev(ended("completed", new Date(NOW.getTime() + 30_000))),
    { action: "unverified", reason: "end_time_in_future" },
  ],
  [
    "end time exactly now is written",
    row(3600),
    ev(ended("completed", NOW)),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: NOW },
  ],
  [
    "end time far in the future is not trusted",
    row(3600),
    ev(ended("completed", new Date(NOW.getTime() + CLOCK_SKEW_TOLERANCE_MS + 1000))),
    { action: "unverified", reason: "end_time_in_future" },
  ],
  [
    "terminal without any time is not ended",
    row(3600),
    ev(ended("busy", null, null)),
    { action: "unverified", reason: "no_end_time" },
  ],
  [
    "terminal without time past the age bound: age bound",
    row(90_000),
    ev(ended("busy", null, null)),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(90_000 - 86_400) },
  ],
  // The answer must fit the row: an end before the row's start (beyond Twilio's whole-second rounding) or
  // before Twilio's own start_time is not this call's end.
  [
    "end 1 s before the row's start is rounding: ended, never before the row's start",
    row(7200),
    ev(ended("completed", ago(7201))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(7200) },
  ],
  [
    "end exactly at the rounding tolerance before the row's start: ended at the row's start",
    row(7200),
    ev(ended("completed", ago(7200 + START_ROUNDING_TOLERANCE_MS / 1000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(7200) },
  ],
  [
    "end 1 ms beyond the rounding tolerance before the row's start: end_before_start",
    row(7200),
    ev(ended("completed", ago(7200 + START_ROUNDING_TOLERANCE_MS / 1000 + 0.001))),
    { action: "unverified", reason: "end_before_start" },
  ],
  [
    "a 2019 end for a call started minutes ago (Twilio's spec example): end_before_start",
    row(600),
    ev(ended("completed", new Date("2019-10-18T17:03:00Z"))),
    { action: "unverified", reason: "end_before_start" },
  ],
  [
    "end before the row's start, from date_updated: end_before_start",
    row(7200),
    ev(ended("busy", ago(9000), "date_updated")),
    { action: "unverified", reason: "end_before_start" },
  ],
  [
    "end before the row's start past the age bound: the age bound, not Twilio's time",
    row(90_000),
    ev(ended("completed", ago(100_000))),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(90_000 - 86_400) },
  ],
  [
    "end 1 s before Twilio's own start_time: end_before_twilio_start",
    row(7200),
    ev(endedAfter(ago(3000), ago(3001))),
    { action: "unverified", reason: "end_before_twilio_start" },
  ],
  [
    "end equal to Twilio's own start_time (a 0 s call) ends",
    row(7200),
    ev(endedAfter(ago(3000), ago(3000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3000) },
  ],
  [
    "end after Twilio's start_time ends",
    row(7200),
    ev(endedAfter(ago(7199), ago(3000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3000) },
  ],
  [
    "Twilio start_time unknown (null): only the row's start is checked",
    row(7200),
    ev(endedAfter(null, ago(3000))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3000) },
  ],
  [
    "Twilio contradicts itself within the row's tolerance: still end_before_twilio_start",
    row(7200),
    ev(endedAfter(ago(7200), ago(7201))),
    { action: "unverified", reason: "end_before_twilio_start" },
  ],
  [
    "an answer mismatch (another call's SID) is never an end",
    row(7200),
    ev({ kind: "error", reason: "answer_mismatch", detail: "sid" }),
    { action: "unverified", reason: "answer_mismatch" },
  ],
  // A time that is no time (an Invalid Date: start_time + 10^13 s, or -infinity read from the table) compares
  // false with everything: never an end on it.
  [
    "Twilio end that is no time (start_time + 10^13 s): malformed_response",
    row(7200),
    ev(ended("completed", new Date(Number.NaN), "start_time+duration")),
    { action: "unverified", reason: "malformed_response" },
  ],
  [
    "Twilio end that is no time, Twilio's start_time known: malformed_response",
    row(7200),
    ev(endedAfter(ago(7200), new Date(Number.NaN))),
    { action: "unverified", reason: "malformed_response" },
  ],
  [
    "Twilio start_time that is no time: malformed_response",
    row(7200),
    ev(endedAfter(new Date(Number.NaN), ago(3000))),
    { action: "unverified", reason: "malformed_response" },
  ],
  [
    "Twilio end that is no time past the age bound: the age bound, as for any malformed answer",
    row(90_000),
    ev(ended("completed", new Date(Number.NaN), "start_time+duration")),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(90_000 - 86_400) },
  ],
  [
    "a row's started_at that is no time: invalid_time, whatever Twilio says",
    { ...row(7200), startedAt: new Date(Number.NaN) },
    ev(ended("completed", ago(3000))),
    { action: "unverified", reason: "invalid_time" },
  ],
  [
    "a row's started_at of -infinity (pg hands it as a number): invalid_time, not even the age bound",
    { ...row(7200), startedAt: Number.NEGATIVE_INFINITY as unknown as Date },
    ev(skipped),
    { action: "unverified", reason: "invalid_time" },
  ],
  [
    "no SID, OpenAI gone, first sighting that is no time: invalid_time",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: new Date(Number.NaN), lastSeenLiveAt: null }),
    { action: "unverified", reason: "invalid_time" },
  ],
  [
    "no SID, OpenAI gone confirmed, last live sighting that is no time: invalid_time",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: new Date(Number.NaN) }),
    { action: "unverified", reason: "invalid_time" },
  ],
  // Too young: the webhook may still arrive.
  [
    "too young, even if Twilio says completed",
    row(60),
    ev(ended("completed", ago(10))),
    { action: "keep", why: "too_young" },
  ],
  [
    "exactly at the minimum age is judged",
    row(120),
    ev(ended("completed", ago(5))),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(5) },
  ],
  // Nothing that is not a confirmation ends a call.
  ["404 is not proof", row(7200), ev({ kind: "not_found" }), { action: "unverified", reason: "not_found" }],
  ["timeout", row(7200), ev(err("timeout")), { action: "unverified", reason: "timeout" }],
  ["network error", row(7200), ev(err("network")), { action: "unverified", reason: "network" }],
  ["429", row(7200), ev(err("rate_limited")), { action: "unverified", reason: "rate_limited" }],
  ["5xx", row(7200), ev(err("server_error")), { action: "unverified", reason: "server_error" }],
  ["wrong credentials", row(7200), ev(err("auth_failed")), { action: "unverified", reason: "auth_failed" }],
  [
    "malformed JSON",
    row(7200),
    ev(err("malformed_response")),
    { action: "unverified", reason: "malformed_response" },
  ],
  [
    "unknown status",
    row(7200),
    ev(err("unknown_status")),
    { action: "unverified", reason: "unknown_status" },
  ],
  ["open breaker", row(7200), ev(err("circuit_open")), { action: "unverified", reason: "circuit_open" }],
  [
    "404 does not let OpenAI gone decide",
    row(7200, { rtc: RTC }),
    ev({ kind: "not_found" }, { kind: "gone", firstSeenGoneAt: ago(600), lastSeenLiveAt: null }),
    { action: "unverified", reason: "not_found" },
  ],
  // Age bound: no live call outlasts 24 h.
  [
    "404 past the age bound",
    row(86_401),
    ev({ kind: "not_found" }),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(1) },
  ],
  [
    "error exactly at the age bound",
    row(86_400),
    ev(err("server_error")),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: NOW },
  ],
  [
    "error just under the age bound",
    row(86_399),
    ev(err("server_error")),
    { action: "unverified", reason: "server_error" },
  ],
  [
    "no provider at all, young",
    row(3600, { sid: null }),
    ev(skipped),
    { action: "unverified", reason: "no_provider" },
  ],
  [
    "no provider at all, past the bound",
    row(200_000, { sid: null }),
    ev(skipped),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(200_000 - 86_400) },
  ],
  [
    "Twilio not configured, SID present",
    row(3600),
    ev(notConfigured),
    { action: "unverified", reason: "no_provider" },
  ],
  // OpenAI realtime evidence, for rows Twilio cannot judge.
  [
    "no SID, OpenAI live",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "live" }),
    { action: "keep", why: "openai_live" },
  ],
  [
    "no SID, OpenAI live past the bound is kept",
    row(90_000, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "live" }),
    { action: "keep", why: "openai_live" },
  ],
  [
    "no SID, OpenAI gone first sighting",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: null, lastSeenLiveAt: null }),
    { action: "unverified", reason: "absence_unconfirmed" },
  ],
  [
    "no SID, OpenAI gone seen again too soon",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(30), lastSeenLiveAt: null }),
    { action: "unverified", reason: "absence_unconfirmed" },
  ],
  [
    "no SID, OpenAI gone seen again one interval later",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(60), lastSeenLiveAt: null }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(60) },
  ],
  [
    "no SID, gone confirmed on a 20 h-old row: ended at started_at + the session cap, not 20 h later",
    row(72_000, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: null }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(72_000 - 3600) },
  ],
  [
    "no SID, gone confirmed, last seen live before the first gone sighting",
    row(3000, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: ago(300) }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(120) },
  ],
  [
    "no SID, gone confirmed, last seen live exactly at the capped end",
    row(7200, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: ago(3600) }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(3600) },
  ],
  [
    "no SID, gone confirmed but seen live after the latest possible end: the sightings conflict",
    row(72_000, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: ago(600) }),
    { action: "unverified", reason: "sightings_conflict" },
  ],
  [
    "Twilio not configured, OpenAI gone confirmed",
    row(3600, { rtc: RTC }),
    ev(notConfigured, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: null }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(120) },
  ],
  [
    "no SID, OpenAI error",
    row(3600, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "error", reason: "timeout", detail: "t" }),
    { action: "unverified", reason: "timeout" },
  ],
  [
    "no SID, OpenAI gone unconfirmed past the bound",
    row(90_000, { sid: null, rtc: RTC }),
    ev(skipped, { kind: "gone", firstSeenGoneAt: null, lastSeenLiveAt: null }),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(90_000 - 86_400) },
  ],
  // One column holds both providers' ids: each row's evidence comes from its id's owner only.
  [
    "one id column, an rtc_ id: Twilio not its provider, OpenAI gone confirmed ends it",
    shared(3600, RTC),
    ev(otherProvider, { kind: "gone", firstSeenGoneAt: ago(120), lastSeenLiveAt: null }),
    { action: "end", newStatus: "completed", source: "openai", endedAt: ago(120) },
  ],
  [
    "one id column, an rtc_ id: OpenAI live keeps it",
    shared(3600, RTC),
    ev(otherProvider, { kind: "live" }),
    { action: "keep", why: "openai_live" },
  ],
  [
    "one id column, an rtc_ id, OpenAI not configured: no provider",
    shared(3600, RTC),
    ev(otherProvider, notConfigured),
    { action: "unverified", reason: "no_provider" },
  ],
  [
    "one id column, a CA id: Twilio decides, OpenAI not its provider",
    shared(3600, SID),
    ev(ended("completed", ago(3000)), otherProvider),
    { action: "end", newStatus: "completed", source: "twilio", endedAt: ago(3000) },
  ],
  [
    "one id column, an id of neither shape: unverified unrecognised_id",
    shared(3600, "call-42"),
    ev(unrecognised, unrecognised),
    { action: "unverified", reason: "unrecognised_id" },
  ],
  [
    "one id column, an id of neither shape past the bound: the age bound, as for any unconfirmed row",
    shared(200_000, "call-42"),
    ev(unrecognised, unrecognised),
    { action: "end", newStatus: "timeout", source: "age_bound", endedAt: ago(200_000 - 86_400) },
  ],
];

function shape(v: Verdict): Expected {
  if (v.action === "keep") return { action: "keep", why: v.why };
  if (v.action === "unverified") return { action: "unverified", reason: v.reason };
  return { action: "end", newStatus: v.newStatus, source: v.source, endedAt: v.endedAt };
}

describe("decide", () => {
  it("has a case table of at least 25 rows", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)("%s", (_name, call, evidence, expected) => {
    expect(shape(decide(call, evidence, NOW, policy))).toEqual(expected);
  });

  it("never ends a live Twilio call, at any age, whatever OpenAI says", () => {
    const openaiAnswers: Evidence["openai"][] = [
      skipped,
      { kind: "live" },
      { kind: "gone", firstSeenGoneAt: ago(10_000), lastSeenLiveAt: null },
      { kind: "error", reason: "timeout", detail: "t" },
    ];
    for (const age of [0, 119, 120, 3600, 86_399, 86_400, 1_000_000]) {
      for (const status of ["queued", "ringing", "in-progress"] as const) {
        for (const openai of openaiAnswers) {
          const v = decide(row(age, { rtc: RTC }), ev({ kind: "live", status }, openai), NOW, policy);
          expect(v.action).toBe("keep");
        }
      }
    }
  });

  it("never ends on a time that is no time: a clock or a computed end", () => {
    const completed = ev(ended("completed", ago(3000)));
    expect(decide(row(7200), completed, new Date(Number.NaN), policy)).toMatchObject({
      action: "unverified",
      reason: "invalid_time",
    });
    // No valid policy computes such an end; one bounding nothing (-∞) does.
    const unbounded = { ...policy, maxCallDurationSeconds: Number.NEGATIVE_INFINITY };
    expect(decide(row(7200), ev(skipped), NOW, unbounded)).toMatchObject({
      action: "unverified",
      reason: "invalid_time",
    });
  });

  it("is pure: the same inputs give the same verdict and the inputs are not changed", () => {
    const call = row(7200);
    const evidence = ev(ended("completed", ago(3000)));
    const before = JSON.stringify({ call, evidence });
    expect(decide(call, evidence, NOW, policy)).toEqual(decide(call, evidence, NOW, policy));
    expect(JSON.stringify({ call, evidence })).toBe(before);
  });
});

describe("decide: OpenAI's session cap as a second signal", () => {
  const gone = (firstAgo: number) =>
    ev(skipped, { kind: "gone", firstSeenGoneAt: ago(firstAgo), lastSeenLiveAt: null });
  const graceS = 300;
  type CapCase = [string, ActiveCall, Evidence, boolean, { endedAt: Date; trust: "session_cap" | undefined }];
  const capCases: CapCase[] = [
    [
      "first seen gone 20 h after the start: taken on the cap, ended at started_at + cap",
      row(72_000, { sid: null, rtc: RTC }),
      gone(120),
      true,
      { endedAt: ago(72_000 - 3600), trust: "session_cap" },
    ],
    [
      "first seen gone within the cap: not taken on it, ended at the first sighting",
      row(3600, { sid: null, rtc: RTC }),
      gone(60),
      true,
      { endedAt: ago(60), trust: undefined },
    ],
    [
      "first seen gone just past the cap but within its grace: bounded by the cap, not trusted on it",
      row(3600 + graceS - 1 + 60, { sid: null, rtc: RTC }),
      gone(60),
      true,
      { endedAt: ago(graceS - 1 + 60), trust: undefined },
    ],
    [
      "first seen gone exactly at the cap plus its grace: taken on it",
      row(3600 + graceS + 60, { sid: null, rtc: RTC }),
      gone(60),
      true,
      { endedAt: ago(graceS + 60), trust: "session_cap" },
    ],
    [
      "a disproved cap bounds nothing: a 20 h-old absence ends at its first sighting, on no cap",
      row(72_000, { sid: null, rtc: RTC }),
      gone(120),
      false,
      { endedAt: ago(120), trust: undefined },
    ],
  ];

  it.each(capCases)("%s", (_name, call, evidence, trusted, want) => {
    const v = decide(call, evidence, NOW, { ...policy, sessionCapTrusted: trusted });
    expect(v).toMatchObject({ action: "end", source: "openai", endedAt: want.endedAt });
    expect(v.action === "end" ? v.trust : "not ended").toBe(want.trust);
  });

  it("a realtime call not probed because it is within the cap stays unverified, never ended or kept", () => {
    const v = decide(
      row(1800, { sid: null, rtc: RTC }),
      ev(skipped, { kind: "skipped", why: "within_session_cap" }),
      NOW,
      policy,
    );
    expect(v).toMatchObject({ action: "unverified", reason: "within_session_cap" });
  });
});
