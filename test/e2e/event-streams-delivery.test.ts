/**
 * Event Streams as Twilio delivers them: the simulator ends a call and posts the signed batch to the daemon's
 * sink, late, twice, after failures, or not at all, and to whichever replica it reaches. The built CLI
 * (`run`), real PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import {
  endedRow as endedIn,
  endsOf as endsIn,
  firstPass,
  liveCall as liveCallIn,
  replicaWithSink,
  reportedChecks as reported,
  wholeSecond as whole,
} from "../helpers/event-streams-world.js";
import { startFlakyProxy } from "../helpers/flaky-proxy.js";
import { type Replica, seededReplicas } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";

const passes = (r: Replica) => r.lines().filter((l) => l.msg === "pass finished");

describe("Event Streams delivered by the simulator", () => {
  const suite = seededReplicas();

  const replica = (opts: { interval?: number; publicUrl?: (port: number) => string } = {}) =>
    replicaWithSink(suite.world, suite.start, opts);
  const leads = (r: Replica) =>
    until("the lease", () => r.lines().some((l) => l.msg === "became the leader: reconciling"));
  const standsBy = (r: Replica) =>
    until("standing by", () => r.lines().some((l) => l.msg === "standing by: another replica leads"));
  const liveCall = (name: string) => liveCallIn(suite.world, name);
  const endedRow = (id: string) => endedIn(suite.world, id);
  const endsOf = (id: string) => endsIn(suite.world, id);

  it("a call ended at Twilio is ended in the table by its event, late and delivered twice, once", async () => {
    const { r, eventsUrl } = await replica();
    await firstPass(r);
    suite.world.sim.addEventSink({ url: eventsUrl, deliveryDelayMs: 500, duplicateShare: 1 });
    const call = await liveCall("delivered-twice");
    const endTime = whole(Date.now() - 5_000);
    suite.world.sim.endCall(call.sid, { endTime, appResponseCode: 200 });
    const row = await endedRow(call.id);
    expect(row?.endedAt?.toISOString()).toBe(endTime.toISOString());
    await until("both deliveries", () => suite.world.sim.eventStats.delivered >= 2);
    expect(suite.world.sim.eventStats.duplicates).toBeGreaterThanOrEqual(1);
    expect(await endsOf(call.id)).toHaveLength(1);
    expect(passes(r)).toHaveLength(1);
  });

  it("a batch the stand-by receives is relayed to the leader, which ends the call once", async () => {
    const a = await replica();
    await leads(a.r);
    await firstPass(a.r);
    const b = await replica();
    await standsBy(b.r);
    suite.world.sim.addEventSink({ url: b.eventsUrl });
    const call = await liveCall("via-stand-by");
    suite.world.sim.endCall(call.sid, { endTime: whole(Date.now() - 3_000), appResponseCode: 500 });
    await endedRow(call.id);
    await until("the leader's check", () => reported(a.r).length > 0);
    expect(reported(a.r)[0]).toMatchObject({ reported: 1, ended: 1 });
    expect(reported(b.r)).toHaveLength(0);
    expect(await endsOf(call.id)).toHaveLength(1);
  });

  it("an event Twilio could not deliver at first is retried, and ends the call once", async () => {
    let sink: string | null = null;
    const proxy = await startFlakyProxy(() => sink, 2);
    try {
      const { r, port } = await replica({ publicUrl: () => `${proxy.origin}/twilio/events` });
      sink = `http://127.0.0.1:${port}`;
      await firstPass(r);
      suite.world.sim.addEventSink({
        url: `${proxy.origin}/twilio/events`,
        retryDelaysMs: [200, 400, 800],
        duplicateShare: 1,
      });
      const call = await liveCall("retried");
      suite.world.sim.endCall(call.sid, { endTime: whole(Date.now() - 2_000) });
      await endedRow(call.id);
      expect(proxy.failed).toBe(2);
      expect(suite.world.sim.eventStats.retries).toBeGreaterThanOrEqual(2);
      await until("every delivery answered", () => suite.world.sim.eventStats.pending === 0);
      expect(await endsOf(call.id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("events that never arrive cost one interval: the next pass ends the call", async () => {
    const { r, eventsUrl } = await replica({ interval: 3 });
    await firstPass(r);
    suite.world.sim.addEventSink({ url: eventsUrl, dropShare: 1 });
    const call = await liveCall("dropped");
    suite.world.sim.endCall(call.sid, { endTime: whole(Date.now() - 1_000) });
    await endedRow(call.id);
    expect(suite.world.sim.eventStats.dropped).toBeGreaterThanOrEqual(1);
    expect(reported(r)).toHaveLength(0);
    expect(await endsOf(call.id)).toHaveLength(1);
  });
});
