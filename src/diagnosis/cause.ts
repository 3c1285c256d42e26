/**
 * Why the end of a zombie call never reached the app, from Twilio's own records of the call (see
 * call-records.ts for the shapes and where they come from). Pure: the records and facts in, a cause out.
 *
 * A cause is only claimed when the records show it; anything they cannot show is `unknown` with the
 * reason, never a guess that would send someone to fix the wrong thing.
 */
import {
  TWILIO_RECORDS_DELAY_MS as RECORDS_DELAY_MS,
  TWILIO_RECORDS_KEPT_MS as RECORDS_KEPT_MS,
  TWILIO_TERMINAL_STATUSES,
} from "../model/index.js";
import {
  type AppRequest,
  type CallNotification,
  type CreateRequest,
  type Endpoint,
  type EventsPage,
  type NotificationsPage,
  sameEndpoint,
} from "./call-records.js";

/** Error codes of a callback Twilio could not deliver: HTTP retrieval failure, connection failure, 4xx/5xx. */
export const CALLBACK_FAILURE_CODES = ["11200", "11205", "15003"] as const;

export const CAUSES = [
  "callback_acknowledged",
  "callback_failed",
  "callback_not_requested",
  "unknown",
] as const;
export type Cause = (typeof CAUSES)[number];

export interface CallRecords {
  /** null: not fetched. */
  events: EventsPage | null;
  notifications: NotificationsPage | null;
}

export interface CallFacts {
  now: Date;
  /** Twilio's end time of the call, when known. */
  endedAt: Date | null;
  startedAt: Date | null;
  /** Twilio's `direction` ("inbound", "outbound-api", "outbound-dial"), when known. */
  direction: string | null;
}

/** The one callback request a report names. */
export type CallbackDetail = AppRequest;

export type NotRequestedReason =
  /** The create request gave no status_callback. */
  | "no_status_callback_url"
  /** The create request's status_callback_event list lacks `completed`. */
  | "completed_not_in_events"
  /** No create request (inbound, or a dialled leg) and Twilio sent no terminal callback: none configured. */
  | "no_status_callback_sent";

export type UnknownReason =
  | "records_not_fetched"
  | "events_unreadable"
  /** The call ended less than RECORDS_DELAY_MS ago: its events may not all be readable yet. */
  | "records_not_ready"
  /** No records, and the call is older than Twilio keeps them. */
  | "records_expired"
  /** No records, though they should be kept. */
  | "no_records"
  /** A further page, or entries that could not be read: the missing part may hold the answer. */
  | "records_incomplete"
  /** An API-created call whose create request is not among its events. */
  | "create_request_missing"
  /** A terminal callback was asked for, yet the records show neither it nor a failure to send it. */
  | "callback_requested_but_not_recorded"
  /** Only the notifications could show a failed delivery, and they could not be read. */
  | "notifications_unreadable";

export type CauseDiagnosis =
  | ({
      cause: "callback_acknowledged";
      /** Terminal callbacks seen, and how many of them were not answered 2xx (retried until one was). */
      attempts: number;
      failedAttempts: number;
    } & CallbackDetail)
  | ({
      cause: "callback_failed";
      /** http_error: answered, not 2xx; no_response: no answer recorded; notified: only a notification shows it. */
      failure: "http_error" | "no_response" | "notified";
      errorCode: string | null;
      attempts: number;
    } & CallbackDetail)
  | {
      cause: "callback_not_requested";
      reason: NotRequestedReason;
      statusCallback: Endpoint | null;
      statusCallbackMethod: string | null;
      /** The events asked for; null when the create request gave none or there is no create request. */
      callbackEvents: string[] | null;
      /** Distinct call_status values of the requests Twilio did send (e.g. ringing, in-progress). */
      statusesSeen: string[];
    }
  | { cause: "unknown"; reason: UnknownReason; detail: string };

const TERMINAL: ReadonlySet<string> = new Set(TWILIO_TERMINAL_STATUSES);
const FAILURE_CODES: ReadonlySet<string> = new Set(CALLBACK_FAILURE_CODES);

const is2xx = (r: AppRequest) => r.responseCode !== null && r.responseCode >= 200 && r.responseCode <= 299;

/** By Twilio's time, undated ones after the dated in their list order (sort is stable). */
function byTime(requests: AppRequest[]): AppRequest[] {
  return [...requests].sort((a, b) =>
    a.at === b.at ? 0 : a.at === null ? 1 : b.at === null ? -1 : a.at < b.at ? -1 : 1,
  );
}

const unknown = (reason: UnknownReason, text: string): CauseDiagnosis => ({
  cause: "unknown",
  reason,
  detail: text,
});

/**
 * The terminal callbacks: the requests whose call_status is an end status. When the create request named
 * a status callback and some of them went there, only those count: a TwiML action URL can also be told
 * `completed`, but it is not the callback the app relies on for the end.
 */
function terminalCallbacks(requests: AppRequest[], create: CreateRequest | null): AppRequest[] {
  const terminal = requests.filter((r) => r.callStatus !== null && TERMINAL.has(r.callStatus));
  const toStatusCallback = terminal.filter((r) => sameEndpoint(r.endpoint, create?.statusCallback ?? null));
  return toStatusCallback.length > 0 ? toStatusCallback : terminal;
}

function readNotifications(page: NotificationsPage | null): CallNotification[] {
  return page?.kind === "read" ? page.notifications : [];
}

