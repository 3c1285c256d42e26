import { PassThrough } from "node:stream";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ActiveCall } from "../../src/model/index.js";
import { createTwilioProbe } from "../../src/providers/twilio.js";
import { MAX_TWILIO_BODY_BYTES } from "../../src/providers/twilio-client.js";
import {
  MAX_TWILIO_DURATION_SECONDS,
  normaliseTwilioCall,
  parseTwilioDate,
} from "../../src/providers/twilio-normalise.js";
import { decide } from "../../src/reconcile/decide.js";
import { startTwilioSimulator } from "../../src/sim/twilio-sim.js";
import { TEST_POLICY } from "../helpers/policy.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const TOKEN = "test-token";
const SID = `CA${"b".repeat(32)}`;
const BASE = "https://api.twilio.example";
const PATH = `/2010-04-01/Accounts/${ACCOUNT}/Calls/${SID}.json`;
const ASKED = { callSid: SID, accountSid: ACCOUNT };
const OTHER_SID = `CA${"d".repeat(32)}`;
const OTHER_ACCOUNT = `AC${"e".repeat(32)}`;
const REQUEST_ID = `RQ${"0123456789abcdef".repeat(2)}`;
/** What every answer about SID names when Twilio sent no request id. */
const NAMED = { sid: SID, account: ACCOUNT };

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
    // Date.UTC reads a year below 100 as 19xx.
    "Mon, 01 Jan 0050 00:00:00 +0000",
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
      ASKED,
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
      ASKED,
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
      ASKED,
    );
    expect(e).toMatchObject({ kind: "ended", status: "busy", endTimeSource: "date_updated" });
    expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2019-10-18T17:00:25.000Z");
  });

  it("reports no time rather than inventing one", () => {
    const e = normaliseTwilioCall(
      resource({ status: "no-answer", start_time: null, end_time: null, duration: null, date_updated: null }),
      ASKED,
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
      ASKED,
    );
    expect(e.kind === "ended" && e.raw).toEqual({
      start_time: null,
      end_time: null,
      duration: "0",
      date_updated: "Fri, 18 Oct 2019 17:00:25 +0000",
    });
  });

  it.each(["queued", "ringing", "in-progress"])("%s is live", (status) => {
    expect(normaliseTwilioCall(resource({ status, end_time: null }), ASKED)).toEqual({
      kind: "live",
      status,
    });
  });

  it("carries Twilio's own start_time, parsed, for decide() to check the end against", () => {
    const e = normaliseTwilioCall(
      resource({
        status: "completed",
        start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
        end_time: "Fri, 18 Oct 2019 16:59:00 +0000",
      }),
      ASKED,
    );
    expect(e.kind === "ended" && e.startedAt?.toISOString()).toBe("2019-10-18T17:00:00.000Z");
    const none = normaliseTwilioCall(resource({ status: "busy", start_time: null }), ASKED);
    expect(none).toMatchObject({ kind: "ended", startedAt: null });
  });

  it.each([
    ["another call's sid", { sid: OTHER_SID }, /sid "CAd+", asked "CAb+"/],
    ["no sid", { sid: undefined }, /sid no value/],
    ["a sid of another type", { sid: 42 }, /sid 42/],
    ["another account_sid", { account_sid: OTHER_ACCOUNT }, /account_sid "ACe+", asked "ACa+"/],
    ["no account_sid", { account_sid: null }, /account_sid null/],
  ])("a body with %s is answer_mismatch, whatever its status says", (_label, fields, detail) => {
    for (const status of ["completed", "in-progress"]) {
      const body = { ...resource({ status, end_time: "Fri, 18 Oct 2019 17:03:00 +0000" }), ...fields };
      expect(normaliseTwilioCall(body, ASKED)).toMatchObject({
        kind: "error",
        reason: "answer_mismatch",
        detail: expect.stringMatching(detail),
      });
    }
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
    expect(normaliseTwilioCall(body, ASKED)).toMatchObject({ kind: "error", reason });
  });

  describe("an answer no Twilio call can give is malformed, never an end", () => {
    const START = "Fri, 18 Oct 2019 17:00:00 +0000";
    it.each([
      ["a duration of 10^13 s and no end_time", { end_time: null, duration: "9999999999999" }],
      ["a duration past the cap", { end_time: null, duration: String(MAX_TWILIO_DURATION_SECONDS + 1) }],
      ["a numeric duration past the cap", { end_time: null, duration: 1e13 }],
      [
        "a duration past the cap next to a usable end_time",
        { end_time: "Fri, 18 Oct 2019 17:03:00 +0000", duration: "9999999999999" },
      ],
      ["a duration of a million digits", { end_time: null, duration: `${"0".repeat(1_000_000)}1` }],
      ["an end_time of 3 MB", { end_time: "x".repeat(3 * 1024 * 1024) }],
      ["a date_updated of 3 MB", { end_time: null, duration: null, date_updated: "y".repeat(3_000_000) }],
    ])("%s", (_label, fields) => {
      const e = normaliseTwilioCall(resource({ status: "completed", start_time: START, ...fields }), ASKED);
      expect(e).toMatchObject({ kind: "error", reason: "malformed_response" });
      expect(e.kind === "error" && e.detail.length).toBeLessThan(300);
    });

    it("Twilio's own cap, 24 h, is still a duration", () => {
      const e = normaliseTwilioCall(
        resource({ status: "completed", start_time: START, end_time: null, duration: "86400" }),
        ASKED,
      );
      expect(e.kind === "ended" && e.endedAt?.toISOString()).toBe("2019-10-19T17:00:00.000Z");
    });

    it("a status of 3 MB is unknown_status with a bounded detail", () => {
      const e = normaliseTwilioCall(resource({ status: "s".repeat(3 * 1024 * 1024) }), ASKED);
      expect(e).toMatchObject({
        kind: "error",
        reason: "unknown_status",
        detail: expect.stringMatching(/^unknown Twilio status "s+… \[3145728 characters\]"$/),
      });
      expect(e.kind === "error" && e.detail.length).toBeLessThan(300);
    });
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

  describe("TWILIO_REGION / TWILIO_EDGE", () => {
    const saved = { region: process.env.TWILIO_REGION, edge: process.env.TWILIO_EDGE };
    beforeEach(() => {
      process.env.TWILIO_REGION = "ie1";
      process.env.TWILIO_EDGE = "dublin";
    });
    afterEach(() => {
      for (const [k, v] of [
        ["TWILIO_REGION", saved.region],
        ["TWILIO_EDGE", saved.edge],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    });
    const live = () => resource({ status: "in-progress", start_time: "Wed, 25 Nov 2026 10:00:00 +0000" });
    const fetchVia = (baseUrl: string) =>
      createTwilioProbe({
        credentials: { accountSid: ACCOUNT, username: ACCOUNT, password: TOKEN },
        baseUrl,
        timeoutMs: 2000,
        keepAlive: false,
      }).fetchCall(SID, null);

    it("pick Twilio's regional host for api.twilio.com (api.dublin.ie1.twilio.com)", async () => {
      const scope = nock("https://api.dublin.ie1.twilio.com").get(PATH).reply(200, live());
      expect(await fetchVia("https://api.twilio.com")).toMatchObject({ kind: "live" });
      expect(scope.isDone()).toBe(true);
    });

    it("leave any other TWILIO_API_BASE_URL (a simulator, a proxy) exactly as given", async () => {
      // A host name (the URL parser refuses the SDK's rewrite of an IP literal anyway): the SDK would make
      // it twilio-sim.dublin.ie1.internal, or twilio-sim.internal.twilio-sim.internal without region/edge.
      const scope = nock("http://twilio-sim.internal:4010").get(PATH).reply(200, live());
      expect(await fetchVia("http://twilio-sim.internal:4010")).toMatchObject({ kind: "live" });
      expect(scope.isDone()).toBe(true);
    });
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
    const e = await probe().fetchCall(SID, null);
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
    // The account asked is the Account SID of the URL, never the API key.
    expect(await p.fetchCall(SID, null)).toEqual({ kind: "live", status: "in-progress", asked: NAMED });
    scope.done();
  });

  it("copies Twilio's error message bounded, however long it is", async () => {
    nock(BASE)
      .get(PATH)
      .reply(500, { code: 20500, message: `boom ${"x".repeat(2_000_000)}`, status: 500 });
    const answer = await probe().fetchCall(SID, null);
    expect(answer).toMatchObject({
      kind: "error",
      reason: "server_error",
      detail: expect.stringMatching(/^HTTP 500 \(Twilio error 20500: boom x+… \[2000005 characters\]\)$/),
    });
    expect(answer.kind === "error" && answer.detail.length).toBeLessThan(300);
  });

  it("a 3 MB status (a body under the size bound) is copied into the detail bounded", async () => {
    const status = "z".repeat(3 * 1024 * 1024);
    nock(BASE)
      .get(PATH)
      .reply(200, JSON.stringify(resource({ status })));
    const answer = await probe().fetchCall(SID, null);
    expect(answer).toMatchObject({ kind: "error", reason: "unknown_status" });
    expect(answer.kind === "error" && answer.detail.length).toBeLessThan(300);
  });

  it("stops reading an answer larger than MAX_TWILIO_BODY_BYTES: an error, never retried as a failure", async () => {
    nock(BASE)
      .get(PATH)
      .reply(
        200,
        JSON.stringify({
          sid: SID,
          account_sid: ACCOUNT,
          status: "completed",
          padding: "x".repeat(MAX_TWILIO_BODY_BYTES),
        }),
      );
    expect(await probe().fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: "answer larger than 4 MB: not read",
    });
  });

  it("maps 404 to not_found", async () => {
    nock(BASE).get(PATH).reply(404, { code: 20404, message: "not found", more_info: "x", status: 404 });
    expect(await probe().fetchCall(SID, null)).toEqual({ kind: "not_found", asked: NAMED });
  });

  describe("every answer names what was asked and Twilio's request id", () => {
    it.each([["Twilio-Request-Id"], ["twilio-request-id"], ["TWILIO-REQUEST-ID"]])(
      "an end carries the SID, the account and %s (read case-insensitively)",
      async (header) => {
        nock(BASE)
          .get(PATH)
          .reply(
            200,
            resource({
              status: "completed",
              start_time: "Wed, 25 Nov 2026 10:00:00 +0000",
              end_time: "Wed, 25 Nov 2026 10:07:13 +0000",
            }),
            { [header]: REQUEST_ID },
          );
        const e = await probe().fetchCall(SID, null);
        expect(e).toMatchObject({
          kind: "ended",
          asked: { sid: SID, account: ACCOUNT, requestId: REQUEST_ID },
        });
        // As the audit row stores it.
        expect(JSON.parse(JSON.stringify(e)).asked).toEqual({
          sid: SID,
          account: ACCOUNT,
          requestId: REQUEST_ID,
        });
      },
    );

    it.each([
      [404, { code: 20404, status: 404 }, "not_found"],
      [401, { code: 20003, status: 401 }, "error"],
      [429, { code: 20429, status: 429 }, "error"],
      [503, { code: 20503, status: 503 }, "error"],
    ])("a %i carries them too", async (status, body, kind) => {
      nock(BASE).get(PATH).reply(status, body, { "Twilio-Request-Id": REQUEST_ID });
      expect(await probe().fetchCall(SID, null)).toMatchObject({
        kind,
        asked: { sid: SID, account: ACCOUNT, requestId: REQUEST_ID },
      });
    });

    it("so do a live answer, a mismatch and a malformed body", async () => {
      const headers = { "Twilio-Request-Id": REQUEST_ID };
      nock(BASE)
        .get(PATH)
        .reply(200, resource({ status: "ringing" }), headers)
        .get(PATH)
        .reply(200, resource({ status: "completed", sid: OTHER_SID }), headers)
        .get(PATH)
        .reply(200, '{"sid": "CA', { ...headers, "Content-Type": "application/json" });
      const asked = { sid: SID, account: ACCOUNT, requestId: REQUEST_ID };
      expect(await probe().fetchCall(SID, null)).toEqual({ kind: "live", status: "ringing", asked });
      expect(await probe().fetchCall(SID, null)).toMatchObject({ reason: "answer_mismatch", asked });
      expect(await probe().fetchCall(SID, null)).toMatchObject({ reason: "malformed_response", asked });
    });

    it("no answer (a connection error): the SID and account, no request id", async () => {
      nock(BASE).get(PATH).replyWithError("socket hang up");
      expect(await probe().fetchCall(SID, null)).toMatchObject({
        kind: "error",
        reason: "network",
        asked: NAMED,
      });
    });

    it.each([
      ["free text", "not a request id"],
      ["an overlong value", `RQ${"a".repeat(300)}`],
      ["an empty value", ""],
    ])("a request id header with %s is left out rather than stored", async (_label, value) => {
      nock(BASE).get(PATH).reply(404, { code: 20404, status: 404 }, { "Twilio-Request-Id": value });
      expect(await probe().fetchCall(SID, null)).toEqual({ kind: "not_found", asked: NAMED });
    });

    it("an id that is not a Call SID is not asked, so names nothing", async () => {
      expect(await probe().fetchCall("CA123", null)).not.toHaveProperty("asked");
    });

    it("the simulator sends Twilio-Request-Id like the real API, and the evidence carries it", async () => {
      nock.enableNetConnect("127.0.0.1");
      const sim = await startTwilioSimulator({
        accountSid: ACCOUNT,
        authToken: TOKEN,
        calls: [
          {
            sid: SID,
            status: "completed",
            startTime: new Date("2026-11-25T10:00:00Z"),
            endTime: new Date("2026-11-25T10:05:00Z"),
            duration: "300",
          },
        ],
      });
      try {
        const p = createTwilioProbe({
          credentials: { accountSid: ACCOUNT, username: ACCOUNT, password: TOKEN },
          baseUrl: sim.url,
          timeoutMs: 2000,
          keepAlive: false,
        });
        const ended = await p.fetchCall(SID, null);
        const unknown = await p.fetchCall(OTHER_SID, null);
        expect(ended).toMatchObject({
          kind: "ended",
          asked: { sid: SID, account: ACCOUNT, requestId: expect.stringMatching(/^RQ[0-9a-f]{32}$/) },
        });
        expect(unknown).toMatchObject({
          kind: "not_found",
          asked: { sid: OTHER_SID, account: ACCOUNT, requestId: expect.stringMatching(/^RQ[0-9a-f]{32}$/) },
        });
        expect(ended.asked?.requestId).not.toBe(unknown.asked?.requestId);
      } finally {
        await sim.close();
        nock.disableNetConnect();
      }
    });
  });

  it.each([401, 403])("maps %i to auth_failed", async (status) => {
    nock(BASE).get(PATH).reply(status, { code: 20003, message: "Authenticate", status });
    expect(await probe().fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "auth_failed",
      httpStatus: status,
    });
  });

  it("maps 429 to rate_limited and reads Retry-After", async () => {
    nock(BASE)
      .get(PATH)
      .reply(429, { code: 20429, message: "Too Many Requests", status: 429 }, { "Retry-After": "3" });
    expect(await probe().fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "rate_limited",
      retryAfterMs: 3000,
    });
  });

  it.each([500, 502, 503])("maps %i to server_error", async (status) => {
    nock(BASE).get(PATH).reply(status, { code: 20500, message: "oops", status });
    expect(await probe().fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "server_error",
      httpStatus: status,
    });
  });

  it("maps a 408 to timeout, like a request that got no answer in time (retried, never an answer)", async () => {
    nock(BASE).get(PATH).reply(408, { code: 20408, message: "Request Timeout", status: 408 });
    expect(await probe().fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "timeout",
      httpStatus: 408,
    });
  });

  it("maps a 400 to bad_request", async () => {
    nock(BASE).get(PATH).reply(400, { code: 21211, message: "bad", status: 400 });
    expect(await probe().fetchCall(SID, null)).toMatchObject({ kind: "error", reason: "bad_request" });
  });

  it("maps a truncated JSON body to malformed_response", async () => {
    nock(BASE).get(PATH).reply(200, '{"sid": "CA', { "Content-Type": "application/json" });
    expect(await probe().fetchCall(SID, null)).toMatchObject({ kind: "error", reason: "malformed_response" });
  });

  it("maps an answer slower than the timeout to timeout", async () => {
    nock(BASE)
      .get(PATH)
      .delay(1500)
      .reply(200, resource({ status: "completed" }));
    expect(await probe(200).fetchCall(SID, null)).toMatchObject({ kind: "error", reason: "timeout" });
  });

  it("maps a connection error to network", async () => {
    nock(BASE).get(PATH).replyWithError("socket hang up");
    expect(await probe().fetchCall(SID, null)).toMatchObject({ kind: "error", reason: "network" });
  });

  it.each([
    ["another call's sid", { sid: OTHER_SID }, OTHER_SID],
    ["another account's account_sid", { account_sid: OTHER_ACCOUNT }, OTHER_ACCOUNT],
  ])("a 200 about %s is answer_mismatch, never an end", async (_label, fields, named) => {
    nock(BASE)
      .get(PATH)
      .reply(200, {
        ...resource({
          status: "completed",
          start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
          end_time: "Fri, 18 Oct 2019 17:03:00 +0000",
        }),
        ...fields,
      });
    const e = await probe().fetchCall(SID, null);
    expect(e).toMatchObject({ kind: "error", reason: "answer_mismatch", httpStatus: 200 });
    expect(e.kind === "error" && e.detail).toContain(named);
    expect(JSON.stringify(e)).not.toContain(TOKEN);
  });

  describe("an end that does not fit the row is not trusted (through decide)", () => {
    const NOW = new Date("2026-11-25T12:00:00Z");
    const policy = TEST_POLICY;
    const row: ActiveCall = {
      id: "call-1",
      twilioSid: SID,
      twilioAccount: null,
      openaiId: null,
      status: "active",
      startedAt: new Date("2026-11-25T11:50:00Z"),
    };
    const judge = async (fields: Record<string, unknown>) => {
      nock(BASE).get(PATH).reply(200, resource(fields));
      const twilio = await probe().fetchCall(SID, null);
      return decide(row, { twilio, openai: { kind: "skipped", why: "no_id" } }, NOW, policy);
    };

    it("Twilio's own example answer (a 2019 end) for a call started minutes ago: end_before_start", async () => {
      const v = await judge({
        status: "completed",
        start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
        end_time: "Fri, 18 Oct 2019 17:03:00 +0000",
        duration: "180",
      });
      expect(v).toMatchObject({ action: "unverified", reason: "end_before_start" });
    });

    it("an end_time before Twilio's own start_time: end_before_twilio_start", async () => {
      const v = await judge({
        status: "completed",
        start_time: "Wed, 25 Nov 2026 11:55:00 +0000",
        end_time: "Wed, 25 Nov 2026 11:54:59 +0000",
      });
      expect(v).toMatchObject({ action: "unverified", reason: "end_before_twilio_start" });
    });

    it("a date_updated before start_time (as in Twilio's spec example): end_before_twilio_start", async () => {
      const v = await judge({
        status: "busy",
        start_time: "Wed, 25 Nov 2026 11:55:00 +0000",
        end_time: null,
        duration: null,
        date_updated: "Wed, 25 Nov 2026 11:50:30 +0000",
      });
      expect(v).toMatchObject({ action: "unverified", reason: "end_before_twilio_start" });
    });

    it("completed with no end_time and a duration of 10^13 s: malformed_response, never an end", async () => {
      const v = await judge({
        status: "completed",
        start_time: "Wed, 25 Nov 2026 11:50:00 +0000",
        end_time: null,
        duration: "9999999999999",
      });
      expect(v).toMatchObject({ action: "unverified", reason: "malformed_response" });
    });

    it("a fitting answer still ends the row at Twilio's end time", async () => {
      const v = await judge({
        status: "completed",
        start_time: "Wed, 25 Nov 2026 11:50:00 +0000",
        end_time: "Wed, 25 Nov 2026 11:53:20 +0000",
      });
      expect(v).toMatchObject({ action: "end", endedAt: new Date("2026-11-25T11:53:20Z") });
    });
  });

  it("names a row's Call SID column that is not one bounded, however long it is", async () => {
    const answer = await probe().fetchCall(`CA${"x".repeat(1_000_000)}`, null);
    expect(answer).toMatchObject({ kind: "error", reason: "bad_request" });
    expect(answer.kind === "error" && answer.detail.length).toBeLessThan(300);
  });

  it("does not send a request for something that is not a Call SID", async () => {
    expect(await probe().fetchCall("../Messages/SM1", null)).toMatchObject({
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
    const first = await probe().listCallsPage({ account: null, status: "in-progress" }, null);
    expect(first).toEqual({
      kind: "page",
      calls: [{ sid: SID, status: "in-progress", startTime: null }],
      nextPageUri: next,
    });
    expect(await probe().listCallsPage({ account: null, status: "in-progress" }, next)).toEqual({
      kind: "page",
      calls: [],
      nextPageUri: null,
    });
  });

  it.each([
    [{ calls: "nope" }, /no calls array/],
    [{ calls: [{ sid: 1 }] }, /without sid or status/],
    [{ calls: [], next_page_uri: "https://elsewhere.example/steal" }, /next_page_uri .* is not under/],
    [
      {
        calls: [],
        next_page_uri: `/2010-04-01/Accounts/${OTHER_ACCOUNT}/Calls.json?Status=queued&PageSize=1000&Page=1&PageToken=PA1`,
      },
      /ACe+.* is not under \/2010-04-01\/Accounts\/ACa+\/Calls\.json\?/,
    ],
    [
      {
        calls: [],
        next_page_uri: `/2010-04-01/Accounts/${ACCOUNT}/Calls/../../${OTHER_ACCOUNT}/Calls.json?Page=1`,
      },
      /is not under/,
    ],
    [{ calls: [], next_page_uri: `/2010-04-01/Accounts/${ACCOUNT}/Messages.json?Page=1` }, /is not under/],
    [{ calls: [], next_page_uri: `/2010-04-01/Accounts/${ACCOUNT}/Calls.json` }, /is not under/],
    [
      { calls: [], next_page_uri: `/2010-04-01/Accounts/${ACCOUNT}/Calls.json?Page=1 HTTP/1.1\r\nX: y` },
      /is not under/,
    ],
  ])("refuses a malformed page %j", async (body, detail) => {
    nock(BASE).get(LIST).query(true).reply(200, body);
    expect(await probe().listCallsPage({ account: null, status: "queued" }, null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(detail),
    });
  });

  it.each([
    ['{"calls": [{"sid": "CA1", "status": "queued"}', /not valid JSON/],
    ["<html>bad gateway</html>", /not valid JSON/],
    ['{"calls": {"a": {"sid": "CA1", "status": "queued"}}}', /no calls array/],
    ['{"next_page_uri": null}', /no calls array/],
    ['[{"calls": []}]', /no calls array/],
  ])("refuses a page that is not a Twilio list: %s", async (body, detail) => {
    nock(BASE).get(LIST).query(true).reply(200, body, { "Content-Type": "application/json" });
    expect(await probe().listCallsPage({ account: null, status: "queued" }, null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(detail),
    });
  });

  it("reads a page as it arrives: a bad entry is refused at once, without waiting for the rest", async () => {
    // The rest of this page never comes: a reader of whole bodies would answer `timeout` (2 s) instead.
    const body = new PassThrough();
    body.write(`{"calls": [{"sid": "${SID}", "status": "queued"}, {"sid": 7, "status": "queued"}, `);
    nock(BASE)
      .get(LIST)
      .query(true)
      .reply(200, () => body);
    expect(await probe().listCallsPage({ account: null, status: "queued" }, null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(/without sid or status/),
    });
  });

  it("stops reading a list page larger than MAX_TWILIO_BODY_BYTES: an error, never retried as a failure", async () => {
    const call = JSON.stringify({ sid: SID, status: "queued", padding: "x".repeat(1000) });
    const calls = Array.from({ length: Math.ceil(MAX_TWILIO_BODY_BYTES / 1000) }, () => call).join(",");
    nock(BASE).get(LIST).query(true).reply(200, `{"calls": [${calls}], "next_page_uri": null}`);
    expect(await probe().listCallsPage({ account: null, status: "queued" }, null)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: "answer larger than 4 MB: not read",
    });
  });

  it("never follows a page URI into another account (no request is sent)", async () => {
    const foreign = `/2010-04-01/Accounts/${OTHER_ACCOUNT}/Calls.json?Status=queued&PageSize=1000&Page=1&PageToken=PA1`;
    expect(await probe().listCallsPage({ account: null, status: "queued" }, foreign)).toMatchObject({
      kind: "error",
      reason: "bad_request",
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("maps a failed list request to an error", async () => {
    nock(BASE).get(LIST).query(true).reply(503, { code: 20503, message: "down", status: 503 });
    expect(await probe().listCallsPage({ account: null, status: "ringing" }, null)).toMatchObject({
      kind: "error",
      reason: "server_error",
    });
    nock(BASE).get(LIST).query(true).reply(404, { code: 20404, message: "no account", status: 404 });
    expect(await probe().listCallsPage({ account: null, status: "ringing" }, null)).toMatchObject({
      kind: "error",
      reason: "bad_request",
    });
  });
});
