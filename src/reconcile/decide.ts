import { boundedText } from "../error-message.js";
import type { ActiveCall, DecisionPolicy, Evidence, UnverifiedReason, Verdict } from "../model/index.js";
import { pastSessionCap } from "./session-cap.js";

/**
 * Twilio's clock and ours may disagree a little: an end time ahead of the database's clock waits a pass; one
 * further ahead than this is not a time to trust.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Twilio's times are whole seconds and the row's `started_at` may carry milliseconds (and the app's clock a
 * little skew): an end up to this much before the row's start is rounding, further is not this call's end.
 */
export const START_ROUNDING_TOLERANCE_MS = 2000;

/** Status written when only the age bound or an OpenAI absence ends a call (Twilio ends use Twilio's own). */
export const AGE_BOUND_STATUS = "timeout";
export const OPENAI_ENDED_STATUS = "completed";

/**
 * Whether `d` is a point in time. An Invalid Date compares false with everything, so an end computed from one
 * passed every check below as fitting; and pg reads a `-infinity` timestamp as a number, not a Date at all.
 */
const isTime = (d: Date | null | undefined): d is Date => d instanceof Date && Number.isFinite(d.getTime());

/** Seconds from the row's start to the end written (never negative: an end is never before the start). */
const lengthOf = (row: ActiveCall, endedAt: Date): number =>
  Math.max(0, endedAt.getTime() - row.startedAt.getTime()) / 1000;

/** Twilio's own `duration` when it gave a usable one (whole seconds, bounded by the normaliser). */
const twilioLength = (d: number | null | undefined): number | null =>
  typeof d === "number" && Number.isInteger(d) && d >= 0 ? d : null;

/** A time in a `why`, where toISOString() would throw on one that is no time. */
const shownTime = (d: unknown): string => (isTime(d as Date) ? (d as Date).toISOString() : String(d));

/**
 * The whole judgement of whether a row is a zombie, as a pure function of the row, what the providers said,
 * the clock and the policy. It never ends a call on anything but a positive confirmation, except through
 * the age bound, which no live call can outlast; and never on a time that is no time, whatever the
 * normalisers and the store let through.
 */
export function decide(row: ActiveCall, evidence: Evidence, now: Date, policy: DecisionPolicy): Verdict {
  if (!isTime(row.startedAt) || !isTime(now)) {
    return {
      action: "unverified",
      reason: "invalid_time",
      why: `started_at ${shownTime(row.startedAt)} or the database's clock ${shownTime(now)} is no time: the row cannot be judged`,
    };
  }
  const verdict = judge(row, evidence, now, policy);
  if (verdict.action === "end" && !isTime(verdict.endedAt)) {
    return {
      action: "unverified",
      reason: "invalid_time",
      why: `the end computed from ${verdict.source} is no time (${verdict.why})`,
    };
  }
  return verdict;
}

