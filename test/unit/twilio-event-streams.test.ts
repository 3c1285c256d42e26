/**
 * The Event Streams adapter against Twilio's Events API as its OpenAPI description (twilio_events_v1.json)
 * documents it: the form fields and JSON-encoded values each request carries, the list wrappers each answer
 * has, what setup creates and what it leaves, what teardown removes and the sinks it never touches.
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import {
  CALL_END_EVENT_TYPES,
  createEventStreams,
  SINK_DESCRIPTION,
  SUBSCRIPTION_DESCRIPTION,
} from "../../src/providers/twilio-event-streams.js";
import { nockOnly } from "../helpers/twilio-nock.js";

const ACCOUNT = `AC${"1".repeat(32)}`;
const credentials = { accountSid: ACCOUNT, username: ACCOUNT, password: "token-1" };
const BASIC = `Basic ${Buffer.from(`${ACCOUNT}:token-1`).toString("base64")}`;
const BASE = "https://twilio-sim.example";
const URL_ = "https://reconciler.example.com/twilio/events";
const COMPLETED = CALL_END_EVENT_TYPES[0];
const SCHEMA = "Voice.StatusCallback";
const sinkSid = (n: number) => `DG${String(n).padStart(32, "0")}`;
const subSid = (n: number) => `DF${String(n).padStart(32, "0")}`;

const streams = (baseUrl = BASE) =>
  createEventStreams({ credentials, baseUrl, timeoutMs: 5_000, keepAlive: false });

/** A list answer in the Events API's wrapper: `{<key>: [...], meta: {key, next_page_url, ...}}`. */
const list = (key: string, items: unknown[], url: string, next: string | null = null) => ({
  [key]: items,
  meta: {
    page: 0,
    page_size: 1000,
    first_page_url: url,
    previous_page_url: null,
    url,
    next_page_url: next,
    key,
  },
});

function sink(n: number, over: Record<string, unknown> = {}) {
  return {
    status: "active",
    sink_configuration: { destination: URL_, method: "POST" },
    description: SINK_DESCRIPTION,
    sid: sinkSid(n),
    date_created: "2026-12-06T10:00:00Z",
    sink_type: "webhook",
    date_updated: "2026-12-06T10:00:00Z",
    url: `https://events.twilio.com/v1/Sinks/${sinkSid(n)}`,
    links: {},
    ...over,
  };
}

function subscription(n: number, sink: number, over: Record<string, unknown> = {}) {
  return {
    account_sid: ACCOUNT,
    date_created: "2026-12-06T10:00:00Z",
    date_updated: "2026-12-06T10:00:00Z",
    sid: subSid(n),
    sink_sid: sinkSid(sink),
    description: SUBSCRIPTION_DESCRIPTION,
    url: `https://events.twilio.com/v1/Subscriptions/${subSid(n)}`,
    links: {},
    ...over,
  };
}

const subscribed = (n: number, type: string = COMPLETED, version = 1) => ({
  account_sid: ACCOUNT,
  type,
  schema_version: version,
  subscription_sid: subSid(n),
  url: `https://events.twilio.com/v1/Subscriptions/${subSid(n)}/SubscribedEvents/${type}`,
});

/** Twilio's error body, as the SDK's RestException reads it. */
const twilioError = (status: number, code: number, message: string) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

/** The sinks list, with the query the adapter must send. */
const listSinks = (scope: nock.Scope, sinks: unknown[]) =>
  scope
    .get("/v1/Sinks")
    .query({ PageSize: "1000" })
    .reply(200, list("sinks", sinks, `${BASE}/v1/Sinks?PageSize=1000&Page=0`));

const listSubscriptions = (scope: nock.Scope, sink: number, subs: unknown[]) =>
  scope
    .get("/v1/Subscriptions")
    .query({ SinkSid: sinkSid(sink), PageSize: "1000" })
    .reply(200, list("subscriptions", subs, `${BASE}/v1/Subscriptions?PageSize=1000&Page=0`));

const listSubscribed = (scope: nock.Scope, sub: number, types: unknown[]) =>
  scope
    .get(`/v1/Subscriptions/${subSid(sub)}/SubscribedEvents`)
    .query({ PageSize: "1000" })
    .reply(200, list("types", types, `${BASE}/v1/Subscriptions/${subSid(sub)}/SubscribedEvents?Page=0`));

