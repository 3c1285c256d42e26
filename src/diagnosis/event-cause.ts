/**
 * The cause of a lost end, from the Event Streams copy of the app's status callback: what the app answered
 * Twilio settles it at once, where the Call Events API would be read 15 minutes later. Pure.
 */
import type { CallNudge } from "../model/index.js";
import { type AppRequest, stripUrl } from "./call-records.js";
import type { CauseDiagnosis } from "./cause.js";

/** What a cause row holds when an event settled it. */
export type EventCauseDetail = CauseDiagnosis & { requests: AppRequest[]; from: string };

/** Where a settled cause came from: the report names it. */
export const EVENT_CAUSE_SOURCE = "event_stream";

/**
 * The cause the event shows for a call the daemon just ended (so the app's row missed the end): a 2xx answer is
 * a callback the app acknowledged and did not apply; any other status, a callback that failed. Null when the
 * event carries no answer: the Call Events API is then read as for any end.
 */
export function causeFromEvent(
  nudge: CallNudge,
): { cause: CauseDiagnosis["cause"]; detail: EventCauseDetail } | null {
  const code = nudge.appResponseCode;
  if (code === null || !Number.isInteger(code)) return null;
  const request = {
    endpoint: stripUrl(nudge.callback?.url ?? null),
    method: nudge.callback?.method ?? null,
    callStatus: nudge.callStatus,
    responseCode: code,
    durationMs: nudge.callback?.durationMs ?? null,
    at: nudge.callback?.at ?? nudge.eventAt.toISOString(),
  };
  const detail: CauseDiagnosis =
    code >= 200 && code < 300
      ? { cause: "callback_acknowledged", attempts: 1, failedAttempts: 0, ...request }
      : { cause: "callback_failed", failure: "http_error", errorCode: null, attempts: 1, ...request };
  // `requests`: the callback as a call's story lists the requests Twilio's records show.
  return { cause: detail.cause, detail: { ...detail, requests: [request], from: EVENT_CAUSE_SOURCE } };
}
