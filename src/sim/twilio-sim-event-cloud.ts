/** The CloudEvent Event Streams delivers for a call's end: a copy of the status callback Twilio sent the app. */
import { randomUUID } from "node:crypto";
import { formatRfc2822 } from "./rfc2822.js";
import type { SimCallProgress, SimCloudEvent } from "./twilio-sim-event-types.js";
import { accountPath, DEFAULT_FROM, DEFAULT_TO } from "./twilio-sim-resources.js";
import type { StoredCall } from "./twilio-sim-types.js";

/** Where a call's status callbacks go when its records do not say. */
export const DEFAULT_STATUS_CALLBACK = "https://app.example.com/twilio/status";

export const hex32 = (): string => randomUUID().replaceAll("-", "");

/** The status-callback event type of a step, under its current name and its deprecated one. */
export const progressTypes = (step: SimCallProgress | "completed"): [string, string] => [
  `com.twilio.voice.status-callback.call.${step}`,
  `com.twilio.voice.webhook.status-callback.call.${step}`,
];

/** The `CallStatus` a status callback of each step carries (`completed`: the call's own terminal status). */
const CALLBACK_STATUS: Record<SimCallProgress, string> = {
  initiated: "initiated",
  ringing: "ringing",
  answered: "in-progress",
};
const SEQUENCE: Record<SimCallProgress | "completed", number> = {
  initiated: 0,
  ringing: 1,
  answered: 2,
  completed: 3,
};

/**
 * Whether Twilio sent the app this step's status callback, which is what Event Streams copies: the call's
 * own flag, else what its records show (a create request naming a callback for that event, `completed` being
 * the default one; an inbound call with a status callback delivered), else yes.
 */
export function asksForStatusCallbacks(
  call: StoredCall,
  step: SimCallProgress | "completed" = "completed",
): boolean {
  if (call.statusCallbacks !== undefined) return call.statusCallbacks;
  const origin = call.records?.origin;
  if (origin === undefined) return true;
  if (origin.kind === "inbound") return (call.records?.deliveries ?? []).some((d) => d.twiml !== true);
  if (origin.statusCallback === undefined) return false;
  const events = origin.statusCallbackEvent ?? ["completed"];
  return (Array.isArray(events) ? events : events.split(/[\s,]+/)).includes(step);
}

function statusCallbackOf(call: StoredCall): { url: string; method: string } {
  const origin = call.records?.origin;
  if (origin?.kind === "api" && origin.statusCallback !== undefined) {
    return { url: origin.statusCallback, method: origin.statusCallbackMethod ?? "POST" };
  }
  const delivered = call.records?.deliveries?.find((d) => d.twiml !== true);
  return delivered
    ? { url: delivered.url, method: delivered.method ?? "POST" }
    : { url: DEFAULT_STATUS_CALLBACK, method: "POST" };
}

/**
 * The event of one status callback Twilio sent the app: `completed` for a call already ended (status, end
 * time and duration set), or an earlier step at `at`.
 */
export function statusCallbackEvent(
  call: StoredCall,
  step: SimCallProgress | "completed",
  at: Date,
  appResponseCode: number | null,
): SimCloudEvent {
  const from = call.from ?? DEFAULT_FROM;
  const to = call.to ?? DEFAULT_TO;
  const callback = statusCallbackOf(call);
  const direction = call.records?.origin.kind === "api" ? "outbound-api" : "inbound";
  // Twilio posts the callback a moment after the step and the app answers within the request's duration.
  const requestDuration = appResponseCode === null ? 15_000 : 80;
  const sentAt = new Date(at.getTime() + 200);
  const duration = call.duration ?? "0";
  const ended =
    step === "completed"
      ? {
          CallStatus: call.status,
          CallDuration: duration,
          Duration: String(Math.ceil(Number(duration) / 60)),
        }
      : { CallStatus: CALLBACK_STATUS[step] };
  return {
    specversion: "1.0",
    type: progressTypes(step)[0],
    source: `${accountPath(call.accountSid)}/Calls/${call.sid}.json`,
    id: `EV${hex32()}`,
    dataschema: "https://events-schemas.twilio.com/Voice.WebhookEvent/2",
    datacontenttype: "application/json",
    time: sentAt.toISOString(),
    data: {
      sid: call.sid,
      accountSid: call.accountSid,
      timestamp: sentAt.toISOString(),
      requestDateCreated: formatRfc2822(sentAt),
      eventSid: `VW${hex32()}`,
      request: {
        method: callback.method,
        url: callback.url,
        parameters: {
          AccountSid: call.accountSid,
          ApiVersion: "2010-04-01",
          CallSid: call.sid,
          ...ended,
          CallbackSource: "call-progress-events",
          Called: to,
          Caller: from,
          Direction: direction,
          From: from,
          To: to,
          SequenceNumber: String(SEQUENCE[step]),
          Timestamp: formatRfc2822(at),
        },
      },
      response: {
        responseCode: appResponseCode,
        requestDuration,
        contentType: appResponseCode === null ? null : "text/html",
        responseBody: "",
        dateCreated: formatRfc2822(new Date(sentAt.getTime() + requestDuration)),
      },
    },
  };
}
