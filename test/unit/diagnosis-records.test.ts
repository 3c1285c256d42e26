import { describe, expect, it } from "vitest";
import {
  type AppRequest,
  endpointUrl,
  MAX_PAGE_ITEMS,
  MAX_URL_LENGTH,
  readEventsPage,
  readNotificationsPage,
  stripUrl,
} from "../../src/diagnosis/call-records.js";

const AC = `AC${"a".repeat(32)}`;
const CA = `CA${"b".repeat(32)}`;
const CALLS_JSON = `https://api.twilio.com/2010-04-01/Accounts/${AC}/Calls.json`;

/** The spec's example create event, with a status callback added. */
const createEvent = (params: Record<string, unknown> = {}) => ({
  request: {
    method: "POST",
    url: CALLS_JSON,
    parameters: {
      status_callback_method: "POST",
      twiml: "<Response><Say>Hi!</Say></Response>",
      timeout: "55",
      from: "+987654321",
      to: "+123456789",
      account_sid: AC,
      ...params,
    },
  },
  response: {
    response_code: 201,
    request_duration: 50,
    content_type: "application/json",
    response_body: `{"sid": "${CA}"}`,
    date_created: "Tue, 11 Aug 2020 17:44:08 +0000",
  },
});

const callback = (
  callStatus: string,
  code: number | null,
  url = "https://app.example.com/twilio/status",
) => ({
  request: { method: "POST", url, parameters: { call_status: callStatus, call_sid: CA } },
  response:
    code === null
      ? null
      : {
          response_code: code,
          request_duration: 120,
          content_type: "text/plain",
          response_body: "ok",
          date_created: "Tue, 11 Aug 2020 17:45:00 +0000",
        },
});

const page = (events: unknown[], extra: Record<string, unknown> = {}) => ({
  events,
  end: events.length,
  first_page_uri: `/2010-04-01/Accounts/${AC}/Calls/${CA}/Events.json?PageSize=50&Page=0`,
  next_page_uri: null,
  page: 0,
  page_size: 50,
  ...extra,
});

describe("stripUrl", () => {
  const cases: [string, unknown, ReturnType<typeof stripUrl>][] = [
    [
      "drops query, fragment and userinfo",
      "https://user:pw@app.example.com:8443/hook?token=s3cret#frag",
      { scheme: "https", host: "app.example.com:8443", path: "/hook" },
    ],
    ["keeps plain http", "http://10.0.0.5/cb", { scheme: "http", host: "10.0.0.5", path: "/cb" }],
    ["refuses non-http schemes", "ftp://example.com/x", null],
    ["refuses what is not a URL", "not a url", null],
    ["refuses a non-string", 42, null],
    ["refuses an empty string", "", null],
    ["refuses a URL over the bound", `https://example.com/${"a".repeat(MAX_URL_LENGTH)}`, null],
  ];
  it.each(cases)("%s", (_name, input, expected) => {
    expect(stripUrl(input)).toEqual(expected);
  });
});