/** A delivery-failure notification about the status callback (or the given endpoint), if any. */
function failureNotification(
  notifications: CallNotification[],
  endpoints: (Endpoint | null)[],
): CallNotification | null {
  return (
    notifications.find(
      (n) =>
        n.errorCode !== null &&
        FAILURE_CODES.has(n.errorCode) &&
        (n.aboutStatusCallback ||
          n.errorCode === "15003" ||
          endpoints.some((e) => sameEndpoint(n.endpoint, e))),
    ) ?? null
  );
}

function fromTerminal(terminal: AppRequest[], notifications: CallNotification[]): CauseDiagnosis {
  const ordered = byTime(terminal);
  const failedAttempts = ordered.filter((r) => !is2xx(r)).length;
  const acknowledged = ordered.find(is2xx);
  if (acknowledged) {
    return {
      cause: "callback_acknowledged",
      attempts: ordered.length,
      failedAttempts,
      ...acknowledged,
    };
  }
  const last = ordered[ordered.length - 1] as AppRequest;
  const notified = failureNotification(notifications, [last.endpoint]);
  return {
    cause: "callback_failed",
    failure: last.responseCode === null ? "no_response" : "http_error",
    errorCode: notified?.errorCode ?? null,
    attempts: ordered.length,
    ...last,
  };
}

function fromNotification(n: CallNotification): CauseDiagnosis {
  return {
    cause: "callback_failed",
    failure: "notified",
    errorCode: n.errorCode,
    attempts: 0,
    endpoint: n.endpoint,
    method: n.method,
    callStatus: null,
    responseCode: n.responseCode,
    durationMs: null,
    at: n.at,
  };
}

function notRequested(
  reason: NotRequestedReason,
  create: CreateRequest | null,
  requests: AppRequest[],
): CauseDiagnosis {
  const statusesSeen = [...new Set(requests.map((r) => r.callStatus).filter((s): s is string => s !== null))];
  return {
    cause: "callback_not_requested",
    reason,
    statusCallback: create?.statusCallback ?? null,
    statusCallbackMethod: create?.statusCallbackMethod ?? null,
    callbackEvents: create?.statusCallbackEvents ?? null,
    statusesSeen,
  };
}

/** What the create request says when no terminal callback was seen. */
function fromCreateRequest(create: CreateRequest, requests: AppRequest[]): CauseDiagnosis {
  if (!create.statusCallbackRequested) return notRequested("no_status_callback_url", create, requests);
  // No events given means Twilio sends `completed` only.
  if (create.statusCallbackEvents !== null && !create.statusCallbackEvents.includes("completed")) {
    return notRequested("completed_not_in_events", create, requests);
  }
  return unknown(
    "callback_requested_but_not_recorded",
    "the create request asked for the completed callback, but neither it nor a failure to send it is recorded",
  );
}

function recordsAgeMs(facts: CallFacts): number | null {
  const from = facts.endedAt ?? facts.startedAt;
  return from === null ? null : facts.now.getTime() - from.getTime();
}

/** Why the call's end did not reach the app, from Twilio's records of the call. */
export function diagnoseCause(records: CallRecords, facts: CallFacts): CauseDiagnosis {
  const { events } = records;
  if (events === null) return unknown("records_not_fetched", "the call's events were not fetched");
  if (events.kind === "unreadable") return unknown("events_unreadable", events.reason);
  if (facts.endedAt !== null && facts.now.getTime() - facts.endedAt.getTime() < RECORDS_DELAY_MS) {
    return unknown(
      "records_not_ready",
      "the call ended less than 15 minutes ago; its events may be incomplete",
    );
  }

  const notifications = readNotifications(records.notifications);
  const create = events.createRequest;
  const terminal = terminalCallbacks(events.appRequests, create);
  const incomplete = events.hasMore || events.unreadableEvents > 0;
  if (terminal.some(is2xx)) return fromTerminal(terminal, notifications);
  if (incomplete) {
    return unknown(
      "records_incomplete",
      events.hasMore
        ? "the events continue on a further page"
        : `${events.unreadableEvents} event(s) could not be read`,
    );
  }
  if (terminal.length > 0) return fromTerminal(terminal, notifications);

  const notified = failureNotification(notifications, [create?.statusCallback ?? null]);
  if (notified) return fromNotification(notified);
  if (create) return fromCreateRequest(create, events.appRequests);

  if (events.appRequests.length === 0) {
    const age = recordsAgeMs(facts);
    if (age !== null && age > RECORDS_KEPT_MS) {
      return unknown(
        "records_expired",
        "no events, and the call is older than the 30 days Twilio keeps them",
      );
    }
    if (facts.direction !== "inbound") {
      return unknown(
        "no_records",
        "no events, not even the create request, though they should still be kept",
      );
    }
  }
  if (facts.direction === "outbound-api") {
    return unknown(
      "create_request_missing",
      "an API-created call whose create request is not among its events",
    );
  }
  // Absence of a callback is only a cause when a failed one would have shown in the notifications.
  const page = records.notifications;
  if (page === null || page.kind === "unreadable") {
    return unknown(
      "notifications_unreadable",
      page === null ? "the call's notifications were not fetched" : page.reason,
    );
  }
  if (page.hasMore || page.unreadableNotifications > 0) {
    return unknown("records_incomplete", "the notifications are incomplete");
  }
  return notRequested("no_status_callback_sent", null, events.appRequests);
}