function judge(row: ActiveCall, evidence: Evidence, now: Date, policy: DecisionPolicy): Verdict {
  const ageMs = now.getTime() - row.startedAt.getTime();
  if (ageMs < policy.minCallAgeSeconds * 1000) return { action: "keep", why: "too_young" };

  const twilio = evidence.twilio;
  if (twilio.kind === "live") return { action: "keep", why: "twilio_live" };

  let pending: { reason: UnverifiedReason; why: string };
  if (twilio.kind === "ended") {
    if (twilio.endedAt === null) {
      pending = { reason: "no_end_time", why: `Twilio says ${twilio.status} but gives no end time` };
    } else if (!isTime(twilio.endedAt) || (twilio.startedAt != null && !isTime(twilio.startedAt))) {
      pending = {
        reason: "malformed_response",
        why: `Twilio says ${twilio.status}, but its end (from ${twilio.endTimeSource}) or its start_time is no time`,
      };
    } else if (twilio.endedAt.getTime() > now.getTime()) {
      // Never an ended_at later than the database's now(): a little ahead is Twilio's clock, and the row
      // waits a pass; far ahead is not a time to trust at all.
      const far = twilio.endedAt.getTime() > now.getTime() + CLOCK_SKEW_TOLERANCE_MS;
      pending = {
        reason: "end_time_in_future",
        why: far
          ? `Twilio end time ${twilio.endedAt.toISOString()} is in the future`
          : `Twilio end time ${twilio.endedAt.toISOString()} is ahead of the database's clock: the call waits a pass`,
      };
    } else if (twilio.startedAt != null && twilio.endedAt.getTime() < twilio.startedAt.getTime()) {
      pending = {
        reason: "end_before_twilio_start",
        why: `Twilio end time ${twilio.endedAt.toISOString()} (from ${twilio.endTimeSource}) is before its own start_time ${twilio.startedAt.toISOString()}`,
      };
    } else if (twilio.endedAt.getTime() < row.startedAt.getTime() - START_ROUNDING_TOLERANCE_MS) {
      pending = {
        reason: "end_before_start",
        why: `Twilio end time ${twilio.endedAt.toISOString()} is before the row's started_at ${row.startedAt.toISOString()}`,
      };
    } else {
      // Within the rounding tolerance, never write an end before the row's own start.
      const endedAt = twilio.endedAt.getTime() < row.startedAt.getTime() ? row.startedAt : twilio.endedAt;
      return {
        action: "end",
        newStatus: twilio.status,
        endedAt,
        durationSeconds: twilioLength(twilio.durationSeconds) ?? lengthOf(row, endedAt),
        source: "twilio",
        why: `Twilio status ${twilio.status}, end from ${twilio.endTimeSource}`,
      };
    }
  } else if (twilio.kind === "not_found") {
    // A 404 is not proof: SIP-trunked calls only appear once ended, and the SID may be another account's.
    pending = { reason: "not_found", why: "Twilio does not know this SID" };
  } else if (twilio.kind === "error") {
    pending = { reason: twilio.reason, why: `Twilio: ${twilio.detail}` };
  } else {
    // Twilio had no say (no SID on the row, no credentials, or an id not its own): the realtime side may decide.
    const openai = evidence.openai;
    if (openai.kind === "live") return { action: "keep", why: "openai_live" };
    if (
      openai.kind === "gone" &&
      [openai.firstSeenGoneAt, openai.lastSeenLiveAt].some((d) => d !== null && !isTime(d))
    ) {
      pending = {
        reason: "invalid_time",
        why: `OpenAI realtime session gone, but a sighting is no time (first gone ${shownTime(openai.firstSeenGoneAt)}, last live ${shownTime(openai.lastSeenLiveAt)})`,
      };
    } else if (openai.kind === "gone") {
      const first = openai.firstSeenGoneAt;
      if (first !== null && now.getTime() - first.getTime() >= policy.absenceConfirmSeconds * 1000) {
        const ended = absenceEndTime(row, first, openai.lastSeenLiveAt, policy);
        if (ended !== null) {
          // Both sightings past the cap: no session lasts that long, whatever the probe's blind spots.
          const capped =
            policy.sessionCapTrusted !== false &&
            pastSessionCap(row.startedAt, first, policy.openaiMaxSessionSeconds);
          return {
            action: "end",
            newStatus: OPENAI_ENDED_STATUS,
            endedAt: ended.at,
            durationSeconds: lengthOf(row, ended.at),
            source: "openai",
            why: `OpenAI realtime session gone since ${first.toISOString()} (seen twice${capped ? ", past the session cap" : ""}); ${ended.why}`,
            ...(capped ? { trust: "session_cap" as const } : {}),
          };
        }
        pending = {
          reason: "sightings_conflict",
          why: `OpenAI realtime session seen live at ${openai.lastSeenLiveAt?.toISOString()}, after the latest time it can have ended`,
        };
      } else {
        pending = {
          reason: "absence_unconfirmed",
          why: "OpenAI realtime session gone, waiting for a second sighting",
        };
      }
    } else if (openai.kind === "error") {
      pending = { reason: openai.reason, why: `OpenAI: ${openai.detail}` };
    } else if (openai.why === "unrecognised_id") {
      pending = {
        reason: "unrecognised_id",
        why: `the call's id ${JSON.stringify(boundedText(row.sharedId?.value ?? "", 64))} is neither a Twilio Call SID (CA…) nor an OpenAI realtime call id (rtc_…): no provider was asked`,
      };
    } else if (openai.why === "within_session_cap") {
      pending = {
        reason: "within_session_cap",
        why: `realtime call younger than OPENAI_MAX_SESSION_SECONDS (${policy.openaiMaxSessionSeconds}s): not probed while it may be live`,
      };
    } else {
      pending = { reason: "no_provider", why: "no provider could be asked about this call" };
    }
  }

  if (ageMs >= policy.maxCallDurationSeconds * 1000) {
    const endedAt = new Date(row.startedAt.getTime() + policy.maxCallDurationSeconds * 1000);
    return {
      action: "end",
      newStatus: AGE_BOUND_STATUS,
      endedAt,
      durationSeconds: lengthOf(row, endedAt),
      source: "age_bound",
      why: `older than ${policy.maxCallDurationSeconds}s and not confirmed live (${pending.why})`,
    };
  }
  return { action: "unverified", ...pending };
}

/**
 * When a realtime-only call confirmed gone ended: the latest time it can have, that is the first gone
 * sighting, unless OpenAI's cap on a session's length says earlier (a 20 h-old row must not get a 20 h
 * duration). Never before the last live sighting: null when the sightings contradict each other.
 */
export function absenceEndTime(
  row: ActiveCall,
  firstSeenGoneAt: Date,
  lastSeenLiveAt: Date | null,
  policy: DecisionPolicy,
): { at: Date; why: string } | null {
  const cap = new Date(row.startedAt.getTime() + policy.openaiMaxSessionSeconds * 1000);
  // A cap a live call outlived bounds nothing.
  const capped = policy.sessionCapTrusted !== false && cap.getTime() < firstSeenGoneAt.getTime();
  const at = capped ? cap : firstSeenGoneAt;
  if (lastSeenLiveAt !== null && lastSeenLiveAt.getTime() > at.getTime()) return null;
  return {
    at,
    why: capped
      ? `ended at the latest: started_at + OPENAI_MAX_SESSION_SECONDS (${policy.openaiMaxSessionSeconds}s)`
      : "ended at the latest: the first gone sighting",
  };
}