/** The Type and its schema's versions, as setup reads them for the schema version to ask for. */
function typeAndSchema(scope: nock.Scope, versions: number[]) {
  scope.get(`/v1/Types/${COMPLETED}`).reply(200, {
    date_created: "2024-01-01T00:00:00Z",
    date_updated: "2024-01-01T00:00:00Z",
    type: COMPLETED,
    schema_id: SCHEMA,
    status: "available",
    documentation_url: null,
    description: "Voice status callback, call completed",
    url: `https://events.twilio.com/v1/Types/${COMPLETED}`,
    links: { schema: `https://events.twilio.com/v1/Schemas/${SCHEMA}/Versions` },
  });
  scope
    .get(`/v1/Schemas/${SCHEMA}/Versions`)
    .query({ PageSize: "1000" })
    .reply(
      200,
      list(
        "schema_versions",
        versions.map((v) => ({
          id: SCHEMA,
          schema_version: v,
          date_created: "2024-01-01T00:00:00Z",
          url: `https://events.twilio.com/v1/Schemas/${SCHEMA}/Versions/${v}`,
          raw: `https://events-schemas.twilio.com/${SCHEMA}/${v}`,
        })),
        `${BASE}/v1/Schemas/${SCHEMA}/Versions?Page=0`,
      ),
    );
}

/** A form body as Twilio reads it: every value of every field, in order. */
const form = (body: string): Record<string, string[]> => {
  const fields: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) fields[k] = [...(fields[k] ?? []), v];
  return fields;
};

nockOnly();

