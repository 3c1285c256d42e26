import { describe, expect, it } from "vitest";
import { readEventsPage, readNotificationsPage } from "../../src/diagnosis/call-records.js";
import { type CallFacts, diagnoseCause } from "../../src/diagnosis/cause.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const ENDED = new Date("2026-11-30T10:00:00Z");
const HOOK = "https://api.example.org/twilio/status";
const facts = (over: Partial<CallFacts> = {}): CallFacts => ({
  now: new Date(ENDED.getTime() + 3600_000),
  endedAt: ENDED,
  startedAt: new Date(ENDED.getTime() - 120_000),
  direction: "outbound-api",
  ...over,
});

const create = (params: Record<string, unknown>) => ({
  request: {
    method: "POST",
    url: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Calls.json`,
    parameters: { to: "+15550001111", from: "+15550002222", url: "https://api.example.org/twiml", ...params },
  },
  response: { response_code: 201, request_duration: 40, date_created: "Mon, 30 Nov 2026 09:58:00 +0000" },
});
const callback = (
  status: string,
  code: number | null,
  url = HOOK,
  at = "Mon, 30 Nov 2026 10:00:01 +0000",
) => ({
  request: {
    method: "POST",
    url: `${url}?token=secret`,
    parameters: { call_status: status, to: "+15550001111" },
  },
  response: code === null ? null : { response_code: code, request_duration: 80, date_created: at },
});
const notification = (code: string) => ({
  error_code: code,
  log: "1",
  request_url: HOOK,
  request_method: "POST",
  message_date: "Mon, 30 Nov 2026 10:00:02 +0000",
  message_text: `statusCallback=${encodeURIComponent(HOOK)}&ErrorCode=${code}&Msg=Got+HTTP+500+response`,
});
const withCallback = create({ status_callback: HOOK, status_callback_event: ["initiated", "completed"] });

type Row = [string, unknown[], unknown[] | null, Partial<CallFacts>, Record<string, unknown>];

const CASES: Row[] = [
  [
    "the incident: completed delivered and answered 200, the row left active",
    [withCallback, callback("initiated", 200), callback("completed", 200)],
    null,
    {},
    {
      cause: "callback_acknowledged",
      responseCode: 200,
      durationMs: 80,
      callStatus: "completed",
      attempts: 1,
    },
  ],
  [
    "a retry that got 200 after a 500: acknowledged, the failed attempt counted",
    [
      withCallback,
      callback("completed", 500, HOOK, "Mon, 30 Nov 2026 10:00:01 +0000"),
      callback("completed", 200, HOOK, "Mon, 30 Nov 2026 10:00:05 +0000"),
    ],
    [notification("15003")],
    {},
    { cause: "callback_acknowledged", attempts: 2, failedAttempts: 1 },
  ],
  [
    "answered 500: failed, with Twilio's 15003",
    [withCallback, callback("completed", 500)],
    [notification("15003")],
    {},
    { cause: "callback_failed", failure: "http_error", responseCode: 500, errorCode: "15003" },
  ],
  [
    "no answer recorded (timeout): failed, with 11200",
    [withCallback, callback("completed", null)],
    [notification("11200")],
    {},
    { cause: "callback_failed", failure: "no_response", responseCode: null, errorCode: "11200" },
  ],
  [
    "busy answered 404: a terminal status too",
    [withCallback, callback("busy", 404)],
    [],
    {},
    { cause: "callback_failed", callStatus: "busy", responseCode: 404 },
  ],
  [
    "only a notification shows the failed delivery",
    [withCallback],
    [notification("11205")],
    {},
    { cause: "callback_failed", failure: "notified", errorCode: "11205" },
  ],
  [
    "created without a status callback",
    [create({}), callback("in-progress", 200, "https://api.example.org/twiml")],
    [],
    {},
    { cause: "callback_not_requested", reason: "no_status_callback_url", statusCallback: null },
  ],
  [
    "created with a status callback whose events lack completed",
    [create({ status_callback: HOOK, status_callback_event: "initiated ringing" }), callback("ringing", 200)],
    [],
    {},
    {
      cause: "callback_not_requested",
      reason: "completed_not_in_events",
      callbackEvents: ["initiated", "ringing"],
    },
  ],
  [
    "a 2xx for a non-terminal status only is no acknowledgement of the end",
    [create({ status_callback: HOOK, status_callback_event: ["ringing"] }), callback("ringing", 200)],
    [],
    {},
    { cause: "callback_not_requested", statusesSeen: ["ringing"] },
  ],
  [
    "an inbound call whose number sent no status callback",
    [callback("ringing", 200, "https://api.example.org/twiml")],
    [],
    { direction: "inbound" },
    { cause: "callback_not_requested", reason: "no_status_callback_sent" },
  ],
  [
    "asked for completed, yet nothing recorded: unknown, not a guess",
    [withCallback],
    [],
    {},
    { cause: "unknown", reason: "callback_requested_but_not_recorded" },
  ],
  ["no records within retention", [], [], {}, { cause: "unknown", reason: "no_records" }],
  [
    "no records, past Twilio's 30 days",
    [],
    [],
    { now: new Date(ENDED.getTime() + 31 * 86_400_000) },
    { cause: "unknown", reason: "records_expired" },
  ],
  [
    "asked too early",
    [withCallback, callback("completed", 200)],
    [],
    { now: new Date(ENDED.getTime() + 60_000) },
    { cause: "unknown", reason: "records_not_ready" },
  ],
  [
    "inbound, notifications unread: absence proves nothing",
    [callback("ringing", 200, "https://api.example.org/twiml")],
    null,
    { direction: "inbound" },
    { cause: "unknown", reason: "notifications_unreadable" },
  ],
];

describe("diagnoseCause: why the end was lost, from Twilio's records", () => {
  it.each(CASES)("%s", (_name, events, notifications, over, expected) => {
    const records = {
      events: readEventsPage({ events, next_page_uri: null }),
      notifications:
        notifications === null ? null : readNotificationsPage({ notifications, next_page_uri: null }),
    };
    expect(diagnoseCause(records, facts(over))).toMatchObject(expected);
  });

  it("an unreadable or unfetched page is unknown", () => {
    expect(diagnoseCause({ events: readEventsPage("<html>"), notifications: null }, facts())).toMatchObject({
      cause: "unknown",
      reason: "events_unreadable",
    });
    expect(diagnoseCause({ events: null, notifications: null }, facts())).toMatchObject({
      cause: "unknown",
      reason: "records_not_fetched",
    });
  });

  it("a further page of events that might hold the callback is unknown, not a cause", () => {
    const events = readEventsPage({
      events: [withCallback, callback("completed", 500)],
      next_page_uri: "/next",
    });
    expect(diagnoseCause({ events, notifications: null }, facts())).toMatchObject({
      cause: "unknown",
      reason: "records_incomplete",
    });
  });

  it("keeps no token of the callback URL, no number, no body", () => {
    const d = diagnoseCause(
      { events: readEventsPage({ events: [withCallback, callback("completed", 200)] }), notifications: null },
      facts(),
    );
    const text = JSON.stringify(d);
    expect(text).not.toMatch(/secret|\+1555/);
    expect(d).toMatchObject({
      endpoint: { scheme: "https", host: "api.example.org", path: "/twilio/status" },
    });
  });
});
