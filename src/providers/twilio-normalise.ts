import { boundedText } from "../error-message.js";
import {
  type EndTimeSource,
  type ProviderError,
  TWILIO_DIRECTIONS,
  TWILIO_LIVE_STATUSES,
  TWILIO_TERMINAL_STATUSES,
  type TwilioCallsPage,
  type TwilioDirection,
  type TwilioEvidence,
  type TwilioLiveStatus,
  type TwilioTerminalStatus,
} from "../model/index.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// Twilio always writes UTC: "Fri, 18 Oct 2019 17:03:00 +0000". Anything else is not trusted as a time.
const RFC2822_UTC =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:\+0000|-0000|GMT|UT|UTC)$/;

class MalformedField extends Error {}

/**
 * The longest `duration` a Twilio call can have: Twilio ends every call at its time limit, 24 h at most; the
 * hour more allows for rounding. A longer one is no Twilio answer, and with an empty `end_time` it would make
 * the end `start_time + duration`: 10^13 s later is no time at all (an Invalid Date), which every comparison
 * of decide() reads as fitting.
 */
export const MAX_TWILIO_DURATION_SECONDS = 25 * 3600;

/** A value as shown in a detail: the answer's own text, bounded however long it is. */
function shown(value: unknown): string {
  if (value === undefined) return "no value";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Parses Twilio's RFC 2822 UTC timestamps exactly to the second. null/"" mean "no value". */
export function parseTwilioDate(value: unknown, field: string): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const m = typeof value === "string" ? RFC2822_UTC.exec(value) : null;
  const month = m ? MONTHS.indexOf(m[2] as string) : -1;
  if (!m || month < 0) throw new MalformedField(`${field} is not an RFC 2822 UTC date: ${shown(value)}`);
  const [day, year, hh, mm, ss] = [m[1], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month, day, hh, mm, ss));
  // Date.UTC silently rolls 31 Feb into March, and reads a year below 100 as 19xx: either means the input was
  // not a real date.
  if (
    !Number.isFinite(date.getTime()) ||
    date.getUTCFullYear() !== year ||
    date.getUTCDate() !== day ||
    hh > 23 ||
    mm > 59 ||
    ss > 60
  ) {
    throw new MalformedField(`${field} is not a real date: ${shown(value)}`);
  }
  return date;
}

function parseDurationSeconds(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const digits = typeof value === "string" && /^\d+$/.test(value);
  if (!digits && !(typeof value === "number" && Number.isInteger(value) && value >= 0))
    throw new MalformedField(`duration is not a whole number of seconds: ${shown(value)}`);
  // Past ten digits it is past the bound, whatever Number() makes of it (a million digits are Infinity).
  const seconds = digits ? (value.length > 10 ? Number.POSITIVE_INFINITY : Number(value)) : (value as number);
  if (seconds > MAX_TWILIO_DURATION_SECONDS)
    throw new MalformedField(
      `duration ${shown(value)} is longer than any Twilio call (${MAX_TWILIO_DURATION_SECONDS} s)`,
    );
  return seconds;
}

function rawString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** What a fetch asked for: the answer must be about exactly this call of exactly this account. */
export interface AskedCall {
  callSid: string;
  accountSid: string;
}

/**
 * Is this body about the call asked for? Twilio's own examples carry SIDs other than the one in the URL, and
 * a proxy or a mock may answer for anything: a body about another call or another account is no evidence.
 */
function mismatch(call: Record<string, unknown>, asked: AskedCall): ProviderError | null {
  const differs = (field: string, want: string) =>
    call[field] === want ? null : `${field} ${shown(call[field])}, asked ${JSON.stringify(want)}`;
  const what = differs("sid", asked.callSid) ?? differs("account_sid", asked.accountSid);
  if (what === null) return null;
  return {
    kind: "error",
    reason: "answer_mismatch",
    detail: `the answer is not about the call asked for (${what})`,
    httpStatus: 200,
  };
}

/**
 * Turns the raw JSON of a Twilio Call resource into evidence. Works on the raw body rather than the SDK's
 * CallInstance because the SDK turns a *missing* end_time into `new Date()` (now), which must never become
 * an end time; here a missing key and null are both simply "no value". A body whose `sid` or `account_sid`
 * is not the one asked for is `answer_mismatch`, whatever it says.
 */
