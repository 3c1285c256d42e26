/**
 * Twilio's own records of one call, read from an Events page and a Notifications page, stripped to what a
 * cause report needs. These records are marked PII ("sensitive", deleted after 30 days): nothing else of
 * them survives here, so a report or log built on these types cannot leak phone numbers, request
 * parameters, response bodies, headers, tokens in query strings or token-like segments of a path.
 *
 * Shapes rest on twilio/twilio-oai spec/json/twilio_api_v2010.json (2026-04 snapshot):
 * - `GET …/Calls/{CallSid}/Events.json` → `{events: [api.v2010.account.call.call_event], next_page_uri, …}`.
 *   The schema leaves `request` and `response` untyped; the spec's example and the Call Event docs give
 *   `request {method, url, parameters}` (snake_case keys) and
 *   `response {response_code, request_duration, content_type, response_body, date_created}`.
 *   The example's first event is the create request: a POST to the Calls API whose parameters hold
 *   `to`, `from` and the `status_callback*` values that were given.
 * - `GET …/Calls/{CallSid}/Notifications.json` → `{notifications: [api.v2010.account.call.call_notification]}`
 *   with `error_code`, `log` ("0" error, "1" warning), `request_url`, `request_method`, `message_date`,
 *   `message_text` (form-encoded, e.g. `statusCallback=…&ErrorCode=15003&Msg=Got+HTTP+404+response+to+…`).
 * - Create Call: without `status_callback_event` Twilio sends only `completed`.
 */

import { redactPath } from "./redact-path.js";

/** Longest callback URL kept; anything longer is treated as unreadable rather than cut into a wrong one. */
export const MAX_URL_LENGTH = 2048;
/** Twilio's largest page; a longer list is not a page Twilio sent. */
export const MAX_PAGE_ITEMS = 1000;
const MAX_TOKEN_LENGTH = 32;
const MAX_CALLBACK_EVENTS = 16;
const MAX_ERROR_CODE_LENGTH = 16;

/** Where a request went, without userinfo, query string or fragment (they carry tokens). */
export interface Endpoint {
  scheme: "http" | "https";
  /** Host name with its port when one was given. */
  host: string;
  /** The path with each token-like segment replaced by REDACTED_SEGMENT. */
  path: string;
}

/** One request Twilio sent to the app during the call (TwiML fetch or status callback). */
export interface AppRequest {
  endpoint: Endpoint | null;
  method: string | null;
  /** `call_status` of the request's parameters: set on status callbacks and TwiML fetches. */
  callStatus: string | null;
  /** HTTP status the app answered; null when Twilio recorded none (no answer, timeout, connection error). */
  responseCode: number | null;
  durationMs: number | null;
  /** ISO time of Twilio's record of the answer. */
  at: string | null;
}

/** What the create request (API-created calls only) asked for its status callback. */
export interface CreateRequest {
  statusCallbackRequested: boolean;
  statusCallback: Endpoint | null;
  statusCallbackMethod: string | null;
  /** The events asked for; null when none were given (Twilio then sends only `completed`). */
  statusCallbackEvents: string[] | null;
  at: string | null;
}

export interface CallNotification {
  errorCode: string | null;
  level: "error" | "warning" | null;
  /** request_url, else the statusCallback named in the message text. */
  endpoint: Endpoint | null;
  method: string | null;
  /** True when the message text names a statusCallback: the notification is about the status callback. */
  aboutStatusCallback: boolean;
  /** HTTP status quoted by the message text ("Got HTTP 404 response"), when it quotes one. */
  responseCode: number | null;
  at: string | null;
}

export type Unreadable = { kind: "unreadable"; reason: string };

export type EventsPage =
  | {
      kind: "read";
      createRequest: CreateRequest | null;
      appRequests: AppRequest[];
      /** Entries that were not events as the spec describes them; skipped, but they leave the page incomplete. */
      unreadableEvents: number;
      /** Twilio has a further page (`next_page_uri`): what is not here may be there. */
      hasMore: boolean;
    }
  | Unreadable;

