/** A call's Events and Notifications lists, as Twilio serialises them, within Twilio's availability window. */
import { createHash } from "node:crypto";
import { formatRfc2822 } from "./rfc2822.js";
import type { Reply } from "./twilio-sim-http.js";
import { pageOf } from "./twilio-sim-paging.js";
import type { SimCallNotification, SimCallRecords, SimWebhookDelivery } from "./twilio-sim-records-types.js";
import { accountPath, DEFAULT_FROM, DEFAULT_TO } from "./twilio-sim-resources.js";
import type { StoredCall } from "./twilio-sim-types.js";

const MINUTE_MS = 60_000;
/** Twilio documents the Events of a call as readable 15 minutes after it ends... */
export const DEFAULT_RECORDS_AVAILABLE_AFTER_MS = 15 * MINUTE_MS;
/** ...and their request and response as personal data deleted after 30 days. */
export const DEFAULT_EVENTS_RETENTION_MS = 30 * 24 * 60 * MINUTE_MS;

export interface RecordsTiming {
  now: () => Date;
  availableAfterMs: number;
  retentionMs: number;
}

const TERMINAL = new Set(["completed", "busy", "no-answer", "canceled", "failed"]);

/** When the call ended, as far as its resource tells; null while it is not over. */
function callEndedAt(call: StoredCall): number | null {
  if (!TERMINAL.has(call.status)) return null;
  if (call.endTime) return call.endTime.getTime();
  if (call.startTime && call.duration !== null)
    return call.startTime.getTime() + Number(call.duration) * 1000;
  return (call.dateUpdated ?? call.startTime ?? call.dateCreated).getTime();
}

type Phase = "pending" | "readable" | "expired";

function phaseOf(call: StoredCall, timing: RecordsTiming): Phase {
  const ended = callEndedAt(call);
  const now = timing.now().getTime();
  if (ended === null || now < ended + timing.availableAfterMs) return "pending";
  return now > ended + timing.retentionMs ? "expired" : "readable";
}

const fromOf = (call: StoredCall, r: SimCallRecords) => r.from ?? call.from ?? DEFAULT_FROM;
const toOf = (call: StoredCall, r: SimCallRecords) => r.to ?? call.to ?? DEFAULT_TO;

function createEvent(call: StoredCall, r: SimCallRecords): Record<string, unknown> | null {
  const o = r.origin;
  if (o.kind !== "api") return null;
  const from = fromOf(call, r);
  const to = toOf(call, r);
  const date = formatRfc2822(o.date ?? call.dateCreated);
  const parameters: Record<string, unknown> = { to, from, url: o.url };
  if (o.statusCallback !== undefined) parameters.status_callback = o.statusCallback;
  if (o.statusCallbackMethod !== undefined) parameters.status_callback_method = o.statusCallbackMethod;
  if (o.statusCallbackEvent !== undefined) parameters.status_callback_event = o.statusCallbackEvent;
  // The call as the create request's answer showed it: queued, nothing known yet but who it is between.
  const queued = {
    sid: call.sid,
    account_sid: call.accountSid,
    date_created: date,
    date_updated: date,
    to,
    to_formatted: to,
    from,
    from_formatted: from,
    status: "queued",
    start_time: null,
    end_time: null,
    duration: null,
    direction: "outbound-api",
    api_version: "2010-04-01",
    uri: `${accountPath(call.accountSid)}/Calls/${call.sid}.json`,
  };
  return {
    request: {
      method: "POST",
      url: `https://api.twilio.com${accountPath(call.accountSid)}/Calls.json`,
      parameters,
    },
    response: {
      response_code: 201,
      request_duration: 120,
      content_type: "application/json",
      response_body: JSON.stringify(queued),
      date_created: date,
    },
  };
}

