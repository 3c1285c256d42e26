import { setTimeout as sleep } from "node:timers/promises";
import { validateRequestWithBody } from "twilio/lib/webhooks/webhooks.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  CALL_COMPLETED_TYPE,
  LEGACY_CALL_COMPLETED_TYPE,
  type SimTwilioCall,
  type SimTwilioOptions,
  startTwilioSimulator,
  type TwilioSimulator,
} from "../../src/sim/twilio-sim.js";
import { type Answer, type EventReceiver, startEventReceiver } from "../helpers/event-receiver.js";
import { basicAuth, PARENT, PARENT_TOKEN } from "../helpers/sim-parent.js";
import { until } from "../helpers/wait.js";

const SUB = "AC0000000000000000000000000000000a";
const START = new Date("2026-12-01T10:00:00Z");
const END = new Date("2026-12-01T10:05:00Z");
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;
const live = (n: number, over: Partial<SimTwilioCall> = {}): SimTwilioCall => ({
  sid: sid(n),
  status: "in-progress",
  startTime: START,
  endTime: null,
  duration: null,
  ...over,
});

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function world(
  opts: Partial<SimTwilioOptions> = {},
  answer?: Answer,
): Promise<{ sim: TwilioSimulator; receiver: EventReceiver }> {
  const receiver = await startEventReceiver(answer);
  open.push(receiver);
  const calls = Array.from({ length: 30 }, (_, i) => live(i + 1));
  const sim = await startTwilioSimulator({ accountSid: PARENT, authToken: PARENT_TOKEN, calls, ...opts });
  open.push(sim);
  return { sim, receiver };
}
/** A webhook sink and its subscription created through the events API, as a client would. */
async function sinkThroughApi(
  sim: TwilioSimulator,
  configuration: Record<string, unknown>,
  types: string[],
): Promise<void> {
  const auth = basicAuth();
  const post = async (path: string, form: URLSearchParams) => {
    const res = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { authorization: auth },
      body: form,
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { sid: string };
  };
  const sink = await post(
    "/v1/Sinks",
    new URLSearchParams({
      Description: "d",
      SinkType: "webhook",
      SinkConfiguration: JSON.stringify(configuration),
    }),
  );
  const form = new URLSearchParams({ Description: "d", SinkSid: sink.sid });
  for (const type of types) form.append("Types", JSON.stringify({ type }));
  await post("/v1/Subscriptions", form);
}
const callSids = (r: EventReceiver): string[] =>
  r.posts.flatMap((p) => p.events.map((e) => e.data.request.parameters.CallSid as string));
const settled = (sim: TwilioSimulator) => until("no delivery pending", () => sim.eventStats.pending === 0);