describe("events setup", () => {
  it("creates a POST webhook sink and subscribes it to the call-end type at the type's newest schema version", async () => {
    const scope = nock(BASE);
    listSinks(scope, [
      sink(9, { sink_configuration: { destination: "https://other.example/x", method: "POST" } }),
    ]);
    let sinkForm: Record<string, string[]> = {};
    let subForm: Record<string, string[]> = {};
    let auth: unknown;
    scope.post("/v1/Sinks").reply(function (_uri, body) {
      sinkForm = form(String(body));
      auth = this.req.headers.authorization;
      return [201, sink(1)];
    });
    typeAndSchema(scope, [1, 3, 2]);
    scope.post("/v1/Subscriptions").reply((_uri, body) => {
      subForm = form(String(body));
      return [201, subscription(1, 1)];
    });

    const answer = await streams().setup(URL_);

    expect(scope.isDone()).toBe(true);
    expect(auth).toBe(BASIC);
    expect(sinkForm).toEqual({
      Description: [SINK_DESCRIPTION],
      SinkConfiguration: [JSON.stringify({ destination: URL_, method: "POST" })],
      SinkType: ["webhook"],
    });
    expect(subForm).toEqual({
      Description: [SUBSCRIPTION_DESCRIPTION],
      SinkSid: [sinkSid(1)],
      Types: [JSON.stringify({ type: COMPLETED, schema_version: 3 })],
    });
    expect(answer).toMatchObject({
      kind: "set_up",
      account: ACCOUNT,
      sink: { sid: sinkSid(1), status: "active", method: "POST", ours: true, created: true },
      subscription: {
        sid: subSid(1),
        created: true,
        added: [{ type: COMPLETED, schemaVersion: 3 }],
      },
    });
  });

  it("run again, finds the sink and its subscription and creates nothing", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(1)]);
    listSubscriptions(scope, 1, [subscription(1, 1)]);
    listSubscribed(scope, 1, [subscribed(1, COMPLETED, 2)]);
    // Any POST would fail the test: nock refuses a request it was not told of.
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({
      kind: "set_up",
      sink: { sid: sinkSid(1), created: false },
      subscription: {
        sid: subSid(1),
        created: false,
        added: [],
        types: [{ type: COMPLETED, schemaVersion: 2 }],
      },
    });
  });

  it("adds the call-end type to its own subscription of the sink when that lacks it", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(1)]);
    listSubscriptions(scope, 1, [subscription(1, 1)]);
    listSubscribed(scope, 1, [subscribed(1, "com.twilio.voice.status-callback.call.ringing")]);
    typeAndSchema(scope, [1]);
    let added: Record<string, string[]> = {};
    scope.post(`/v1/Subscriptions/${subSid(1)}/SubscribedEvents`).reply((_uri, body) => {
      added = form(String(body));
      return [201, subscribed(1)];
    });
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(added).toEqual({ Type: [COMPLETED], SchemaVersion: ["1"] });
    expect(answer).toMatchObject({
      subscription: { sid: subSid(1), created: false, added: [{ type: COMPLETED }] },
    });
  });

  it("uses a sink someone else made for the URL, and subscribes it under its own description", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(5, { description: "ops team webhook" })]);
    listSubscriptions(scope, 5, []);
    typeAndSchema(scope, [1]);
    scope.post("/v1/Subscriptions").reply(201, subscription(1, 5));
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({
      sink: { sid: sinkSid(5), ours: false, created: false },
      subscription: { created: true },
    });
  });

  it("makes its own POST sink when the one at the URL sends GET (the endpoint takes POST only)", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(5, { sink_configuration: JSON.stringify({ destination: URL_, method: "GET" }) })]);
    listSubscriptions(scope, 5, []);
    scope.post("/v1/Sinks").reply(201, sink(1));
    typeAndSchema(scope, [1]);
    scope.post("/v1/Subscriptions").reply(201, subscription(1, 1));
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({ sink: { sid: sinkSid(1), created: true } });
  });

  it("does not subscribe a sink that is not active: Twilio subscribes only an active sink", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(1, { status: "failed" })]);
    listSubscriptions(scope, 1, []);
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({ sink: { sid: sinkSid(1), status: "failed" }, subscription: null });
  });

  it("reads every page of the sinks list, following the answer's next_page_url", async () => {
    const scope = nock(BASE);
    scope
      .get("/v1/Sinks")
      .query({ PageSize: "1000" })
      .reply(
        200,
        list(
          "sinks",
          [sink(9, { sink_configuration: { destination: "https://other.example/x", method: "POST" } })],
          `${BASE}/v1/Sinks?PageSize=1000&Page=0`,
          `https://events.twilio.com/v1/Sinks?PageSize=1000&Page=1&PageToken=PT1`,
        ),
      );
    scope
      .get("/v1/Sinks")
      .query({ PageSize: "1000", Page: "1", PageToken: "PT1" })
      .reply(200, list("sinks", [sink(1)], `${BASE}/v1/Sinks?PageSize=1000&Page=1`));
    listSubscriptions(scope, 1, [subscription(1, 1)]);
    listSubscribed(scope, 1, [subscribed(1)]);
    const answer = await streams().setup(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({
      sink: { sid: sinkSid(1), created: false },
      subscription: { created: false },
    });
  });

  it("asks events.twilio.com when TWILIO_API_BASE_URL is Twilio's own", async () => {
    const scope = nock("https://events.twilio.com");
    scope
      .get("/v1/Sinks")
      .query({ PageSize: "1000" })
      .reply(200, list("sinks", [], "https://events.twilio.com/v1/Sinks?PageSize=1000&Page=0"));
    const answer = await streams("https://api.twilio.com").inspect(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toEqual({ kind: "state", account: ACCOUNT, sinks: [], subscriptions: [] });
  });
  it("keeps a base URL's path: a proxy at /twilio receives /twilio/v1/…", async () => {
    const scope = nock("http://proxy.example")
      .get("/twilio/v1/Sinks")
      .query({ PageSize: "1000" })
      .reply(200, list("sinks", [], "http://proxy.example/twilio/v1/Sinks?Page=0"));
    expect(await streams("http://proxy.example/twilio/").inspect(URL_)).toMatchObject({ kind: "state" });
    expect(scope.isDone()).toBe(true);
  });
});

