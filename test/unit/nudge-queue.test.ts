import { describe, expect, it } from "vitest";
import { NudgeQueue } from "../../src/daemon/nudge-queue.js";
import type { CallNudge } from "../../src/model/index.js";

const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const nudge = (n: number, eventId = `EV${n}`): CallNudge => ({
  eventId,
  callSid: sid(n),
  accountSid: null,
  callStatus: "completed",
  eventAt: new Date(Date.UTC(2026, 11, 6, 12, 0, n)),
  appResponseCode: 200,
});

describe("NudgeQueue", () => {
  it("holds one entry per call: a repeated event queues nothing new, and the latest event is kept", () => {
    const q = new NudgeQueue();
    expect(q.add([nudge(1), nudge(2)])).toBe(2);
    expect(q.add([nudge(1, "EV1-again")])).toBe(0);
    expect(q.size).toBe(2);
    const taken = q.take(10);
    expect(taken.map((n) => n.callSid)).toEqual([sid(2), sid(1)]);
    expect(taken[1]?.eventId).toBe("EV1-again");
    expect(q.size).toBe(0);
  });

  it("takes at most `max`, oldest first, and leaves the rest", () => {
    const q = new NudgeQueue();
    q.add([1, 2, 3].map((n) => nudge(n)));
    expect(q.take(2).map((n) => n.callSid)).toEqual([sid(1), sid(2)]);
    expect(q.take(2).map((n) => n.callSid)).toEqual([sid(3)]);
  });

  it("past its capacity drops the oldest calls and counts them", () => {
    const q = new NudgeQueue(2);
    q.add([1, 2, 3].map((n) => nudge(n)));
    expect(q.dropped).toBe(1);
    expect(q.take(5).map((n) => n.callSid)).toEqual([sid(2), sid(3)]);
  });

  it("wakes a waiter when a call is queued, and on abort", async () => {
    const q = new NudgeQueue();
    const waiting = q.waitForWork(new AbortController().signal);
    let woke = false;
    void waiting.then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    q.add([nudge(1)]);
    await waiting;
    expect(woke).toBe(true);

    const empty = new NudgeQueue();
    const stop = new AbortController();
    const aborted = empty.waitForWork(stop.signal);
    stop.abort();
    await expect(aborted).resolves.toBeUndefined();
    q.clear();
    expect(q.size).toBe(0);
  });
});
