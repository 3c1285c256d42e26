import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CALL_COMPLETED_TYPE,
  LEGACY_CALL_COMPLETED_TYPE,
  startTwilioSimulator,
  type TwilioSimulator,
} from "../../src/sim/twilio-sim.js";
import { type EventReceiver, startEventReceiver } from "../helpers/event-receiver.js";
import { sdkToSimulator } from "../helpers/sdk-to-simulator.js";
import { basicAuth, PARENT, PARENT_TOKEN } from "../helpers/sim-parent.js";
import { until } from "../helpers/wait.js";

const OTHER = "AC00000000000000000000000000000002";
const KEY = { sid: "SK00000000000000000000000000000001", secret: "key-secret" };

let sim: TwilioSimulator;
let receiver: EventReceiver;
const sdk = (user = PARENT, pass = PARENT_TOKEN) => sdkToSimulator(sim.url, PARENT, user, pass);

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary Twilio JSON and assert on it.
type Json = any;
async function call(
  method: string,
  path: string,
  form?: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: basicAuth(), "content-type": "application/x-www-form-urlencoded" },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

const webhook = (destination: string) => ({ destination, method: "POST", batch_events: true });

beforeEach(async () => {
  receiver = await startEventReceiver();
});
afterEach(async () => {
  await sim.close();
  await receiver.close();
});

describe("Twilio simulator: the events v1 API through the official SDK", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({ accountSid: PARENT, authToken: PARENT_TOKEN, apiKeys: [KEY] });
  });

  it("creates, lists, fetches and deletes a webhook sink and its subscription", async () => {
    const client = sdk();
    const destination = `${receiver.origin}/twilio/events`;
    const sink = await client.events.v1.sinks.create({
      description: "call-reconciler",
      sinkType: "webhook",
      sinkConfiguration: webhook(destination),
    });
    expect(sink.sid).toMatch(/^DG[0-9a-f]{32}$/);
    expect(sink.status).toBe("active");
    expect(sink.sinkType).toBe("webhook");
    expect(sink.sinkConfiguration).toEqual(webhook(destination));
    expect(sink.dateCreated).toBeInstanceOf(Date);

    const sub = await client.events.v1.subscriptions.create({
      description: "call ends",
      sinkSid: sink.sid,
      types: [
        { type: CALL_COMPLETED_TYPE, schema_version: 2 },
        { type: LEGACY_CALL_COMPLETED_TYPE, schema_version: 1 },
      ],
    });
    expect(sub.sid).toMatch(/^DF[0-9a-f]{32}$/);
    expect(sub).toMatchObject({ accountSid: PARENT, sinkSid: sink.sid, description: "call ends" });

    // What the SDK sent: form parameters, the configuration and each type as JSON text, Types repeated.
    const [createSink, createSub] = sim.eventStats.apiRequests;
    expect(createSink).toMatchObject({ method: "POST", path: "/v1/Sinks", status: 201, accountSid: PARENT });
    expect(JSON.parse(createSink?.form.SinkConfiguration?.[0] ?? "")).toEqual(webhook(destination));
    expect(createSub?.form.Types?.map((t) => JSON.parse(t))).toEqual([
      { type: CALL_COMPLETED_TYPE, schema_version: 2 },
      { type: LEGACY_CALL_COMPLETED_TYPE, schema_version: 1 },
    ]);

    expect((await client.events.v1.sinks.list()).map((s) => s.sid)).toEqual([sink.sid]);
    expect((await client.events.v1.sinks.list({ inUse: false })).map((s) => s.sid)).toEqual([]);
    expect((await client.events.v1.subscriptions.list({ sinkSid: sink.sid })).map((s) => s.sid)).toEqual([
      sub.sid,
    ]);
    const types = await client.events.v1.subscriptions(sub.sid).subscribedEvents.list();
    expect(types.map((t) => [t.type, t.schemaVersion])).toEqual([
      [CALL_COMPLETED_TYPE, 2],
      [LEGACY_CALL_COMPLETED_TYPE, 1],
    ]);
    expect((await client.events.v1.sinks(sink.sid).fetch()).description).toBe("call-reconciler");

    expect(await client.events.v1.subscriptions(sub.sid).remove()).toBe(true);
    expect(await client.events.v1.sinks(sink.sid).remove()).toBe(true);
    await expect(client.events.v1.sinks(sink.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    expect(await client.events.v1.sinks.list()).toEqual([]);
  });

  it("pages lists with a meta object whose next page the SDK follows", async () => {
    const client = sdk();
    for (let i = 0; i < 5; i++) {
      await client.events.v1.sinks.create({
        description: `sink ${i}`,
        sinkType: "webhook",
        sinkConfiguration: webhook(`${receiver.origin}/${i}`),
      });
    }
    const sinks = await client.events.v1.sinks.list({ pageSize: 2 });
    expect(sinks.map((s) => s.description)).toEqual(["sink 0", "sink 1", "sink 2", "sink 3", "sink 4"]);
    const first = await call("GET", "/v1/Sinks?PageSize=2");
    expect(first.body.meta).toMatchObject({ key: "sinks", page: 0, page_size: 2, previous_page_url: null });
    expect(first.body.meta.next_page_url).toBe(`${sim.url}/v1/Sinks?PageSize=2&Page=1&PageToken=PA2`);
    expect(
      sim.eventStats.apiRequests.filter((r) => r.method === "GET").map((r) => r.query.Page?.[0]),
    ).toEqual([undefined, "1", "2", undefined]);
  });

  it("keeps each account's sinks to itself, and lets an API key act for the parent", async () => {
    const sink = await sdk(KEY.sid, KEY.secret).events.v1.sinks.create({
      description: "by key",
      sinkType: "webhook",
      sinkConfiguration: webhook(`${receiver.origin}/e`),
    });
    expect((await sdk().events.v1.sinks.list()).map((s) => s.sid)).toEqual([sink.sid]);
    const other = await fetch(`${sim.url}/v1/Sinks/${sink.sid}`, {
      headers: { authorization: basicAuth(OTHER) },
    });
    expect(other.status).toBe(401);
    const anonymous = await fetch(`${sim.url}/v1/Sinks`);
    expect(anonymous.status).toBe(401);
  });

  it("refuses bad requests with Twilio's error shape", async () => {
    const missing = await call("POST", "/v1/Sinks", { SinkType: "webhook", SinkConfiguration: "{}" });
    expect(missing).toEqual({
      status: 400,
      body: {
        code: 20001,
        message: "Missing required parameter Description in the post body",
        more_info: "https://www.twilio.com/docs/errors/20001",
        status: 400,
      },
    });
    const notJson = await call("POST", "/v1/Sinks", {
      Description: "d",
      SinkType: "webhook",
      SinkConfiguration: "x",
    });
    expect(notJson.body).toMatchObject({ code: 20001, status: 400 });
    const noDestination = await call("POST", "/v1/Sinks", {
      Description: "d",
      SinkType: "webhook",
      SinkConfiguration: JSON.stringify({ method: "POST" }),
    });
    expect(noDestination.status).toBe(400);
    const unknownSink = await call("POST", "/v1/Subscriptions", {
      Description: "d",
      SinkSid: `DG${"0".repeat(32)}`,
      Types: JSON.stringify({ type: CALL_COMPLETED_TYPE }),
    });
    expect(unknownSink.status).toBe(400);
    const gone = await call("GET", `/v1/Subscriptions/DF${"0".repeat(32)}`);
    expect(gone.body).toMatchObject({
      code: 20404,
      status: 404,
      more_info: "https://www.twilio.com/docs/errors/20404",
    });

    const { sinkSid, subscriptionSid } = sim.addEventSink({ url: `${receiver.origin}/e` });
    const inUse = await call("DELETE", `/v1/Sinks/${sinkSid}`);
    expect(inUse.body).toMatchObject({ code: 20001, status: 400 });
    expect((await call("DELETE", `/v1/Subscriptions/${subscriptionSid}`)).status).toBe(204);
    expect((await call("DELETE", `/v1/Sinks/${sinkSid}`)).status).toBe(204);
    expect((await call("PUT", "/v1/Sinks")).status).toBe(405);
  });
});