describe("Twilio simulator: Event Streams deliveries", () => {
  it("posts a call's end as a signed JSON batch the SDK's validator accepts", async () => {
    const { sim, receiver } = await world();
    const destination = `${receiver.origin}/twilio/events`;
    sim.addEventSink({ url: destination });
    const event = sim.endCall(sid(1), { status: "busy", endTime: END, appResponseCode: 502 });
    const post = await until("the batch", () => receiver.posts[0]);

    expect(post.path).toMatch(/^\/twilio\/events\?bodySHA256=[0-9a-f]{64}$/);
    const signature = String(post.headers["x-twilio-signature"]);
    expect(
      validateRequestWithBody(PARENT_TOKEN, signature, `${receiver.origin}${post.path}`, post.body),
    ).toBe(true);
    expect(
      validateRequestWithBody("another-token", signature, `${receiver.origin}${post.path}`, post.body),
    ).toBe(false);
    expect(post.headers["content-type"]).toBe("application/json");
    expect(post.events).toEqual([event]);
    expect(post.events[0]).toMatchObject({
      specversion: "1.0",
      type: CALL_COMPLETED_TYPE,
      datacontenttype: "application/json",
      data: {
        sid: sid(1),
        accountSid: PARENT,
        request: {
          method: "POST",
          parameters: { CallSid: sid(1), CallStatus: "busy", CallDuration: "300", AccountSid: PARENT },
        },
        response: { responseCode: 502 },
      },
    });
    expect(Date.parse(post.events[0].time)).toBeGreaterThanOrEqual(END.getTime());
    // The Calls API tells the same end.
    expect(sim.getCall(sid(1))).toMatchObject({ status: "busy", endTime: END, duration: "300" });
    await settled(sim);
    expect(sim.eventStats).toMatchObject({ delivered: 1, posts: 1, failedDeliveries: 0, retries: 0 });
  });

  it("signs a destination that has a query with &bodySHA256, and uses a sink's own token", async () => {
    const { sim, receiver } = await world();
    sim.addEventSink({ url: `${receiver.origin}/events?tenant=a`, authToken: "sink-token" });
    sim.endCall(sid(1), { endTime: END });
    const post = await until("the batch", () => receiver.posts[0]);
    expect(post.path).toMatch(/^\/events\?tenant=a&bodySHA256=[0-9a-f]{64}$/);
    const signature = String(post.headers["x-twilio-signature"]);
    expect(
      validateRequestWithBody("sink-token", signature, `${receiver.origin}${post.path}`, post.body),
    ).toBe(true);
  });

  it("delivers to sinks created through the API, under each subscribed name, only for the sink's account", async () => {
    const { sim, receiver } = await world({ subaccounts: [SUB] });
    await sinkThroughApi(sim, { destination: `${receiver.origin}/e`, method: "POST" }, [
      CALL_COMPLETED_TYPE,
      LEGACY_CALL_COMPLETED_TYPE,
    ]);

    sim.upsertCall(live(1, { accountSid: SUB }));
    sim.endCall(sid(1), { endTime: END });
    sim.endCall(sid(2), { endTime: END });
    await until("both names", () => receiver.posts.flatMap((p) => p.events).length >= 2);
    await settled(sim);
    const events = receiver.posts.flatMap((p) => p.events);
    expect(events.map((e) => [e.type, e.data.request.parameters.CallSid])).toEqual([
      [CALL_COMPLETED_TYPE, sid(2)],
      [LEGACY_CALL_COMPLETED_TYPE, sid(2)],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it("sends nothing for a call without status callbacks", async () => {
    const { sim, receiver } = await world();
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.upsertCall(live(1, { statusCallbacks: false }));
    sim.upsertCall(live(2, { records: { origin: { kind: "api", url: "https://app.example.com/voice" } } }));
    expect(sim.endCall(sid(1), { endTime: END })).toBeUndefined();
    expect(sim.endCall(sid(2), { endTime: END })).toBeUndefined();
    sim.endCall(sid(3), { endTime: END });
    await until("the call with callbacks", () => callSids(receiver).includes(sid(3)));
    await settled(sim);
    expect(callSids(receiver)).toEqual([sid(3)]);
    expect(sim.getCall(sid(1))?.status).toBe("completed");
  });

  it("delivers a subaccount's calls to the subaccount's sinks, signed with the sink's token", async () => {
    const { sim, receiver } = await world({ subaccounts: [SUB] });
    sim.addEventSink({ url: `${receiver.origin}/sub`, accountSid: SUB, authToken: "sub-token" });
    sim.upsertCall(live(1, { accountSid: SUB }));
    sim.endCall(sid(2), { endTime: END });
    sim.endCall(sid(1), { endTime: END });
    await until("the subaccount's call", () => receiver.posts[0]);
    await settled(sim);
    expect(callSids(receiver)).toEqual([sid(1)]);
    const [post] = receiver.posts;
    expect(post?.events[0].data.request.parameters.AccountSid).toBe(SUB);
    const signature = String(post?.headers["x-twilio-signature"]);
    expect(
      validateRequestWithBody("sub-token", signature, `${receiver.origin}${post?.path}`, post?.body ?? ""),
    ).toBe(true);
  });

  it("stops retrying for a sink deleted meanwhile", async () => {
    const retryDelaysMs = Array.from({ length: 50 }, () => 20);
    const { sim, receiver } = await world({ eventDelivery: { retryDelaysMs } }, () => 500);
    const { sinkSid, subscriptionSid } = sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await until("a failed post", () => sim.eventStats.failedDeliveries >= 1);
    const auth = { authorization: basicAuth() };
    await fetch(`${sim.url}/v1/Subscriptions/${subscriptionSid}`, { method: "DELETE", headers: auth });
    expect((await fetch(`${sim.url}/v1/Sinks/${sinkSid}`, { method: "DELETE", headers: auth })).status).toBe(
      204,
    );
    const posts = receiver.posts.length;
    await settled(sim);
    expect(receiver.posts.length).toBeLessThanOrEqual(posts + 1);
    expect(sim.eventStats.gaveUp).toBe(0);
  });

  it("clears its delivery counters and recorded API requests with resetStats", async () => {
    const { sim, receiver } = await world();
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await settled(sim);
    await fetch(`${sim.url}/v1/Sinks`, {
      headers: { authorization: basicAuth() },
    });
    expect(sim.eventStats).toMatchObject({
      delivered: 1,
      posts: 1,
      apiRequests: [{ method: "GET", path: "/v1/Sinks" }],
    });
    sim.resetStats();
    expect(sim.eventStats).toMatchObject({ delivered: 0, posts: 0, apiRequests: [] });
  });

  it("sends the late event of a call Twilio already ended with the call's own end", async () => {
    const { sim, receiver } = await world();
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.upsertCall(live(1, { status: "no-answer", endTime: END, duration: "0" }));
    const event = sim.endCall(sid(1), { appResponseCode: null });
    expect(event?.data).toMatchObject({
      request: { parameters: { CallStatus: "no-answer", CallDuration: "0" } },
      response: { responseCode: null },
    });
    expect(sim.getCall(sid(1))).toMatchObject({ status: "no-answer", endTime: END, duration: "0" });
    await until("the event", () => receiver.posts[0]);
  });

  it("delivers the steps before the end to sinks subscribed to them, for calls that asked for them", async () => {
    const { sim, receiver } = await world();
    const answered = "com.twilio.voice.status-callback.call.answered";
    sim.addEventSink({ url: `${receiver.origin}/e`, types: [answered, CALL_COMPLETED_TYPE] });
    const records = (statusCallbackEvent: string[]) => ({
      origin: {
        kind: "api" as const,
        url: "https://app/voice",
        statusCallback: "https://app/s",
        statusCallbackEvent,
      },
    });
    sim.upsertCall(
      live(1, { status: "queued", startTime: null, records: records(["ringing", "answered", "completed"]) }),
    );
    sim.upsertCall(live(2, { records: records(["completed"]) }));
    const at = new Date("2026-12-01T10:00:07Z");
    expect(sim.progressCall(sid(1), "ringing", { at })?.type).toBe(
      "com.twilio.voice.status-callback.call.ringing",
    );
    const event = sim.progressCall(sid(1), "answered", { at });
    expect(event?.data).toMatchObject({
      request: { url: "https://app/s", parameters: { CallSid: sid(1), CallStatus: "in-progress" } },
    });
    expect(sim.getCall(sid(1))).toMatchObject({ status: "in-progress", startTime: at });
    expect(sim.progressCall(sid(2), "answered")).toBeUndefined();
    sim.endCall(sid(1), { endTime: END });
    await until("the end", () => callSids(receiver).length === 2);
    await settled(sim);
    expect(
      receiver.posts.flatMap((p) => p.events.map((e) => [e.type, e.data.request.parameters.CallStatus])),
    ).toEqual([
      [answered, "in-progress"],
      [CALL_COMPLETED_TYPE, "completed"],
    ]);
    expect(() => sim.progressCall(sid(1), "ringing")).toThrow(RangeError);
  });

  it("refuses to end an unknown call or with a status that is not an end", async () => {
    const { sim } = await world();
    expect(() => sim.endCall(sid(99))).toThrow(RangeError);
    expect(() => sim.endCall(sid(1), { status: "in-progress" })).toThrow(RangeError);
  });

  it("sends a batch again after a 500, with the same body, then counts it delivered", async () => {
    const { sim, receiver } = await world({ eventDelivery: { retryDelaysMs: [50] } }, (n) =>
      n === 0 ? 500 : 200,
    );
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await until("the second attempt", () => receiver.posts[1]);
    await settled(sim);
    const [first, second] = receiver.posts;
    expect(second?.body).toBe(first?.body);
    expect(second?.headers["i-twilio-idempotency-token"]).toBe(first?.headers["i-twilio-idempotency-token"]);
    expect(sim.eventStats).toMatchObject({
      delivered: 1,
      failedDeliveries: 1,
      retries: 1,
      posts: 2,
      gaveUp: 0,
    });
  });

  it("keeps the simulator-wide option where a sink's is given as undefined", async () => {
    const { sim, receiver } = await world({ eventDelivery: { retryDelaysMs: [10] } }, (n) =>
      n === 0 ? 500 : 200,
    );
    sim.addEventSink({ url: `${receiver.origin}/e`, retryDelaysMs: undefined, batchMaxEvents: undefined });
    sim.endCall(sid(1), { endTime: END });
    await until("the retry", () => receiver.posts[1]);
    await settled(sim);
    expect(sim.eventStats).toMatchObject({ delivered: 1, retries: 1 });
  });

  it("retries a sink that does not answer in time, and gives up after the last retry", async () => {
    const { sim, receiver } = await world(
      { eventDelivery: { retryDelaysMs: [20, 20], responseTimeoutMs: 200 } },
      () => null,
    );
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await until("the last attempt given up", () => sim.eventStats.gaveUp === 1);
    expect(receiver.posts).toHaveLength(3);
    expect(sim.eventStats).toMatchObject({ delivered: 0, failedDeliveries: 3, retries: 2, pending: 0 });
  });

  it("retries a refused connection", async () => {
    const { sim, receiver } = await world({ eventDelivery: { retryDelaysMs: [10] } });
    const { origin } = receiver;
    await receiver.close();
    sim.addEventSink({ url: `${origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await until("given up", () => sim.eventStats.gaveUp === 1);
    expect(sim.eventStats).toMatchObject({ failedDeliveries: 2, retries: 1, delivered: 0 });
  });

  it("sends a share of events twice and never sends a dropped one, the same way for the same seed", async () => {
    const run = async () => {
      const { sim, receiver } = await world({
        randomSeed: 7,
        eventDelivery: { duplicateShare: 0.3, dropShare: 0.3 },
      });
      sim.addEventSink({ url: `${receiver.origin}/e` });
      for (let n = 1; n <= 30; n++) sim.endCall(sid(n), { endTime: END });
      await settled(sim);
      return { sids: callSids(receiver), stats: sim.eventStats };
    };
    const a = await run();
    const b = await run();
    expect(a.stats.dropped).toBeGreaterThan(0);
    expect(a.stats.duplicates).toBeGreaterThan(0);
    expect(a.sids).toHaveLength(30 - a.stats.dropped + a.stats.duplicates);
    expect(new Set(a.sids).size).toBe(30 - a.stats.dropped);
    expect(a.stats.delivered).toBe(a.sids.length);
    expect(b.sids.toSorted()).toEqual(a.sids.toSorted());
  });

  it("splits events into batches of at most batchMaxEvents, in order unless asked to reorder", async () => {
    const ordered = await world({ eventDelivery: { batchMaxEvents: 4 } });
    ordered.sim.addEventSink({ url: `${ordered.receiver.origin}/e` });
    const shuffled = await world({ eventDelivery: { batchMaxEvents: 4, reorder: true } });
    shuffled.sim.addEventSink({ url: `${shuffled.receiver.origin}/e` });
    for (let n = 1; n <= 10; n++) {
      ordered.sim.endCall(sid(n), { endTime: END });
      shuffled.sim.endCall(sid(n), { endTime: END });
    }
    await settled(ordered.sim);
    await settled(shuffled.sim);
    const inOrder = Array.from({ length: 10 }, (_, i) => sid(i + 1));
    expect(ordered.receiver.posts.map((p) => p.events.length).toSorted()).toEqual([2, 4, 4]);
    expect(callSids(ordered.receiver).toSorted()).toEqual(inOrder);
    expect(ordered.receiver.posts[0]?.events.map((e) => e.data.sid)).toEqual(inOrder.slice(0, 4));
    expect(callSids(shuffled.receiver).toSorted()).toEqual(inOrder);
    expect(shuffled.receiver.posts.flatMap((p) => p.events.map((e) => e.data.sid))).not.toEqual(inOrder);
  });

  it("one event per POST for a sink configured without batches", async () => {
    const { sim, receiver } = await world();
    await sinkThroughApi(sim, { destination: `${receiver.origin}/e`, method: "POST", batch_events: false }, [
      CALL_COMPLETED_TYPE,
    ]);
    for (let n = 1; n <= 3; n++) sim.endCall(sid(n), { endTime: END });
    await until("three posts", () => receiver.posts.length === 3);
    expect(receiver.posts.map((p) => p.events.length)).toEqual([1, 1, 1]);
  });

  it("holds each event for deliveryDelayMs", async () => {
    const { sim, receiver } = await world({ eventDelivery: { deliveryDelayMs: 300 } });
    sim.addEventSink({ url: `${receiver.origin}/e` });
    const endedAt = performance.now();
    sim.endCall(sid(1), { endTime: END });
    expect(sim.eventStats.pending).toBe(1);
    await until("the batch", () => receiver.posts[0]);
    // A lower bound only, whatever the machine's load; the margin covers the event loop's cached clock, from
    // which a timer counts and which may lag the real time a little.
    expect(performance.now() - endedAt).toBeGreaterThanOrEqual(250);
  });

  it("keeps a ready event within batchWindowMs for others to share its POST", async () => {
    const { sim, receiver } = await world({ eventDelivery: { batchWindowMs: 60_000, batchMaxEvents: 2 } });
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await sleep(100);
    sim.endCall(sid(2), { endTime: END });
    await until("the batch", () => receiver.posts[0]);
    await settled(sim);
    expect(receiver.posts.map((p) => p.events.length)).toEqual([2]);
  });

  it("replays any events handed to it to the subscribed sinks", async () => {
    const { sim, receiver } = await world();
    sim.addEventSink({ url: `${receiver.origin}/e` });
    const event = sim.endCall(sid(1), { endTime: END });
    await until("the first delivery", () => receiver.posts[0]);
    if (event === undefined) throw new Error("no event");
    sim.deliverEvents([event, { ...event, type: "com.twilio.unsubscribed" }]);
    await until("the replay", () => receiver.posts[1]);
    await settled(sim);
    expect(receiver.posts.map((p) => p.events.map((e) => e.id))).toEqual([[event.id], [event.id]]);
  });

  it("stops a delivery in flight and every timer at close", async () => {
    const { sim, receiver } = await world({}, () => null);
    sim.addEventSink({ url: `${receiver.origin}/e` });
    sim.endCall(sid(1), { endTime: END });
    await until("the request", () => receiver.posts[0]);
    await sim.close();
    await until("the connection closed", () => receiver.closedUnanswered === 1);
    expect(sim.eventStats.pending).toBe(0);
    expect(() => sim.endCall(sid(2), { endTime: END })).not.toThrow();
    expect(sim.eventStats.pending).toBe(0);
  });

  it("refuses delivery options out of range", async () => {
    await expect(world({ eventDelivery: { dropShare: 2 } })).rejects.toThrow(RangeError);
    const { sim, receiver } = await world();
    expect(() => sim.addEventSink({ url: `${receiver.origin}/e`, batchMaxEvents: 0 })).toThrow(RangeError);
    expect(() => sim.setEventDelivery({ retryDelaysMs: [-1] })).toThrow(RangeError);
  });
});
