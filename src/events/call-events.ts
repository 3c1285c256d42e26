/**
 * What a delivery from Twilio Event Streams says to the daemon: a JSON array of CloudEvents, of which only the
 * voice status callbacks with a terminal `CallStatus` become nudges. Pure: no I/O, the clock is given.
 *
 * The shape read (the status-callback event types, schema Voice.WebhookEvent): `{specversion, type, source,
 * id, dataschema, datacontenttype, time, data: {sid, timestamp, requestDateCreated, eventSid,
 * request: {method, url, parameters: {CallSid, CallStatus, AccountSid, …}}, response: {responseCode, …}}}`.
 * `data.sid` is the call's SID in Twilio's published examples, so it stands in for a missing
 * `parameters.CallSid`; `data.timestamp` stands in for a missing or unreadable `time` (the published examples
 * show no `time`).
 */

import { safeJson } from "../json.js";
import { type CallNudge, isCallSid, TWILIO_TERMINAL_STATUSES } from "../model/index.js";
import { parseIsoInstant } from "../time/iso-text.js";

/** Why a whole delivery is refused (answered 400): nothing in it is read. */
export type BatchRefusal = "not_json" | "not_a_batch" | "too_many_events";

/** Why one event of an accepted delivery is passed over; the others are still read. */
export const IGNORED_REASONS = [
  "other_type",
  "not_terminal",
  "malformed",
  "bad_call_sid",
  "bad_account_sid",
  "bad_time",
  "stale",
  "future",
] as const;
export type IgnoredReason = (typeof IGNORED_REASONS)[number];

export interface IgnoredCount {
  reason: IgnoredReason;
  count: number;
}

export type EventBatch =
  | { refused: BatchRefusal }
  | {
      /** Every event read, whatever became of it. */
      received: number;
      nudges: CallNudge[];
      /** One entry per reason that occurred, in IGNORED_REASONS order. */
      ignored: IgnoredCount[];
    };

export interface BatchLimits {
  /** More events than this in one delivery: refused whole (a batch from Twilio is far smaller). */
  maxEvents: number;
  /** An event older than this is stale: past Twilio's 4 h of retries, it is a replay, not a delivery. */
  maxAgeMs: number;
  /** An event dated further ahead than this is not believed (clock skew allowed). Default MAX_AHEAD_MS. */
  maxAheadMs?: number;
}

/** Twilio's own retries last 4 hours: an event older than 6 is no delivery of theirs. */
export const DEFAULT_MAX_AGE_MS = 6 * 3600_000;
export const DEFAULT_MAX_EVENTS = 1000;
/** Clocks disagree a little; an event dated ten minutes ahead says its clock, or its sender, is wrong. */
export const MAX_AHEAD_MS = 10 * 60_000;

/** A CloudEvent id longer than this is garbled (Twilio's are 34 characters). */
const MAX_ID_LENGTH = 256;
const TYPE_PREFIXES = [
  "com.twilio.voice.status-callback.call.",
  "com.twilio.voice.webhook.status-callback.call.",
];
const TYPE_SUFFIXES = new Set(["initiated", "ringing", "answered", "completed"]);
const TERMINAL: ReadonlySet<string> = new Set(TWILIO_TERMINAL_STATUSES);
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function readEventBatch(body: string, now: Date, limits: BatchLimits): EventBatch {
  const parsed = safeJson(body);
  if (parsed === undefined) return { refused: "not_json" };
  if (!Array.isArray(parsed)) return { refused: "not_a_batch" };
  if (parsed.length > limits.maxEvents) return { refused: "too_many_events" };
  const nudges: CallNudge[] = [];
  const counts = new Map<IgnoredReason, number>();
  for (const event of parsed) {
    const read = readEvent(event, now, limits);
    if (typeof read === "string") counts.set(read, (counts.get(read) ?? 0) + 1);
    else nudges.push(read);
  }
  const ignored = IGNORED_REASONS.flatMap((reason) => {
    const count = counts.get(reason);
    return count === undefined ? [] : [{ reason, count }];
  });
  return { received: parsed.length, nudges, ignored };
}

export function isStatusCallbackType(type: string): boolean {
  const prefix = TYPE_PREFIXES.find((p) => type.startsWith(p));
  return prefix !== undefined && TYPE_SUFFIXES.has(type.slice(prefix.length));
}

function readEvent(event: unknown, now: Date, limits: BatchLimits): CallNudge | IgnoredReason {
  if (!isObj(event) || typeof event.type !== "string") return "malformed";
  if (!isStatusCallbackType(event.type)) return "other_type";
  const { id, data } = event;
  if (typeof id !== "string" || id === "" || id.length > MAX_ID_LENGTH) return "malformed";
  if (!isObj(data) || !isObj(data.request) || !isObj(data.request.parameters)) return "malformed";
  const params = data.request.parameters;
  if (typeof params.CallStatus !== "string") return "malformed";
  if (!TERMINAL.has(params.CallStatus)) return "not_terminal";
  const callSid = callSidOf(params, data);
  if (callSid === null) return "bad_call_sid";
  const accountSid = accountSidOf(params, data);
  if (accountSid === undefined) return "bad_account_sid";
  const eventAt = [event.time, data.timestamp].map(instantOf).find((at) => at !== null);
  if (eventAt === undefined) return "bad_time";
  const age = now.getTime() - eventAt.getTime();
  if (age > limits.maxAgeMs) return "stale";
  if (-age > (limits.maxAheadMs ?? MAX_AHEAD_MS)) return "future";
  return {
    eventId: id,
    callSid,
    accountSid,
    callStatus: params.CallStatus,
    eventAt,
    appResponseCode: responseCodeOf(data.response),
    callback: callbackOf(data.request, data.response),
  };
}

/** The app's status callback the event copies: where it went, how, how long the app took, when. */
function callbackOf(request: Obj, response: unknown): CallNudge["callback"] {
  const text = (v: unknown, max: number) => (typeof v === "string" && v.length <= max ? v : null);
  const r = isObj(response) ? response : {};
  const ms = r.requestDuration;
  return {
    url: text(request.url, 2048),
    method: text(request.method, 16),
    durationMs: typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : null,
    at: isoOf(text(r.dateCreated, 64)),
  };
}

/** Twilio dates its records in RFC 2822 (`Sun, 06 Dec 2026 12:00:00 +0000`); kept as ISO, or null. */
function isoOf(value: string | null): string | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The Call SID the event names, or null when it names none of that shape. */
function callSidOf(params: Obj, data: Obj): string | null {
  const given = params.CallSid ?? data.sid;
  return typeof given === "string" && isCallSid(given) ? given : null;
}

/** The account (null when the event names none), or undefined when what it names is not an Account SID. */
function accountSidOf(params: Obj, data: Obj): string | null | undefined {
  const given = params.AccountSid ?? data.accountSid;
  if (given === undefined || given === null) return null;
  return typeof given === "string" && ACCOUNT_SID.test(given) ? given : undefined;
}

function instantOf(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  // An offset is required: a time without one names no instant.
  const at = parseIsoInstant(value, undefined);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The HTTP status the app answered with; a missing or unreadable one is unknown, not a reason to drop the event. */
function responseCodeOf(response: unknown): number | null {
  if (!isObj(response)) return null;
  const code = response.responseCode;
  return typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 999 ? code : null;
}