describe("Twilio simulator: a sink that must pass its test first", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({
      accountSid: PARENT,
      authToken: PARENT_TOKEN,
      requireSinkValidation: true,
    });
  });

  it("starts initialized, refuses subscriptions, and is active once validated with its test event's id", async () => {
    const client = sdk();
    const sink = await client.events.v1.sinks.create({
      description: "d",
      sinkType: "webhook",
      sinkConfiguration: webhook(`${receiver.origin}/twilio/events`),
    });
    expect(sink.status).toBe("initialized");
    const types = [{ type: CALL_COMPLETED_TYPE, schema_version: 2 }];
    await expect(
      client.events.v1.subscriptions.create({ description: "d", sinkSid: sink.sid, types }),
    ).rejects.toMatchObject({ status: 400 });

    expect((await client.events.v1.sinks(sink.sid).sinkTest.create()).result).toBe("submitted");
    const test = await until("the test event", () => receiver.posts[0]);
    expect(test.events).toHaveLength(1);
    expect(test.events[0].type).toBe("com.twilio.eventstreams.test-event");
    await expect(
      client.events.v1.sinks(sink.sid).sinkValidate.create({ testId: "TEwrong" }),
    ).rejects.toMatchObject({
      status: 400,
    });
    const valid = await client.events.v1
      .sinks(sink.sid)
      .sinkValidate.create({ testId: test.events[0].data.test_id });
    expect(valid.result).toBe("valid");
    expect((await client.events.v1.sinks(sink.sid).fetch()).status).toBe("active");
    const sub = await client.events.v1.subscriptions.create({ description: "d", sinkSid: sink.sid, types });
    expect(sub.sinkSid).toBe(sink.sid);
  });
});