export type NotificationsPage =
  | { kind: "read"; notifications: CallNotification[]; unreadableNotifications: number; hasMore: boolean }
  | Unreadable;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

// Calls API paths: Calls.json (create) or Calls/{CallSid}.json (the spec's example of the create event).
const CALLS_API_PATH = /^\/2010-04-01\/Accounts\/AC[0-9a-fA-F]{32}\/Calls(?:\/CA[0-9a-fA-F]{32})?\.json$/;
const TOKEN = /^[a-z][a-z-]*$/;

/** The parts of an http(s) URL as written, secrets included: only to recognise Twilio's own API. */
function parseUrl(value: unknown): Endpoint | null {
  if (typeof value !== "string" || value === "" || value.length > MAX_URL_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return { scheme: url.protocol === "https:" ? "https" : "http", host: url.host, path: url.pathname };
}

/** The endpoint of an http(s) URL, or null when it is not one or is too long to be trusted. */
export function stripUrl(value: unknown): Endpoint | null {
  const parsed = parseUrl(value);
  if (parsed === null) return null;
  const endpoint: Endpoint = { ...parsed, path: redactPath(parsed.path) };
  // Parsing percent-encodes; the bound holds for what is kept, not only for what came in.
  return endpointUrl(endpoint).length <= MAX_URL_LENGTH ? endpoint : null;
}

/**
 * The endpoint written back as a URL (no query, no fragment, no userinfo). Its path is redacted again: a cause
 * stored before paths were redacted is reported without its token.
 */
export function endpointUrl(e: Endpoint): string {
  return `${e.scheme}://${e.host}${redactPath(String(e.path))}`;
}

export function sameEndpoint(a: Endpoint | null, b: Endpoint | null): boolean {
  return a !== null && b !== null && a.scheme === b.scheme && a.host === b.host && a.path === b.path;
}

function token(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const t = value.trim().toLowerCase();
  return t.length <= MAX_TOKEN_LENGTH && TOKEN.test(t) ? t : null;
}

function method(value: unknown): string | null {
  const t = token(value);
  return t === null ? null : t.toUpperCase();
}

function isoDate(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 64) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function nonNegativeInt(value: unknown, max: number): number | null {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}

function errorCode(value: unknown): string | null {
  const v = typeof value === "number" ? String(value) : value;
  return typeof v === "string" && v.length <= MAX_ERROR_CODE_LENGTH && /^\d+$/.test(v) ? v : null;
}

/** `status_callback_event` as a list: Twilio may render the repeated parameter as an array or one string. */
function callbackEvents(value: unknown): string[] | null {
  if (value === undefined || value === null || value === "") return null;
  const parts = Array.isArray(value) ? value : typeof value === "string" ? value.split(/[\s,]+/) : [];
  const events = parts.map(token).filter((t): t is string => t !== null);
  return [...new Set(events)].slice(0, MAX_CALLBACK_EVENTS);
}

function isCreateRequest(request: Obj, params: Obj): boolean {
  // Unredacted: the Calls API path holds the account SID, which redaction would hide.
  const endpoint = parseUrl(request.url);
  // To and From are what only a create accepts; an update of the call (e.g. a hang-up) has neither.
  return (
    endpoint !== null &&
    isTwilioApiHost(endpoint.host) &&
    CALLS_API_PATH.test(endpoint.path) &&
    method(request.method) === "POST" &&
    "to" in params &&
    "from" in params
  );
}

function isTwilioApiHost(host: string): boolean {
  return host === "api.twilio.com" || host.endsWith(".twilio.com");
}

function readCreateRequest(params: Obj, response: Obj | null): CreateRequest {
  const statusCallback = stripUrl(params.status_callback);
  return {
    statusCallbackRequested:
      typeof params.status_callback === "string" && params.status_callback.trim() !== "",
    statusCallback,
    statusCallbackMethod: method(params.status_callback_method),
    statusCallbackEvents: callbackEvents(params.status_callback_event),
    at: isoDate(response?.date_created),
  };
}

function readAppRequest(request: Obj, params: Obj, response: Obj | null): AppRequest {
  return {
    endpoint: stripUrl(request.url),
    method: method(request.method),
    callStatus: token(params.call_status),
    responseCode: nonNegativeInt(response?.response_code, 999),
    durationMs: nonNegativeInt(response?.request_duration, 24 * 3600 * 1000),
    at: isoDate(response?.date_created),
  };
}

function listOf(raw: unknown, key: string): unknown[] | string {
  if (!isObj(raw)) return "the page is not a JSON object";
  const list = raw[key];
  if (!Array.isArray(list)) return `the page has no "${key}" list`;
  if (list.length > MAX_PAGE_ITEMS) return `the page holds more than ${MAX_PAGE_ITEMS} ${key}`;
  return list;
}

const hasMore = (raw: unknown): boolean =>
  isObj(raw) && typeof raw.next_page_uri === "string" && raw.next_page_uri !== "";

/** One raw Events.json page → the stripped requests; never throws. */
export function readEventsPage(raw: unknown): EventsPage {
  const list = listOf(raw, "events");
  if (typeof list === "string") return { kind: "unreadable", reason: list };
  let createRequest: CreateRequest | null = null;
  const appRequests: AppRequest[] = [];
  let unreadableEvents = 0;
  for (const event of list) {
    const request = isObj(event) && isObj(event.request) ? event.request : null;
    if (request === null) {
      unreadableEvents++;
      continue;
    }
    // A null or missing response is what Twilio records when the app gave no answer at all.
    const response = isObj((event as Obj).response) ? ((event as Obj).response as Obj) : null;
    const params = isObj(request.parameters) ? request.parameters : {};
    if (isCreateRequest(request, params)) {
      createRequest ??= readCreateRequest(params, response);
      continue;
    }
    const endpoint = stripUrl(request.url);
    // Other requests to Twilio's own API (updates, hang-ups) are not requests to the app.
    if (endpoint !== null && isTwilioApiHost(endpoint.host)) continue;
    appRequests.push(readAppRequest(request, params, response));
  }
  return { kind: "read", createRequest, appRequests, unreadableEvents, hasMore: hasMore(raw) };
}

/** What the form-encoded message text says of the status callback, without keeping the text. */
function fromMessageText(text: unknown): {
  statusCallback: Endpoint | null;
  named: boolean;
  code: number | null;
} {
  if (typeof text !== "string" || text.length > 4 * MAX_URL_LENGTH) {
    return { statusCallback: null, named: false, code: null };
  }
  const params = new URLSearchParams(text);
  const msg = params.get("Msg") ?? "";
  const code = /\bHTTP (\d{3})\b/.exec(msg);
  return {
    statusCallback: stripUrl(params.get("statusCallback")),
    named: params.has("statusCallback"),
    code: code ? Number(code[1]) : null,
  };
}

function readNotification(n: Obj): CallNotification {
  const text = fromMessageText(n.message_text);
  const level = n.log === "0" || n.log === 0 ? "error" : n.log === "1" || n.log === 1 ? "warning" : null;
  return {
    errorCode: errorCode(n.error_code),
    level,
    endpoint: stripUrl(n.request_url) ?? text.statusCallback,
    method: method(n.request_method),
    aboutStatusCallback: text.named,
    responseCode: text.code,
    at: isoDate(n.message_date) ?? isoDate(n.date_created),
  };
}

/** One raw Notifications.json page → the stripped notifications; never throws. */
export function readNotificationsPage(raw: unknown): NotificationsPage {
  const list = listOf(raw, "notifications");
  if (typeof list === "string") return { kind: "unreadable", reason: list };
  const notifications: CallNotification[] = [];
  let unreadableNotifications = 0;
  for (const n of list) {
    if (isObj(n)) notifications.push(readNotification(n));
    else unreadableNotifications++;
  }
  return { kind: "read", notifications, unreadableNotifications, hasMore: hasMore(raw) };
}