export function normaliseTwilioCall(body: unknown, asked: AskedCall): TwilioEvidence {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { kind: "error", reason: "malformed_response", detail: "call resource is not a JSON object" };
  }
  const call = body as Record<string, unknown>;
  const wrong = mismatch(call, asked);
  if (wrong !== null) return wrong;
  const status = call.status;
  if (typeof status !== "string") {
    return { kind: "error", reason: "malformed_response", detail: "call resource has no status" };
  }
  if ((TWILIO_LIVE_STATUSES as readonly string[]).includes(status)) {
    return { kind: "live", status: status as TwilioLiveStatus };
  }
  if (!(TWILIO_TERMINAL_STATUSES as readonly string[]).includes(status)) {
    return {
      kind: "error",
      reason: "unknown_status",
      // Kept in every finding of a pass (and the body may be megabytes): bounded before it is quoted.
      detail: `unknown Twilio status ${JSON.stringify(boundedText(status))}`,
    };
  }
  try {
    const endTime = parseTwilioDate(call.end_time, "end_time");
    const startTime = parseTwilioDate(call.start_time, "start_time");
    const duration = parseDurationSeconds(call.duration);
    const dateUpdated = parseTwilioDate(call.date_updated, "date_updated");
    let endedAt: Date | null = null;
    let endTimeSource: EndTimeSource | null = null;
    if (endTime !== null) {
      [endedAt, endTimeSource] = [endTime, "end_time"];
    } else if (startTime !== null && duration !== null) {
      [endedAt, endTimeSource] = [new Date(startTime.getTime() + duration * 1000), "start_time+duration"];
    } else if (dateUpdated !== null) {
      [endedAt, endTimeSource] = [dateUpdated, "date_updated"];
    }
    return {
      kind: "ended",
      status: status as TwilioTerminalStatus,
      endedAt,
      endTimeSource,
      startedAt: startTime,
      durationSeconds: duration,
      direction: (TWILIO_DIRECTIONS as readonly unknown[]).includes(call.direction)
        ? (call.direction as TwilioDirection)
        : null,
      raw: {
        start_time: rawString(call.start_time),
        end_time: rawString(call.end_time),
        duration: rawString(call.duration),
        date_updated: rawString(call.date_updated),
      },
    };
  } catch (err) {
    if (err instanceof MalformedField)
      return { kind: "error", reason: "malformed_response", detail: err.message };
    throw err;
  }
}

/** The only prefix a next page may have: the Calls list of the account being listed, with a query. */
function callsListPrefix(accountSid: string): string {
  return `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Calls.json?`;
}

/**
 * A `next_page_uri` (or a page URI handed back to the probe) that stays on the Calls list of `accountSid`:
 * a relative URI with exactly that path, then a query of printable characters (no space, no fragment).
 */
export function isOwnCallsPageUri(uri: string, accountSid: string): boolean {
  const prefix = callsListPrefix(accountSid);
  return uri.startsWith(prefix) && /^[\x21-\x7e]*$/.test(uri) && !uri.includes("#");
}

/** A listed call's start time; an unreadable one is unknown (the list is still good: the status is what counts). */
function listedStart(value: unknown): Date | null {
  try {
    return parseTwilioDate(value, "start_time");
  } catch {
    return null;
  }
}

/** An answer that is not what Twilio documents: no decision is taken on it. */
export type Malformed = { kind: "error"; reason: "malformed_response"; detail: string };
export const malformed = (detail: string): Malformed => ({
  kind: "error",
  reason: "malformed_response",
  detail,
});

const MAX_LISTED_TEXT = 64;

/**
 * One entry of a list page, reduced to what the diff needs; a call without sid or status makes the whole list
 * unusable: the pass then falls back to asking per call, which never ends a call on a list's word anyway.
 */
export function listedCall(entry: unknown): TwilioCallsPage["calls"][number] | Malformed {
  const { sid, status, start_time } = (entry ?? {}) as {
    sid?: unknown;
    status?: unknown;
    start_time?: unknown;
  };
  if (typeof sid !== "string" || typeof status !== "string")
    return malformed("call list entry without sid or status");
  // Every page's entries are kept until the listing ends: Twilio's SIDs and statuses are a few dozen characters.
  if (sid.length > MAX_LISTED_TEXT || status.length > MAX_LISTED_TEXT)
    return malformed(`call list entry with a sid or status longer than ${MAX_LISTED_TEXT} characters`);
  return { sid, status, startTime: listedStart(start_time) };
}

/** A page's `next_page_uri`: absent or null on the last page, else a relative Calls.json URI of the account. */
export function listedNextPage(next: unknown, accountSid: string): { uri: string | null } | Malformed {
  if (next === null || next === undefined) return { uri: null };
  if (typeof next !== "string" || !isOwnCallsPageUri(next, accountSid))
    return malformed(`next_page_uri ${shown(next)} is not under ${callsListPrefix(accountSid)}`);
  return { uri: next };
}