describe("stripUrl: secrets in the path are redacted, its shape kept", () => {
  const R = ":redacted";
  const cases: [string, string, string][] = [
    ["a Stripe-style key between words", "/status/sk_live_abc123DEF456ghi789jkl/x", `/status/${R}/x`],
    ["a test key", "/hooks/sk_test_4eC39HqLyjWDarjtT1zdp7dc", `/hooks/${R}`],
    ["a publishable and a restricted key", "/pk_live_51HxYzAbC/rk_test_51HxYzAbC", `/${R}/${R}`],
    ["a webhook signing secret", "/wh/whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", `/wh/${R}`],
    ["a Slack token", "/slack/xoxb-123456789012-abcdefABCDEF", `/slack/${R}`],
    ["a GitHub token", "/gh/ghp_16C7e42F292c6912E7710c838347Ae178B4a/ping", `/gh/${R}/ping`],
    ["an OpenAI-style key", "/ai/sk-proj-AbCdEf0123456789", `/ai/${R}`],
    ["a Twilio account SID", `/twilio/AC${"0a".repeat(16)}/status`, `/twilio/${R}/status`],
    ["a Twilio API key SID", `/twilio/SK${"f1".repeat(16)}`, `/twilio/${R}`],
    ["a long word of letters and digits", "/cb/a1b2c3d4e5f6g7h8i9j0k", `/cb/${R}`],
    ["a random base64url token with separators", "/cb/Xy7-kP2_qR9sT4uV6wZ8aB", `/cb/${R}`],
    ["a long hex run", "/cb/deadbeefcafebabe", `/cb/${R}`],
    ["a long number", "/cb/4111111111111111", `/cb/${R}`],
    ["a base64url run of letters only", "/cb/AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEf", `/cb/${R}`],
    ["a JWT", "/cb/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-abc_DEF", `/cb/${R}`],
    [
      "a UUID (often the capability of an unguessable URL)",
      "/calls/123e4567-e89b-12d3-a456-426614174000/status",
      `/calls/${R}/status`,
    ],
    ["a phone number", "/calls/+14155550100/status", `/calls/${R}/status`],
    ["a percent-encoded phone number", "/calls/%2B14155550100/status", `/calls/${R}/status`],
    ["a token with a file extension", "/cb/a1b2c3d4e5f6g7h8i9j0k.json", `/cb/${R}`],
    ["keeps an ordinary path", "/twilio/status", "/twilio/status"],
    [
      "keeps versions, dates and short numbers",
      "/api/v2/2024-11-03/calls/12345/status",
      "/api/v2/2024-11-03/calls/12345/status",
    ],
    [
      "keeps long slugs of words",
      "/call-status-callback-handler/for-region-eu1",
      "/call-status-callback-handler/for-region-eu1",
    ],
    ["keeps file names", "/webhooks/twilio/voice.xml", "/webhooks/twilio/voice.xml"],
    ["keeps a short word of letters and digits", "/cb/abc123def456ghi78", "/cb/abc123def456ghi78"],
    ["keeps a short hex-looking word", "/cafe/deadbeef", "/cafe/deadbeef"],
    ["keeps a word that only starts like a prefix", "/sk_/pk_rate", "/sk_/pk_rate"],
    ["keeps the root and a trailing slash", "/", "/"],
    ["keeps empty segments", "/a//b/", "/a//b/"],
  ];
  it.each(cases)("%s", (_name, path, expected) => {
    expect(stripUrl(`https://user:pw@app.example.com${path}?token=x#f`)).toEqual({
      scheme: "https",
      host: "app.example.com",
      path: expected,
    });
  });

  it("writes an endpoint stored before redaction back redacted", () => {
    expect(
      endpointUrl({
        scheme: "https",
        host: "app.example.com",
        path: "/status/sk_live_abc123DEF456ghi789jkl",
      }),
    ).toBe("https://app.example.com/status/:redacted");
  });

  it("still tells the create request by its API path, and matches callbacks to a tokened status callback", () => {
    const hook = "https://app.example.com/status/sk_live_abc123DEF456ghi789jkl";
    const result = readEventsPage(
      page([createEvent({ status_callback: hook }), callback("completed", 200, hook)]),
    );
    const endpoint = { scheme: "https", host: "app.example.com", path: "/status/:redacted" };
    expect(result).toMatchObject({
      kind: "read",
      createRequest: { statusCallbackRequested: true, statusCallback: endpoint },
      appRequests: [{ endpoint, callStatus: "completed", responseCode: 200 }],
    });
    expect(JSON.stringify(result)).not.toContain("sk_live");
  });
});

