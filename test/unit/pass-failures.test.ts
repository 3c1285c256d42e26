import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ActiveCall, ProviderProbes, TwilioEvidence } from "../../src/model/index.js";
import { type PassDeps, runPass } from "../../src/reconcile/pass.js";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const quiet = pino({ level: "silent" });

const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const call = (n: number): ActiveCall => ({
  id: `call-${String(n).padStart(4, "0")}`,
  twilioSid: sid(n),
  twilioAccount: null,
  openaiId: `rtc_${n}`,
  status: "active",
  startedAt: new Date(NOW.getTime() - HOUR + n * 1000),
});
const completed = (): TwilioEvidence => {
  const endedAt = new Date(NOW.getTime() - HOUR / 2);
  return {
    kind: "ended",
    status: "completed",
    endedAt,
    endTimeSource: "end_time",
    raw: { start_time: null, end_time: endedAt.toUTCString(), duration: null, date_updated: null },
  };
};

/** A database error as pg reports it: a lock timeout while `migrate` or `VACUUM FULL` holds a daemon table. */
const lockTimeout = () =>
  Object.assign(new Error("canceling statement due to lock timeout"), { code: "55P03" });

/**
 * Twilio answers the first page's rows only when the test says so, honouring the pass's signal as the real
 * policy does (an aborted request is an error answer, never an end); the others at once.
 */
function slowFirstPage() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const inFlight = { now: 0, max: 0, afterPass: 0 };
  let passSettled = false;
  const probes: ProviderProbes = {
    twilio: {
      fetchCall: async (s, _account, signal) => {
        if (passSettled) inFlight.afterPass++;
        inFlight.now++;
        inFlight.max = Math.max(inFlight.max, inFlight.now);
        try {
          if (Number.parseInt(s.slice(2), 16) < 3)
            await Promise.race([
              opened,
              new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve())),
            ]);
          if (signal?.aborted === true)
            return { kind: "error", reason: "timeout", detail: "abandoned with its pass" };
          return completed();
        } finally {
          inFlight.now--;
        }
      },
      listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
    },
    openai: null,
    hangupRealtime: null,
  };
  return { probes, open, inFlight, settled: () => (passSettled = true) };
}

function depsFor(store: MemoryCallStore, probes: ProviderProbes): PassDeps {
  store.clock = () => NOW;
  // Each page after the first takes a moment to read, as over a network: a page may fail while the pass is
  // still listing.
  const list = store.listActivePage.bind(store);
  let pages = 0;
  store.listActivePage = async (...args) => {
    // A sleep: the latency itself is the point, so that a page fails while the next is being listed.
    if (pages++ > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    return list(...args);
  };
  return testPassDeps(store, probes, { logger: quiet, concurrency: 4 });
}

/** Runs `body` while listening for rejections nobody handled, and returns them. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    await body();
    // Node reports an unhandled rejection after the microtasks of the turn it happened in: one turn later.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  return unhandled;
}

describe("a pass whose database fails under a page still being checked", () => {
  it("a later page's sightings read failing: the pass fails with that error, and nothing of it runs on", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 12 }, (_, i) => call(i)));
    let reads = 0;
    const read = store.sightings.bind(store);
    store.sightings = async (ids) => {
      // The second page's read: the first page is still waiting on Twilio.
      if (++reads === 2) throw lockTimeout();
      return read(ids);
    };
    const world = slowFirstPage();
    let endsAtFailure = -1;
    const backoff = new RowBackoff();
    const unhandled = await unhandledDuring(async () => {
      const pass = runPass({ ...depsFor(store, world.probes), backoff }, { runId: "run-1", dryRun: false });
      // Twilio answers the first page a little later: by then the pass knows it failed.
      setTimeout(world.open, 50);
      await expect(pass).rejects.toMatchObject({ code: "55P03" });
      world.settled();
      endsAtFailure = store.ends.length;
      // Whatever the pass had in flight finished before it returned: nothing is asked or written after.
      // A sleep: past Twilio's answer at 50 ms, when anything the pass left running would go on.
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    expect(unhandled).toEqual([]);
    // The first page's requests were abandoned with the pass: that says nothing of those rows, which the next
    // pass asks in their turn rather than after a backoff.
    for (const n of [0, 1, 2]) expect(backoff.standing(call(n).id, NOW), call(n).id).toBe("fresh");
    expect(world.inFlight.now).toBe(0);
    expect(world.inFlight.afterPass).toBe(0);
    expect(store.ends.length).toBe(endsAtFailure);
  });

  it("a later page's sightings save failing: the same, and no unhandled rejection reaches the process", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 12 }, (_, i) => call(i)));
    let saves = 0;
    const save = store.saveSightings.bind(store);
    store.saveSightings = async (s) => {
      if (++saves === 1) throw Object.assign(new Error("terminating connection"), { code: "57P01" });
      return save(s);
    };
    const world = slowFirstPage();
    const unhandled = await unhandledDuring(async () => {
      const pass = runPass(depsFor(store, world.probes), { runId: "run-1", dryRun: false });
      setTimeout(world.open, 50);
      await expect(pass).rejects.toMatchObject({ code: "57P01" });
      world.settled();
    });
    expect(unhandled).toEqual([]);
    expect(world.inFlight.afterPass).toBe(0);
  });
});
