import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTwilioProbe } from "../../src/providers/twilio.js";
import { normaliseTwilioCall, parseTwilioDate } from "../../src/providers/twilio-normalise.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const TOKEN = "test-token";
const SID = `CA${"b".repeat(32)}`;
const BASE = "https://api.twilio.example";
const PATH = `/2010-04-01/Accounts/${ACCOUNT}/Calls/${SID}.json`;

function resource(fields: Record<string, unknown>) {
  return { sid: SID, account_sid: ACCOUNT, direction: "inbound", ...fields };
}

describe("parseTwilioDate", () => {
  it.each([
    ["Fri, 18 Oct 2019 17:03:00 +0000", "2019-10-18T17:03:00.000Z"],
    ["Tue, 01 Dec 2026 00:00:59 +0000", "2026-12-01T00:00:59.000Z"],
    ["Wed, 5 Mar 2025 09:08:07 +0000", "2025-03-05T09:08:07.000Z"],
  ])("parses %s exactly to the second", (input, iso) => {
    expect(parseTwilioDate(input, "end_time")?.toISOString()).toBe(iso);
  });

  it.each([null, undefined, ""])("treats %j as no value", (input) => {
    expect(parseTwilioDate(input, "end_time")).toBeNull();
  });

  it.each([
    "2019-10-18T17:03:00Z",
    "Fri, 18 Oct 2019 17:03:00 +0200",
    "Fri, 31 Feb 2019 17:03:00 +0000",
    "soon",
    1571418180,
  ])("rejects %j", (input) => {
    expect(() => parseTwilioDate(input, "end_time")).toThrow(/end_time/);
  });
});

describe("normaliseTwilioCall", () => {
  it("uses end_time when present", () => {
    const e = normaliseTwilioCall(
      resource({
        status: "completed",
        start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
        end_time: "Fri, 18 Oct 2019 17:03:00 +0000",
        duration: "180",
      }),
    );
    expect(e).toMatchObject({ kind: "ended", status: "completed", endTimeSource: "end_time" });
    expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2019-10-18T17:03:00.000Z");
  });

  it("never turns a missing end_time key into now: falls back to start_time + duration", () => {
    const e = normaliseTwilioCall(
      resource({
        status: "completed",
        start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
        duration: "61",
        date_updated: "Sat, 19 Oct 2019 01:00:00 +0000",
      }),
    );
    expect(e).toMatchObject({ kind: "ended", endTimeSource: "start_time+duration" });
    expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2019-10-18T17:01:01.000Z");
  });

  it("falls back to date_updated for calls that never connected (empty end_time and duration)", () => {
    const e = normaliseTwilioCall(
      resource({
        status: "busy",
        start_time: null,
        end_time: "",
        duration: "",
        date_updated: "Fri, 18 Oct 2019 17:00:25 +0000",
      }),
    );
    expect(e).toMatchObject({ kind: "ended", status: "busy", endTimeSource: "date_updated" });
    expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2019-10-18T17:00:25.000Z");
  });

  it("reports no time rather than inventing one", () => {
    const e = normaliseTwilioCall(
      resource({ status: "no-answer", start_time: null, end_time: null, duration: null, date_updated: null }),
    );
    expect(e).toMatchObject({ kind: "ended", status: "no-answer", endedAt: null, endTimeSource: null });
  });

  it("keeps the raw fields as evidence", () => {
    const e = normaliseTwilioCall(
      resource({
        status: "canceled",
        end_time: null,
        duration: "0",
        date_updated: "Fri, 18 Oct 2019 17:00:25 +0000",
      }),
    );
    expect(e.kind === "ended" && e.raw).toEqual({
      start_time: null,
      end_time: null,
      duration: "0",
      date_updated: "Fri, 18 Oct 2019 17:00:25 +0000",
    });
  });

  it.each(["queued", "ringing", "in-progress"])("%s is live", (status) => {
    expect(normaliseTwilioCall(resource({ status, end_time: null }))).toEqual({ kind: "live", status });
  });

  it.each([
    [resource({ status: "initiated" }), "unknown_status"],
    [resource({ status: "COMPLETED" }), "unknown_status"],
    [resource({}), "malformed_response"],
    [resource({ status: 3 }), "malformed_response"],
    [[], "malformed_response"],
    [null, "malformed_response"],
    [resource({ status: "completed", end_time: "yesterday" }), "malformed_response"],
    [
      resource({
        status: "completed",
        end_time: null,
        start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
        duration: "1.5",
      }),
      "malformed_response",
    ],
  ])("%j is an error (%s), never an end", (body, reason) => {
    expect(normaliseTwilioCall(body)).toMatchObject({ kind: "error", reason });
  });
});