describe("readEventsPage", () => {
  it("reads the create request and the callbacks", () => {
    const result = readEventsPage(
      page([
        createEvent({
          status_callback: "https://app.example.com/twilio/status?sig=abc",
          status_callback_event: ["initiated", "ringing", "answered", "completed"],
        }),
        callback("ringing", 200),
        callback("completed", 500),
      ]),
    );
    expect(result).toEqual({
      kind: "read",
      createRequest: {
        statusCallbackRequested: true,
        statusCallback: { scheme: "https", host: "app.example.com", path: "/twilio/status" },
        statusCallbackMethod: "POST",
        statusCallbackEvents: ["initiated", "ringing", "answered", "completed"],
        at: "2020-08-11T17:44:08.000Z",
      },
      appRequests: [
        {
          endpoint: { scheme: "https", host: "app.example.com", path: "/twilio/status" },
          method: "POST",
          callStatus: "ringing",
          responseCode: 200,
          durationMs: 120,
          at: "2020-08-11T17:45:00.000Z",
        },
        {
          endpoint: { scheme: "https", host: "app.example.com", path: "/twilio/status" },
          method: "POST",
          callStatus: "completed",
          responseCode: 500,
          durationMs: 120,
          at: "2020-08-11T17:45:00.000Z",
        },
      ] satisfies AppRequest[],
      unreadableEvents: 0,
      hasMore: false,
    });
  });

  it("reads the spec's own example: status_callback_method without status_callback is no callback", () => {
    const result = readEventsPage(
      page([
        {
          ...createEvent(),
          request: { ...createEvent().request, url: `${CALLS_JSON.slice(0, -5)}/${CA}.json` },
        },
      ]),
    );
    expect(result.kind === "read" && result.createRequest).toMatchObject({
      statusCallbackRequested: false,
      statusCallback: null,
      statusCallbackMethod: "POST",
      statusCallbackEvents: null,
    });
  });

  const eventsCases: [string, unknown, string[] | null][] = [
    ["one string of several", "initiated ringing completed", ["initiated", "ringing", "completed"]],
    ["comma separated", "answered,completed", ["answered", "completed"]],
    ["an array", ["ringing"], ["ringing"]],
    ["absent", undefined, null],
    ["empty", "", null],
    ["junk entries dropped", ["completed", 7, "<script>", "x".repeat(40)], ["completed"]],
  ];
  it.each(eventsCases)("status_callback_event given as %s", (_name, value, expected) => {
    const result = readEventsPage(
      page([createEvent({ status_callback: "https://a.example/cb", status_callback_event: value })]),
    );
    expect(result.kind === "read" && result.createRequest?.statusCallbackEvents).toEqual(expected);
  });

  it("an API update of the call (no To/From) is neither the create request nor a request to the app", () => {
    const update = {
      request: {
        method: "POST",
        url: `${CALLS_JSON.slice(0, -5)}/${CA}.json`,
        parameters: { status: "completed" },
      },
      response: { response_code: 200, request_duration: 10, date_created: "Tue, 11 Aug 2020 17:50:00 +0000" },
    };
    expect(readEventsPage(page([update]))).toMatchObject({ createRequest: null, appRequests: [] });
  });

  it("a callback with no recorded response keeps a null code and duration", () => {
    const result = readEventsPage(page([callback("completed", null)]));
    expect(result.kind === "read" && result.appRequests[0]).toMatchObject({
      callStatus: "completed",
      responseCode: null,
      durationMs: null,
      at: null,
    });
  });

  it("counts entries that are not events and flags a further page", () => {
    const result = readEventsPage(
      page([null, "x", { request: "nope" }, callback("completed", 200)], { next_page_uri: "/next" }),
    );
    expect(result).toMatchObject({ kind: "read", unreadableEvents: 3, hasMore: true });
    expect(result.kind === "read" && result.appRequests).toHaveLength(1);
  });

  it("bad field values become null, not wrong values", () => {
    const result = readEventsPage(
      page([
        {
          request: { method: 5, url: "javascript:alert(1)", parameters: { call_status: "COMPLETED!!" } },
          response: { response_code: -1, request_duration: "12.5", date_created: "yesterday" },
        },
      ]),
    );
    expect(result.kind === "read" && result.appRequests[0]).toEqual({
      endpoint: null,
      method: null,
      callStatus: null,
      responseCode: null,
      durationMs: null,
      at: null,
    });
  });

  const unreadable: [string, unknown][] = [
    ["null", null],
    ["a string", "<html>502</html>"],
    ["an array", []],
    ["no events list", { calls: [] }],
    ["events not a list", { events: {} }],
    ["more than a page can hold", { events: new Array(MAX_PAGE_ITEMS + 1).fill(null) }],
  ];
  it.each(unreadable)("a page that is %s is unreadable, not a throw", (_name, raw) => {
    const result = readEventsPage(raw);
    expect(result.kind).toBe("unreadable");
    expect(result.kind === "unreadable" && result.reason).toMatch(/page/);
  });
});

describe("readNotificationsPage", () => {
  const spec15003 = {
    account_sid: AC,
    api_version: "2008-08-01",
    call_sid: CA,
    date_created: "Tue, 18 Aug 2015 08:46:56 +0000",
    date_updated: "Tue, 18 Aug 2015 08:46:57 +0000",
    error_code: "15003",
    log: "1",
    message_date: "Tue, 18 Aug 2015 08:46:56 +0000",
    message_text:
      "statusCallback=http%3A%2F%2Fexample.com%2Ffoo.xml&ErrorCode=15003&LogLevel=WARN&Msg=Got+HTTP+404+response+to+http%3A%2F%2Fexample.com%2Ffoo.xml",
    more_info: "https://www.twilio.com/docs/errors/15003",
    request_method: null,
    request_url: "",
    sid: `NO${"a".repeat(32)}`,
    uri: "/x",
  };

  it("reads the spec's example: the callback URL and HTTP code come from the message text", () => {
    expect(readNotificationsPage({ notifications: [spec15003], next_page_uri: null })).toEqual({
      kind: "read",
      notifications: [
        {
          errorCode: "15003",
          level: "warning",
          endpoint: { scheme: "http", host: "example.com", path: "/foo.xml" },
          method: null,
          aboutStatusCallback: true,
          responseCode: 404,
          at: "2015-08-18T08:46:56.000Z",
        },
      ],
      unreadableNotifications: 0,
      hasMore: false,
    });
  });

  it("prefers request_url and reads a numeric error code and log", () => {
    const result = readNotificationsPage({
      notifications: [
        { error_code: 11205, log: 0, request_url: "https://app.example.com/cb?x=1", request_method: "POST" },
        7,
      ],
    });
    expect(result).toMatchObject({
      kind: "read",
      notifications: [
        {
          errorCode: "11205",
          level: "error",
          endpoint: { scheme: "https", host: "app.example.com", path: "/cb" },
          method: "POST",
          aboutStatusCallback: false,
          responseCode: null,
        },
      ],
      unreadableNotifications: 1,
    });
  });

  it.each([[null], [{}], [{ notifications: "x" }], ["oops"]])("%j is unreadable", (raw) => {
    expect(readNotificationsPage(raw).kind).toBe("unreadable");
  });
});