describe("events teardown", () => {
  it("removes its subscription and its sink at the URL, and leaves another's sink at the same URL alone", async () => {
    const scope = nock(BASE);
    listSinks(scope, [
      sink(1),
      sink(2, { description: "ops team webhook" }),
      sink(3, {
        description: `${SINK_DESCRIPTION} (another URL)`,
        sink_configuration: { destination: "https://x.example/e", method: "POST" },
      }),
    ]);
    listSubscriptions(scope, 1, [subscription(1, 1)]);
    listSubscribed(scope, 1, [subscribed(1)]);
    listSubscriptions(scope, 2, [subscription(2, 2, { description: "ops team" })]);
    listSubscribed(scope, 2, [subscribed(2)]);
    scope.delete(`/v1/Subscriptions/${subSid(1)}`).reply(204);
    scope.delete(`/v1/Sinks/${sinkSid(1)}`).reply(204);
    const answer = await streams().teardown(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toEqual({
      kind: "torn_down",
      account: ACCOUNT,
      removedSubscriptions: [subSid(1)],
      removedSinks: [sinkSid(1)],
      keptSinks: [],
      foreignSinks: [sinkSid(2)],
    });
  });

  it("removes its own subscription of another's sink, and keeps its sink while another's subscription uses it", async () => {
    const scope = nock(BASE);
    listSinks(scope, [sink(1), sink(2, { description: "ops team webhook" })]);
    listSubscriptions(scope, 1, [subscription(1, 1), subscription(3, 1, { description: "ops team" })]);
    listSubscribed(scope, 1, [subscribed(1)]);
    listSubscribed(scope, 3, [subscribed(3)]);
    listSubscriptions(scope, 2, [subscription(2, 2)]);
    listSubscribed(scope, 2, [subscribed(2)]);
    scope.delete(`/v1/Subscriptions/${subSid(1)}`).reply(204);
    scope.delete(`/v1/Subscriptions/${subSid(2)}`).reply(204);
    const answer = await streams().teardown(URL_);
    expect(scope.isDone()).toBe(true);
    expect(answer).toMatchObject({
      removedSubscriptions: [subSid(1), subSid(2)],
      removedSinks: [],
      keptSinks: [sinkSid(1)],
      foreignSinks: [sinkSid(2)],
    });
  });

  it("run again, finds nothing of its own and removes nothing; a resource already gone counts as removed", async () => {
    const again = nock(BASE);
    listSinks(again, []);
    expect(await streams().teardown(URL_)).toMatchObject({ removedSubscriptions: [], removedSinks: [] });
    expect(again.isDone()).toBe(true);

    const raced = nock(BASE);
    listSinks(raced, [sink(1)]);
    listSubscriptions(raced, 1, []);
    raced
      .delete(`/v1/Sinks/${sinkSid(1)}`)
      .reply(404, twilioError(404, 20404, "The requested resource was not found"));
    expect(await streams().teardown(URL_)).toMatchObject({ removedSinks: [sinkSid(1)] });
    expect(raced.isDone()).toBe(true);
  });
});

describe("errors: one line naming the step, Twilio's status and error", () => {
  it.each([
    [401, 20003, "Authenticate", "auth_failed"],
    [403, 20403, "Forbidden", "forbidden"],
    [404, 20404, "The requested resource was not found", "not_found"],
    [429, 20429, "Too Many Requests", "rate_limited"],
    [503, 20503, "Service Unavailable", "server_error"],
    [400, 21200, "Invalid sink configuration", "bad_request"],
  ])("HTTP %i is %s", async (status, code, message, reason) => {
    nock(BASE)
      .get("/v1/Sinks")
      .query(true)
      .reply(status, twilioError(status, code, message));
    expect(await streams().setup(URL_)).toEqual({
      kind: "error",
      reason,
      httpStatus: status,
      detail: `HTTP ${status} listing the sinks (Twilio error ${code}: ${message})`,
    });
  });

  it("names the step that failed after others succeeded", async () => {
    const scope = nock(BASE);
    listSinks(scope, []);
    scope.post("/v1/Sinks").reply(400, twilioError(400, 21200, "Destination must be a valid URL"));
    expect(await streams().setup(URL_)).toMatchObject({
      reason: "bad_request",
      detail: "HTTP 400 creating the sink (Twilio error 21200: Destination must be a valid URL)",
    });
  });

  it("a Type without a schema, or a schema without versions, is an answer not as documented", async () => {
    const noSchema = nock(BASE);
    listSinks(noSchema, [sink(1)]);
    listSubscriptions(noSchema, 1, []);
    noSchema
      .get(`/v1/Types/${COMPLETED}`)
      .reply(200, { type: COMPLETED, schema_id: null, status: "available" });
    expect(await streams().setup(URL_)).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(/Twilio names no schema for event type/),
    });
    const noVersions = nock(BASE);
    listSinks(noVersions, [sink(1)]);
    listSubscriptions(noVersions, 1, []);
    typeAndSchema(noVersions, []);
    expect(await streams().setup(URL_)).toMatchObject({
      reason: "malformed_response",
      detail: expect.stringMatching(/Twilio lists no version of schema Voice\.StatusCallback/),
    });
  });

  it("an unreachable host is a network error, never an answer", async () => {
    nock.enableNetConnect("127.0.0.1:1");
    const answer = await createEventStreams({
      credentials,
      baseUrl: "http://127.0.0.1:1",
      timeoutMs: 5_000,
      keepAlive: false,
    }).inspect(URL_);
    expect(answer).toMatchObject({ kind: "error", reason: "network" });
    expect(answer.kind === "error" ? answer.detail : "").toMatch(
      /^could not reach Twilio listing the sinks \(ECONNREFUSED/,
    );
  });
});