function deliveryEvent(call: StoredCall, r: SimCallRecords, d: SimWebhookDelivery, sequence: number) {
  const from = fromOf(call, r);
  const to = toOf(call, r);
  const answered = d.responseCode !== null;
  const defaultBody = d.twiml
    ? `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting your call from ${from}.</Say></Response>`
    : "";
  return {
    request: {
      method: d.method ?? "POST",
      url: d.url,
      parameters: {
        account_sid: call.accountSid,
        api_version: "2010-04-01",
        call_sid: call.sid,
        call_status: d.callStatus,
        direction: r.origin.kind === "api" ? "outbound-api" : "inbound",
        from,
        to,
        caller: from,
        called: to,
        from_city: "SAN FRANCISCO",
        from_state: "CA",
        from_zip: "94105",
        from_country: "US",
        to_country: "US",
        ...(d.twiml ? {} : { callback_source: "call-progress-events", sequence_number: String(sequence) }),
        ...(d.callStatus === "completed" && call.duration !== null ? { call_duration: call.duration } : {}),
        timestamp: formatRfc2822(d.date),
        ...d.parameters,
      },
    },
    response: {
      response_code: d.responseCode,
      request_duration: d.requestDuration,
      content_type: d.contentType !== undefined ? d.contentType : answered ? contentTypeOf(d) : null,
      response_body: d.responseBody !== undefined ? d.responseBody : answered ? defaultBody : null,
      date_created: formatRfc2822(new Date(d.date.getTime() + d.requestDuration)),
    },
  };
}

const contentTypeOf = (d: SimWebhookDelivery) => (d.twiml ? "application/xml" : "text/plain; charset=utf-8");

/**
 * The create request first (it came before the call existed), then what Twilio sent, in order. Empty until
 * the records are available, and again once deleted: past retention the call itself is still there, so its
 * empty list says "nothing kept" where a 404 would say "no such call".
 */
export function listCallEvents(call: StoredCall, timing: RecordsTiming, params: URLSearchParams): Reply {
  const r = call.records;
  const events: unknown[] = [];
  if (r && phaseOf(call, timing) === "readable") {
    const create = createEvent(call, r);
    if (create) events.push(create);
    const deliveries = [...(r.deliveries ?? [])].sort((a, b) => a.date.getTime() - b.date.getTime());
    let sequence = 0;
    for (const d of deliveries) events.push(deliveryEvent(call, r, d, d.twiml ? sequence : sequence++));
  }
  const base = `${accountPath(call.accountSid)}/Calls/${call.sid}/Events.json`;
  return pageOf(events, base, params, "events", (e) => e);
}

function notificationResource(call: StoredCall, n: SimCallNotification, index: number) {
  const sid = n.sid ?? `NO${createHash("sha256").update(`${call.sid}:${index}`).digest("hex").slice(0, 32)}`;
  const date = formatRfc2822(n.messageDate);
  return {
    account_sid: call.accountSid,
    api_version: "2010-04-01",
    call_sid: call.sid,
    date_created: date,
    date_updated: date,
    error_code: String(n.errorCode),
    log: String(n.log),
    message_date: date,
    message_text: n.messageText,
    more_info: `https://www.twilio.com/docs/errors/${n.errorCode}`,
    request_method: n.requestMethod ?? "POST",
    request_url: n.requestUrl,
    sid,
    uri: `${accountPath(call.accountSid)}/Calls/${call.sid}/Notifications/${sid}.json`,
  };
}

/**
 * Notifications are not marked as personal data, so only the availability delay applies to them, not the
 * 30-day deletion of the events.
 */
export function listCallNotifications(
  call: StoredCall,
  timing: RecordsTiming,
  params: URLSearchParams,
): Reply {
  const log = params.get("Log");
  const all =
    call.records && phaseOf(call, timing) !== "pending"
      ? (call.records.notifications ?? [])
          .map((n, i) => ({ n, i }))
          .filter(({ n }) => log === null || String(n.log) === log)
          .sort((a, b) => a.n.messageDate.getTime() - b.n.messageDate.getTime())
      : [];
  const base = `${accountPath(call.accountSid)}/Calls/${call.sid}/Notifications.json`;
  return pageOf(all, base, params, "notifications", ({ n, i }) => notificationResource(call, n, i), ["Log"]);
}

/** The windows from the simulator's options; a negative or non-finite one is refused at start. */
export function recordsTiming(opts: {
  recordsAvailableAfterMs?: number;
  eventsRetentionMs?: number;
  now?: () => Date;
}): RecordsTiming {
  const availableAfterMs = opts.recordsAvailableAfterMs ?? DEFAULT_RECORDS_AVAILABLE_AFTER_MS;
  const retentionMs = opts.eventsRetentionMs ?? DEFAULT_EVENTS_RETENTION_MS;
  for (const [name, v] of [
    ["recordsAvailableAfterMs", availableAfterMs],
    ["eventsRetentionMs", retentionMs],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
  return { now: opts.now ?? (() => new Date()), availableAfterMs, retentionMs };
}