describe("Twilio probe over HTTP (official SDK, nock)", () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  const probe = (timeoutMs = 2000) =>
    createTwilioProbe({
      credentials: { accountSid: ACCOUNT, username: ACCOUNT, password: TOKEN },
      baseUrl: BASE,
      timeoutMs,
      keepAlive: false,
    });

  it("fetches the call from TWILIO_API_BASE_URL with Basic auth and keeps the end time exact", async () => {
    const scope = nock(BASE)
      .get(PATH)
      .basicAuth({ user: ACCOUNT, pass: TOKEN })
      .reply(
        200,
        resource({
          status: "completed",
          start_time: "Wed, 25 Nov 2026 10:00:00 +0000",
          end_time: "Wed, 25 Nov 2026 10:07:13 +0000",
          duration: "433",
        }),
      );
    const e = await probe().fetchCall(SID);
    expect(e).toMatchObject({ kind: "ended", status: "completed" });
    expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2026-11-25T10:07:13.000Z");
    scope.done();
  });

  it("uses API key credentials as the Basic-auth user", async () => {
    const key = `SK${"c".repeat(32)}`;
    const scope = nock(BASE)
      .get(PATH)
      .basicAuth({ user: key, pass: "secret" })
      .reply(200, resource({ status: "in-progress" }));
    const p = createTwilioProbe({
      credentials: { accountSid: ACCOUNT, username: key, password: "secret" },
      baseUrl: BASE,
      timeoutMs: 2000,
      keepAlive: false,
    });
    expect(await p.fetchCall(SID)).toEqual({ kind: "live", status: "in-progress" });
    scope.done();
  });

  it("maps 404 to not_found", async () => {
    nock(BASE).get(PATH).reply(404, { code: 20404, message: "not found", more_info: "x", status: 404 });
    expect(await probe().fetchCall(SID)).toEqual({ kind: "not_found" });
  });

  it.each([401, 403])("maps %i to auth_failed", async (status) => {
    nock(BASE).get(PATH).reply(status, { code: 20003, message: "Authenticate", status });
    expect(await probe().fetchCall(SID)).toMatchObject({
      kind: "error",
      reason: "auth_failed",
      httpStatus: status,
    });
  });

  it("maps 429 to rate_limited and reads Retry-After", async () => {
    nock(BASE)
      .get(PATH)
      .reply(429, { code: 20429, message: "Too Many Requests", status: 429 }, { "Retry-After": "3" });
    expect(await probe().fetchCall(SID)).toMatchObject({
      kind: "error",
      reason: "rate_limited",
      retryAfterMs: 3000,
    });
  });

  it.each([500, 502, 503])("maps %i to server_error", async (status) => {
    nock(BASE).get(PATH).reply(status, { code: 20500, message: "oops", status });
    expect(await probe().fetchCall(SID)).toMatchObject({
      kind: "error",
      reason: "server_error",
      httpStatus: status,
    });
  });

  it("maps a 400 to bad_request", async () => {
    nock(BASE).get(PATH).reply(400, { code: 21211, message: "bad", status: 400 });
    expect(await probe().fetchCall(SID)).toMatchObject({ kind: "error", reason: "bad_request" });
  });

  it("maps a truncated JSON body to malformed_response", async () => {
    nock(BASE).get(PATH).reply(200, '{"sid": "CA', { "Content-Type": "application/json" });
    expect(await probe().fetchCall(SID)).toMatchObject({ kind: "error", reason: "malformed_response" });
  });

  it("maps an answer slower than the timeout to timeout", async () => {
    nock(BASE)
      .get(PATH)
      .delay(1500)
      .reply(200, resource({ status: "completed" }));
    expect(await probe(200).fetchCall(SID)).toMatchObject({ kind: "error", reason: "timeout" });
  });

  it("maps a connection error to network", async () => {
    nock(BASE).get(PATH).replyWithError("socket hang up");
    expect(await probe().fetchCall(SID)).toMatchObject({ kind: "error", reason: "network" });
  });

  it("does not send a request for something that is not a Call SID", async () => {
    expect(await probe().fetchCall("../Messages/SM1")).toMatchObject({
      kind: "error",
      reason: "bad_request",
    });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe("listing calls (list-diff)", () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  const LIST = `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`;
  const probe = () =>
    createTwilioProbe({
      credentials: { accountSid: ACCOUNT, username: ACCOUNT, password: TOKEN },
      baseUrl: BASE,
      timeoutMs: 2000,
      keepAlive: false,
    });

  it("asks for one status at the largest page size and follows next_page_uri", async () => {
    const next = `${LIST}?Status=in-progress&PageSize=1000&Page=1&PageToken=PA123`;
    nock(BASE)
      .get(LIST)
      .query({ Status: "in-progress", PageSize: "1000" })
      .reply(200, { calls: [{ sid: SID, status: "in-progress" }], next_page_uri: next });
    nock(BASE)
      .get(LIST)
      .query({ Status: "in-progress", PageSize: "1000", Page: "1", PageToken: "PA123" })
      .reply(200, { calls: [], next_page_uri: null });
    const first = await probe().listCallsPage("in-progress", null);
    expect(first).toEqual({ kind: "page", calls: [{ sid: SID, status: "in-progress" }], nextPageUri: next });
    expect(await probe().listCallsPage("in-progress", next)).toEqual({
      kind: "page",
      calls: [],
      nextPageUri: null,
    });
  });

  it.each([
    [{ calls: "nope" }, /no calls array/],
    [{ calls: [{ sid: 1 }] }, /without sid or status/],
    [{ calls: [], next_page_uri: "https://elsewhere.example/steal" }, /unexpected next_page_uri/],
  ])("refuses a malformed page %j", async (body, detail) => {
    nock(BASE).get(LIST).query(true).reply(200, body);
    expect(await probe().listCallsPage("queued", null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(detail),
    });
  });

  it("maps a failed list request to an error", async () => {
    nock(BASE).get(LIST).query(true).reply(503, { code: 20503, message: "down", status: 503 });
    expect(await probe().listCallsPage("ringing", null)).toMatchObject({
      kind: "error",
      reason: "server_error",
    });
    nock(BASE).get(LIST).query(true).reply(404, { code: 20404, message: "no account", status: 404 });
    expect(await probe().listCallsPage("ringing", null)).toMatchObject({
      kind: "error",
      reason: "bad_request",
    });
  });
});
