/**
 * The daemon as an Event Streams sink: the built CLI (`run`), real PostgreSQL, the Twilio simulator, and
 * deliveries signed as Twilio signs them. The pass interval is 10 minutes: after the first pass, any end
 * within the test is an event's doing.
 */
import { describe, expect, it } from "vitest";
import { DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN } from "../../src/sim/demo-scenario.js";
import { callEvent } from "../helpers/call-event.js";
import {
  endedRow,
  endsOf as endsIn,
  firstPass,
  liveCall as liveCallIn,
  replicaWithSink,
  reportedChecks,
  rowOf as rowIn,
} from "../helpers/event-streams-world.js";
import { gauge, metricsUrl, scrape, seededReplicas } from "../helpers/replica.js";
import { signEventBatch } from "../helpers/sign-event-batch.js";
import { until } from "../helpers/wait.js";

describe("Event Streams: a reported end is checked at once, never taken on trust", () => {
  const suite = seededReplicas();

  async function start() {
    const { r, eventsUrl } = await replicaWithSink(suite.world, suite.start);
    await firstPass(r);
    const metrics = await until("the metrics server", () => metricsUrl(r));
    return { r, eventsUrl, metrics };
  }
  const liveCall = (name: string) => liveCallIn(suite.world, name);

  /** Twilio ends the call (its webhook to the app is lost): the simulator's Calls API now says so. */
  function endAtTwilio(call: { sid: string; startedAt: Date }, seconds = 240) {
    const endedAt = new Date(call.startedAt.getTime() + seconds * 1000);
    suite.world.sim.upsertCall({
      sid: call.sid,
      status: "completed",
      startTime: call.startedAt,
      endTime: endedAt,
      duration: String(seconds),
    });
    return endedAt;
  }

  async function deliver(
    eventsUrl: string,
    events: unknown[],
    opts: { token?: string; signedFor?: string; tamper?: (body: string) => string } = {},
  ) {
    const body = JSON.stringify(events);
    const signed = signEventBatch(opts.token ?? DEMO_AUTH_TOKEN, opts.signedFor ?? eventsUrl, body);
    const query = new URL(signed.url).search;
    const res = await fetch(`${eventsUrl}${query}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-twilio-signature": signed.signature },
      body: opts.tamper?.(body) ?? body,
      signal: AbortSignal.timeout(10_000),
    });
    return res.status;
  }

  const completed = (sid: string, id: string, responseCode = 200) => {
    const e = callEvent({ id, callSid: sid, time: new Date().toISOString(), responseCode }) as {
      data: { accountSid: string; request: { parameters: Record<string, string> } };
    };
    e.data.accountSid = DEMO_ACCOUNT_SID;
    e.data.request.parameters.AccountSid = DEMO_ACCOUNT_SID;
    return e;
  };

  const rowOf = (id: string) => rowIn(suite.world, id);
  const endsOf = (id: string) => endsIn(suite.world, id);
  const reported = reportedChecks;

  it("a zombie reported by a signed event is ended within seconds, with Twilio's end time, once", async () => {
    const { r, eventsUrl, metrics } = await start();
    const call = await liveCall("evt-zombie");
    const endedAt = endAtTwilio(call);
    expect(await deliver(eventsUrl, [completed(call.sid, "EVzombie1", 500)])).toBe(200);
    const row = await endedRow(suite.world, call.id);
    expect(row?.status).toBe("completed");
    expect(row?.endedAt?.toISOString()).toBe(endedAt.toISOString());
    // Ended by the event's check, not by a pass (the next is 10 minutes away); its line follows the end.
    await until("the check's line", () => reported(r).length >= 1);
    expect(reported(r)[0]).toMatchObject({ reported: 1, checked: 1, ended: 1, causesFromEvents: 1 });
    // Twilio delivers at least once: the same event, and a second event for the same call, end nothing more.
    expect(await deliver(eventsUrl, [completed(call.sid, "EVzombie1", 500)])).toBe(200);
    expect(await deliver(eventsUrl, [completed(call.sid, "EVzombie2", 500)])).toBe(200);
    await until("the second report checked", () => reported(r).length >= 2);
    expect(await endsOf(call.id)).toHaveLength(1);
    const body = (await scrape(metrics, "/metrics")).body;
    expect(gauge(body, "call_reconciler_events_duplicate_total")).toBe(1);
    expect(gauge(body, "call_reconciler_event_ends_total")).toBe(1);
    expect(gauge(body, "call_reconciler_events_sink_configured")).toBe(1);
    // Every refusal reason is exported from the start, at 0 until it happens.
    expect(body).toMatch(/call_reconciler_event_batches_refused_total\{reason="body_hash_mismatch"\} 0/);
    expect(body).toMatch(/call_reconciler_events_ignored_total\{reason="stale"\} 0/);
    expect(body).toMatch(
      /call_reconciler_zombie_lifetime_seconds_count\{source="twilio",found_by="event"\} 1/,
    );
    expect(body).toMatch(/call_reconciler_zombie_causes_total\{cause="callback_failed"\} 1/);
  });

  it("an event about a call Twilio says is live ends nothing", async () => {
    const { r, eventsUrl } = await start();
    const call = await liveCall("evt-live");
    expect(await deliver(eventsUrl, [completed(call.sid, "EVlive1")])).toBe(200);
    await until("the report checked", () => reported(r).length >= 1);
    expect(reported(r)[0]).toMatchObject({ reported: 1, checked: 1, live: 1, ended: 0 });
    expect((await rowOf(call.id))?.status).toBe("active");
  });

  it("unsigned, mis-signed, tampered and oversized deliveries are refused and end nothing", async () => {
    const { r, eventsUrl, metrics } = await start();
    const call = await liveCall("evt-forged");
    endAtTwilio(call);
    const batch = [completed(call.sid, "EVforged1")];
    const unsigned = await fetch(eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    expect(unsigned.status).toBe(401);
    expect(await deliver(eventsUrl, batch, { token: "not-the-auth-token" })).toBe(403);
    expect(
      await deliver(eventsUrl, batch, { signedFor: "https://elsewhere.example.com/twilio/events" }),
    ).toBe(403);
    expect(await deliver(eventsUrl, batch, { tamper: (b) => b.replace("EVforged1", "EVforged2") })).toBe(403);
    const huge = await fetch(eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-twilio-signature": "x" },
      body: `[${" ".repeat(2 * 1024 * 1024)}]`,
    });
    expect(huge.status).toBe(413);
    const body = (await scrape(metrics, "/metrics")).body;
    expect(body).toMatch(/call_reconciler_event_batches_refused_total\{reason="signature_missing"\} 1/);
    expect(body).toMatch(/call_reconciler_event_batches_refused_total\{reason="signature_invalid"\} 2/);
    expect(body).toMatch(/call_reconciler_event_batches_refused_total\{reason="too_large"\} 1/);
    expect(reported(r)).toHaveLength(0);
    expect((await rowOf(call.id))?.status).toBe("active");
  });
});
