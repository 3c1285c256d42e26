/**
 * Ready-made records for a finished call, one per reason its end did or did not reach the app: scenarios
 * name the reason and get the events and notifications Twilio would keep for it.
 */
import type { SimCallNotification, SimCallRecords, SimWebhookDelivery } from "./twilio-sim-records-types.js";
import { DEFAULT_FROM } from "./twilio-sim-resources.js";
import type { SimTwilioCall } from "./twilio-sim-types.js";

export type CallbackCause =
  /** API-created with a status callback for every event; the `completed` one was answered 200 in ~80 ms. */
  | "acknowledged"
  /** The same, but the `completed` callback was answered 500 (or not at all) and Twilio noted it. */
  | "failed"
  /** API-created without a status callback, or with one whose events leave out `completed`. */
  | "not_requested"
  /** A caller dialled a number that has no status callback: Twilio fetched the TwiML and nothing else. */
  | "inbound_no_callback";

export interface CauseOptions {
  /** Default `https://app.example.com/twilio/status`. */
  statusCallback?: string;
  /** Default `https://app.example.com/twilio/voice`. */
  voiceUrl?: string;
  /** For `failed`: the app answered 500 (notification 15003, default) or never answered (11200). */
  failure?: "http_500" | "timeout";
  /** For `not_requested`: no status callback at all (default), or one without the `completed` event. */
  notRequested?: "no_status_callback" | "completed_not_subscribed";
  /** Default the call's own `from` / `to`: the records carry them, as Twilio's do. */
  from?: string;
  to?: string;
}

const SECOND = 1000;
/** Twilio gives up on a webhook after 15 seconds. */
const TIMEOUT_MS = 15 * SECOND;
const ALL_EVENTS = ["initiated", "ringing", "answered", "completed"];

const later = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

/** When the call ended: its end time, else start + duration. */
function endOf(call: SimTwilioCall): Date {
  if (call.endTime) return call.endTime;
  const start = call.startTime ?? call.dateCreated;
  if (start && call.duration !== null) return later(start, Number(call.duration) * SECOND);
  throw new RangeError(
    `call ${call.sid}: a cause needs an ended call (end time, or start time and duration)`,
  );
}

function failedCallback(url: string, end: Date, failure: "http_500" | "timeout", from: string) {
  const date = later(end, SECOND);
  const delivery: SimWebhookDelivery =
    failure === "timeout"
      ? { callStatus: "completed", url, responseCode: null, requestDuration: TIMEOUT_MS, date }
      : {
          callStatus: "completed",
          url,
          responseCode: 500,
          requestDuration: 230,
          date,
          contentType: "text/html; charset=utf-8",
          // What a crashing handler prints: the caller's number is in the stack trace.
          responseBody: `<h1>Internal Server Error</h1><pre>UpdateFailed: call for ${from} not saved</pre>`,
        };
  const notification: SimCallNotification =
    failure === "timeout"
      ? {
          errorCode: 11200,
          log: 0,
          requestUrl: url,
          messageDate: later(date, TIMEOUT_MS),
          messageText: `Msg=HTTP+retrieval+failure&url=${encodeURIComponent(url)}&ErrorCode=11200&LogLevel=ERROR`,
        }
      : {
          errorCode: 15003,
          log: 1,
          requestUrl: url,
          messageDate: later(date, 230),
          messageText: `Msg=Got+HTTP+500+response+to+${encodeURIComponent(url)}&httpResponse=500&ErrorCode=15003`,
        };
  return { delivery, notification };
}

/** The records Twilio would keep for `call` (ended) when its end reached the app, or not, for `cause`. */
export function recordsForCause(
  call: SimTwilioCall,
  cause: CallbackCause,
  opts: CauseOptions = {},
): SimCallRecords {
  const end = endOf(call);
  const answeredAt = call.startTime ?? call.dateCreated ?? later(end, -60 * SECOND);
  const createdAt = call.dateCreated ?? later(answeredAt, -5 * SECOND);
  const statusUrl = opts.statusCallback ?? "https://app.example.com/twilio/status";
  const voiceUrl = opts.voiceUrl ?? "https://app.example.com/twilio/voice";
  const from = opts.from ?? call.from ?? DEFAULT_FROM;
  // Left out when the call's own numbers apply, so the records never disagree with the call.
  const between = { ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) };
  const twiml: SimWebhookDelivery = {
    callStatus: cause === "inbound_no_callback" ? "ringing" : "in-progress",
    url: voiceUrl,
    responseCode: 200,
    requestDuration: 95,
    date: answeredAt,
    twiml: true,
  };
  const ok = (callStatus: string, date: Date): SimWebhookDelivery => ({
    callStatus,
    url: statusUrl,
    responseCode: 200,
    requestDuration: 80,
    date,
    responseBody: "",
  });

  if (cause === "inbound_no_callback")
    return { origin: { kind: "inbound" }, deliveries: [twiml], ...between };
  if (cause === "not_requested") {
    if (opts.notRequested !== "completed_not_subscribed") {
      return { origin: { kind: "api", date: createdAt, url: voiceUrl }, deliveries: [twiml], ...between };
    }
    return {
      origin: {
        kind: "api",
        date: createdAt,
        url: voiceUrl,
        statusCallback: statusUrl,
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["initiated", "answered"],
      },
      deliveries: [ok("initiated", later(createdAt, SECOND)), twiml, ok("in-progress", answeredAt)],
      ...between,
    };
  }
  const origin = {
    kind: "api" as const,
    date: createdAt,
    url: voiceUrl,
    statusCallback: statusUrl,
    statusCallbackMethod: "POST" as const,
    statusCallbackEvent: ALL_EVENTS,
  };
  const progress = [
    ok("initiated", later(createdAt, SECOND)),
    ok("ringing", later(createdAt, 2 * SECOND)),
    twiml,
    ok("in-progress", answeredAt),
  ];
  if (cause === "acknowledged") {
    return { origin, deliveries: [...progress, ok("completed", later(end, SECOND))], ...between };
  }
  const failed = failedCallback(statusUrl, end, opts.failure ?? "http_500", from);
  return {
    origin,
    deliveries: [...progress, failed.delivery],
    notifications: [failed.notification],
    ...between,
  };
}

/** The call with the records of `cause` attached, ready to seed. */
export function withCause(call: SimTwilioCall, cause: CallbackCause, opts?: CauseOptions): SimTwilioCall {
  return { ...call, records: recordsForCause(call, cause, opts) };
}