describe("privacy: nothing but the kept fields survives", () => {
  const SECRETS = [
    "+14155550100",
    "+14155550199",
    "4155550100",
    "s3cr3t-token",
    "hunter2",
    "Bearer abc",
    "Jane Doe",
    "<Response><Dial>",
    "RESPONSE-BODY-TEXT",
    "X-Twilio-Signature",
    "sig=",
    "userinfo",
    "forwarded_from",
    "caller_name",
    "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  ];

  it("an Events page full of numbers, bodies, tokens and extra parameters yields none of them", () => {
    const raw = page([
      {
        request: {
          method: "POST",
          url: `https://userinfo:hunter2@api.twilio.com/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls.json?auth=s3cr3t-token`,
          headers: { Authorization: "Bearer abc", "X-Twilio-Signature": "zzz" },
          parameters: {
            to: "+14155550100",
            from: "+14155550199",
            caller_name: "Jane Doe",
            twiml: "<Response><Dial>+14155550100</Dial></Response>",
            status_callback: "https://userinfo:hunter2@app.example.com/status?sig=s3cr3t-token#+14155550100",
            status_callback_event: ["completed", "+14155550100"],
            status_callback_method: "POST",
            account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          },
        },
        response: {
          response_code: 201,
          request_duration: 40,
          content_type: "application/json",
          response_body: '{"to":"+14155550100","from":"+14155550199","note":"RESPONSE-BODY-TEXT"}',
          headers: { "Set-Cookie": "hunter2" },
          date_created: "Tue, 11 Aug 2020 17:44:08 +0000",
        },
      },
      {
        request: {
          method: "POST",
          url: "https://app.example.com/status?sig=s3cr3t-token&to=%2B14155550100",
          parameters: {
            call_status: "completed",
            to: "+14155550100",
            from: "+14155550199",
            called: "4155550100",
            forwarded_from: "+14155550199",
            caller_name: "Jane Doe",
            account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          },
        },
        response: {
          response_code: 200,
          request_duration: 88,
          content_type: "text/xml",
          response_body: "<Response><Dial>+14155550199</Dial></Response> RESPONSE-BODY-TEXT",
          date_created: "Tue, 11 Aug 2020 17:45:08 +0000",
        },
      },
    ]);
    const out = readEventsPage(raw);
    expect(out.kind).toBe("read");
    const text = JSON.stringify(out);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    // The kept fields did survive: the test would pass vacuously on an empty result otherwise.
    expect(text).toContain("app.example.com");
    expect(text).toContain('"callStatus":"completed"');
    expect(text).toContain('"statusCallbackEvents":["completed"]');
  });

  it("a Notifications page with numbers and bodies in its text yields none of them", () => {
    const out = readNotificationsPage({
      notifications: [
        {
          error_code: "11200",
          log: "0",
          account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          request_url: "https://userinfo:hunter2@app.example.com/status?sig=s3cr3t-token",
          request_variables: "To=%2B14155550100&From=%2B14155550199&CallerName=Jane+Doe",
          response_body: "RESPONSE-BODY-TEXT",
          response_headers: "X-Twilio-Signature: zzz",
          message_text: "Msg=Call+from+%2B14155550199+to+%2B14155550100+failed+hunter2",
          message_date: "Tue, 18 Aug 2015 08:46:56 +0000",
        },
      ],
    });
    const text = JSON.stringify(out);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain('"errorCode":"11200"');
    expect(text).toContain("app.example.com");
  });
});
