import pino from "pino";
import { describe, expect, it } from "vitest";
import { auditExitCode } from "../../src/cli/audit.js";
import {
  type ActiveCall,
  type ProviderProbes,
  type RealtimeObservation,
  RowRefusedError,
  type TwilioEvidence,
} from "../../src/model/index.js";
import { type PassDeps, type PassResult, passOutcome, runPass } from "../../src/reconcile/pass.js";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { earlyProbe, testPassDeps } from "../helpers/pass-deps.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const quiet = pino({ level: "silent" });

const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const call = (n: number, opts: Partial<ActiveCall> = {}): ActiveCall => ({
  id: `call-${String(n).padStart(4, "0")}`,
  twilioSid: sid(n),
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - HOUR + n * 1000),
  ...opts,
});
const completed = (endedAt: Date): TwilioEvidence => ({
  kind: "ended",
  status: "completed",
  endedAt,
  endTimeSource: "end_time",
  raw: { start_time: null, end_time: endedAt.toUTCString(), duration: null, date_updated: null },
});
const LIVE: TwilioEvidence = { kind: "live", status: "in-progress" };

/** Fake providers: an answer per SID or realtime id, and a log of what was asked. */
function fakeProbes(answers: {
  twilio?: (sid: string) => TwilioEvidence;
  openai?: (id: string) => RealtimeObservation;
}) {
  const asked = { twilio: [] as string[], openai: [] as string[], hangups: [] as string[] };
  const probes: ProviderProbes = {
    twilio:
      answers.twilio === undefined
        ? null
        : {
            fetchCall: async (s) => {
              asked.twilio.push(s);
              return (answers.twilio as (sid: string) => TwilioEvidence)(s);
            },
            listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
          },
    openai:
      answers.openai === undefined
        ? null
        : {
            probeSession: async (id) => {
              asked.openai.push(id);
              return (answers.openai as (id: string) => RealtimeObservation)(id);
            },
          },
    hangupRealtime: async (id) => {
      asked.hangups.push(id);
      return { kind: "hung_up" };
    },
  };
  return { probes, asked };
}

/** The pass's dependencies; the database's clock reads NOW unless the test moves it afterwards. */
function depsFor(store: MemoryCallStore, probes: ProviderProbes, over: Partial<PassDeps> = {}): PassDeps {
  store.clock = () => NOW;
  return testPassDeps(store, probes, { logger: quiet, ...over });
}
const pass = (deps: PassDeps, dryRun = false, runId = "run-1"): Promise<PassResult> =>
  runPass(deps, { runId, dryRun });

describe("runPass with fake providers", () => {
  it("ends the confirmed zombies with the provider's end time; a second pass changes nothing", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 8 }, (_, i) => call(i)));
    const endOf = (n: number) => new Date(NOW.getTime() - HOUR / 2 + n * 1000);
    const { probes, asked } = fakeProbes({
      twilio: (s) =>
        Number.parseInt(s.slice(2), 16) % 2 === 0 ? completed(endOf(Number.parseInt(s.slice(2), 16))) : LIVE,
    });
    const deps = depsFor(store, probes);

    const first = await pass(deps);
    expect(first).toMatchObject({ checked: 8, live: 4, ended: 4, alreadyEnded: 0, writeFailures: 0 });
    expect(first.zombies).toEqual({ twilio: 4, openai: 0, age_bound: 0 });
    for (const n of [0, 2, 4, 6])
      expect(store.statusOf(call(n).id)).toEqual({ status: "completed", endedAt: endOf(n) });
    for (const n of [1, 3, 5, 7])
      expect(store.statusOf(call(n).id)).toEqual({ status: "active", endedAt: null });
    // Pages of 3 rows: one batch statement per page that had zombies.
    expect(store.writes).toEqual({ batches: 3, single: 0 });

    const second = await pass(deps, false, "run-2");
    expect(second).toMatchObject({ checked: 4, live: 4, ended: 0, findings: [] });
    expect(store.ends).toHaveLength(4);
    expect(asked.twilio).toHaveLength(12);
  });

  it("a dry run decides the same and writes nothing", async () => {
    const store = new MemoryCallStore().add(call(1), call(2));
    const { probes } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const r = await pass(depsFor(store, probes), true);
    expect(r).toMatchObject({ checked: 2, ended: 0 });
    expect(r.zombies.twilio).toBe(2);
    expect(r.findings.map((f) => f.outcome)).toEqual(["would_end", "would_end"]);
    expect(store.writes).toEqual({ batches: 0, single: 0 });
  });

  it("a row a webhook ended first is left as the webhook wrote it", async () => {
    const store = new MemoryCallStore().add(call(1));
    const { probes } = fakeProbes({
      twilio: () => {
        store.endByApp(call(1).id, "completed-by-app", NOW);
        return completed(new Date(NOW.getTime() - HOUR / 2));
      },
    });
    const r = await pass(depsFor(store, probes));
    expect(r).toMatchObject({ ended: 0, alreadyEnded: 1 });
    expect(store.statusOf(call(1).id)).toEqual({ status: "completed-by-app", endedAt: NOW });
  });

  it("leadership lost mid-pass: the pass stops writing and leaves the rest to the next leader", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 9 }, (_, i) => call(i)));
    const lost = new AbortController();
    const { probes } = fakeProbes({
      twilio: (s) => {
        // The lease is lost while the second page is being asked about.
        if (s === sid(4)) lost.abort();
        return completed(new Date(NOW.getTime() - HOUR / 2));
      },
    });
    const r = await pass(depsFor(store, probes, { leadership: lost.signal, concurrency: 1 }));
    expect(r.leadershipLost).toBe(true);
    expect(r.ended).toBe(3);
    expect(store.ends.map((e) => e.call.id)).toEqual([call(0).id, call(1).id, call(2).id]);
    expect(r.findings.filter((f) => f.outcome === "not_leader").map((f) => f.call.id)).toContain(call(4).id);
    for (const n of [3, 4, 5, 6, 7, 8]) expect(store.statusOf(call(n).id)?.status).toBe("active");
  });

  it("a deposed leader asks no provider anything more: its requests in flight are abandoned, no new row is taken", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 12 }, (_, i) => call(i)));
    const lost = new AbortController();
    let askedAfterLoss = 0;
    const abandonedInFlight: string[] = [];
    const probes: ProviderProbes = {
      twilio: {
        fetchCall: async (s, _account, signal) => {
          if (lost.signal.aborted) askedAfterLoss++;
          if (s === sid(4)) lost.abort();
          // A slow answer: the requests in flight when the lease goes are cut short by the pass's signal.
          await new Promise<void>((resolve) => {
            const abandon = () => {
              clearTimeout(t);
              abandonedInFlight.push(s);
              resolve();
            };
            const t = setTimeout(resolve, 200);
            if (signal?.aborted === true) abandon();
            else signal?.addEventListener("abort", abandon);
          });
          return signal?.aborted === true
            ? { kind: "error", reason: "timeout", detail: "abandoned" }
            : completed(new Date(NOW.getTime() - HOUR / 2));
        },
        listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
      },
      openai: null,
      hangupRealtime: null,
    };
    const r = await pass(depsFor(store, probes, { leadership: lost.signal, concurrency: 3 }));
    expect(r.leadershipLost).toBe(true);
    expect(askedAfterLoss).toBe(0);
    expect(abandonedInFlight).toContain(sid(4));
    expect(store.ends).toEqual([]);
  });

  it("a batch the table refuses falls back row by row: the refused row is recorded once, the others end", async () => {
    const store = new MemoryCallStore().add(call(1), call(2), call(3));
    const refuses = (id: string) => id === call(2).id;
    store.failBatch = (reqs) =>
      reqs.some((r) => refuses(r.call.id))
        ? new RowRefusedError("invalid input value for enum", "22P02")
        : null;
    store.failRow = (req) =>
      refuses(req.call.id) ? new RowRefusedError("invalid input value for enum", "22P02") : null;
    const { probes } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const deps = depsFor(store, probes);
    const r = await pass(deps);
    expect(r).toMatchObject({ ended: 2, refused: 1, refusedNew: 1, writeFailures: 0, databaseLost: false });
    expect(passOutcome(r)).toBe("partial");
    expect(store.writes).toEqual({ batches: 1, single: 3 });
    expect(store.statusOf(call(2).id)?.status).toBe("active");
    expect(r.findings.find((f) => f.call.id === call(2).id)?.outcome).toBe("refused");
    expect([...store.refusals]).toEqual([`${call(2).id}|completed`]);

    // Known now: tried alone, counted, and the pass is no longer partial for it.
    store.writes.batches = 0;
    store.writes.single = 0;
    const again = await pass(deps, false, "run-2");
    expect(again).toMatchObject({ ended: 0, refused: 1, refusedNew: 0, writeFailures: 0 });
    expect(passOutcome(again)).toBe("success");
    expect(store.writes).toEqual({ batches: 1, single: 1 });
  });

  it("a known refusal does not hold up the batch it is in", async () => {
    const store = new MemoryCallStore().add(call(1), call(2), call(3));
    store.refusals.add(`${call(2).id}|completed`);
    store.failBatch = (reqs) =>
      reqs.some((r) => r.call.id === call(2).id) ? new RowRefusedError("check constraint", "23514") : null;
    store.failRow = (req) =>
      req.call.id === call(2).id ? new RowRefusedError("check constraint", "23514") : null;
    const { probes } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const r = await pass(depsFor(store, probes));
    expect(r).toMatchObject({ ended: 2, refused: 1, refusedNew: 0 });
    // The failed batch, then the batch without the known refusal, then that row alone.
    expect(store.writes).toEqual({ batches: 2, single: 1 });
  });

  it("a row the app holds locked is skipped, counted, and ended on a later pass", async () => {
    const store = new MemoryCallStore().add(call(1), call(2), call(3));
    store.lockedByApp.add(call(2).id);
    const { probes } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const deps = depsFor(store, probes);
    const r = await pass(deps);
    expect(r).toMatchObject({ ended: 2, locked: 1, writeFailures: 0 });
    expect(passOutcome(r)).toBe("success");
    expect(r.findings.find((f) => f.call.id === call(2).id)?.outcome).toBe("locked");
    store.lockedByApp.clear();
    expect(await pass(deps, false, "run-2")).toMatchObject({ ended: 1, locked: 0 });
    expect(store.statusOf(call(2).id)?.status).toBe("completed");
  });

  it("a row-by-row write that loses the database stops the pass there", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 6 }, (_, i) => call(i)));
    store.failBatch = () => new Error("Connection terminated unexpectedly");
    store.failRow = () => new Error("Connection terminated unexpectedly");
    const { probes } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const r = await pass(depsFor(store, probes, { concurrency: 1 }));
    expect(r.databaseLost).toBe(true);
    expect(r.ended).toBe(0);
    // Each of the two pages retries row by row and stops at its first failure that is not about its row.
    expect(store.writes.single).toBeLessThanOrEqual(2);
    expect(r.writeFailures).toBe(r.checked);
    expect(store.ends).toHaveLength(0);
  });

  it("a realtime absence needs two sightings one interval apart; a live sighting breaks the chain", async () => {
    const rtc = (n: number) => call(n, { twilioSid: null, twilioAccount: null, openaiId: `rtc_${n}` });
    const store = new MemoryCallStore().add(rtc(1), rtc(2));
    let flapping: RealtimeObservation = { kind: "gone" };
    const { probes } = fakeProbes({ openai: (id) => (id === "rtc_2" ? flapping : { kind: "gone" }) });
    let now = NOW;
    // The calls are younger than the session cap: only OPENAI_PROBE=early asks about them.
    const deps = depsFor(store, probes, { realtimeProbe: earlyProbe() });
    store.clock = () => now;

    const first = await pass(deps);
    expect(first.ended).toBe(0);
    expect(first.unverified).toEqual({ absence_unconfirmed: 2 });
    // On the pass's clock (the database's now, carried forward while it runs): NOW, or a few ms later.
    const firstGoneAt = store.sightingsTable.get("rtc_1")?.firstGoneAt;
    expect(firstGoneAt?.getTime()).toBeGreaterThanOrEqual(NOW.getTime());
    expect(firstGoneAt?.getTime()).toBeLessThanOrEqual(first.finishedAt.getTime());

    flapping = { kind: "live" };
    now = new Date(NOW.getTime() + 61_000);
    const second = await pass(deps);
    expect(second.ended).toBe(1);
    // Ended at the first sighting of the absence: the latest time it can have ended.
    expect(store.statusOf(rtc(1).id)).toEqual({ status: "completed", endedAt: firstGoneAt });
    expect(store.statusOf(rtc(2).id)?.status).toBe("active");

    flapping = { kind: "gone" };
    now = new Date(NOW.getTime() + 122_000);
    const third = await pass(deps);
    expect(third.ended).toBe(0);
    expect(third.unverified).toEqual({ absence_unconfirmed: 1 });
  });

  it("an auth rejection stops asking that provider for the rest of the pass", async () => {
    const store = new MemoryCallStore().add(...Array.from({ length: 7 }, (_, i) => call(i)));
    const { probes, asked } = fakeProbes({
      twilio: () => ({ kind: "error", reason: "auth_failed", detail: "HTTP 401", httpStatus: 401 }),
    });
    const r = await pass(depsFor(store, probes, { concurrency: 1 }));
    expect(asked.twilio).toHaveLength(1);
    expect(r.unverified).toEqual({ auth_failed: 7 });
    expect(r.ended).toBe(0);
  });

  it("a Twilio end of a call with a realtime session hangs the session up", async () => {
    const store = new MemoryCallStore().add(call(1, { openaiId: "rtc_1" }));
    const { probes, asked } = fakeProbes({ twilio: () => completed(new Date(NOW.getTime() - HOUR / 2)) });
    const hangups: string[] = [];
    const r = await pass(depsFor(store, probes, { record: { hangup: (o) => hangups.push(o) } }));
    expect(r.realtimeHangups).toEqual({ hung_up: 1, already_gone: 0, error: 0 });
    expect(asked.hangups).toEqual(["rtc_1"]);
    expect(hangups).toEqual(["hung_up"]);
  });

  it("rows whose check failed back off across passes and are asked after the rows not checked recently", async () => {
    // The oldest rows fail (that resource answers 500), and they come first in the listing.
    const failing = [0, 1, 2];
    const store = new MemoryCallStore().add(...Array.from({ length: 6 }, (_, i) => call(i)));
    const serverError: TwilioEvidence = { kind: "error", reason: "server_error", detail: "HTTP 500" };
    const { probes, asked } = fakeProbes({
      twilio: (s) => (failing.some((n) => sid(n) === s) ? serverError : LIVE),
    });
    let now = NOW;
    const failed: string[] = [];
    const deps = depsFor(store, probes, {
      backoff: new RowBackoff(30_000, 120_000),
      concurrency: 1,
      record: { rowCheckFailed: (reason) => failed.push(reason) },
    });

    store.clock = () => now;
    const first = await pass(deps);
    expect(asked.twilio.slice(0, 3)).toEqual(failing.map(sid));
    expect(first.unverified).toEqual({ server_error: 3 });
    expect(failed).toEqual(["server_error", "server_error", "server_error"]);

    // Within their backoff they are not asked at all; the other rows are.
    asked.twilio.length = 0;
    now = new Date(NOW.getTime() + 10_000);
    const second = await pass(deps);
    expect(asked.twilio).toEqual([3, 4, 5].map(sid));
    expect(second.unverified).toEqual({ backoff: 3 });
    expect(second.findings.map((f) => f.evidence.twilio)).toEqual(
      Array(3).fill({ kind: "skipped", why: "backing_off" }),
    );
    // A backed-off row is a known failure, not a new one: the pass is not partial for it.
    expect(second.providerErrors).toBe(0);

    // Once due, they are asked again, but after the fresh rows.
    asked.twilio.length = 0;
    now = new Date(NOW.getTime() + 31_000);
    await pass(deps);
    expect(asked.twilio).toEqual([3, 4, 5, 0, 1, 2].map(sid));

    // Failed again: the backoff doubles (60 s), so 31 s later they still wait.
    asked.twilio.length = 0;
    now = new Date(NOW.getTime() + 62_000);
    await pass(deps);
    expect(asked.twilio).toEqual([3, 4, 5].map(sid));
  });

  it("a backed-off row past the age bound is still ended by it", async () => {
    const old = call(1, { startedAt: new Date(NOW.getTime() - 25 * HOUR) });
    const store = new MemoryCallStore().add(old);
    const backoff = new RowBackoff();
    backoff.failed(old.id, NOW);
    const { probes, asked } = fakeProbes({ twilio: () => LIVE });
    const r = await pass(depsFor(store, probes, { backoff }));
    expect(asked.twilio).toEqual([]);
    expect(r.zombies.age_bound).toBe(1);
    expect(store.statusOf(old.id)?.status).toBe("timeout");
  });

  it("a pass that would end most of its rows on the age bound alone ends none so, until the operator confirms", async () => {
    const old = Array.from({ length: 12 }, (_, i) =>
      call(i, { twilioSid: null, startedAt: new Date(NOW.getTime() - 25 * HOUR + i * 1000) }),
    );
    const live = Array.from({ length: 3 }, (_, i) => call(100 + i));
    const store = new MemoryCallStore().add(...old, ...live);
    const { probes } = fakeProbes({ twilio: () => LIVE });
    const deps = depsFor(store, probes);

    const held = await pass(deps);
    expect(held).toMatchObject({ checked: 15, ended: 0, ageBoundHeldBack: 12 });
    expect(held.zombies.age_bound).toBe(12);
    expect(held.ageBoundSuspect).toBe(
      "this pass would end 12 of the 15 active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=0.5)",
    );
    expect(held.findings.map((f) => f.outcome)).toEqual(Array(12).fill("age_bound_share"));
    expect(auditExitCode(held)).toBe(1);
    for (const c of old) expect(store.statusOf(c.id)).toEqual({ status: "active", endedAt: null });

    // A looser share writes them; so does the operator's confirmation.
    expect((await pass({ ...deps, ageBoundMaxEndShare: 0.9 }, true, "run-2")).ageBoundSuspect).toBeNull();
    const confirmed = await runPass(deps, { runId: "run-3", dryRun: false, confirmAgeBound: true });
    expect(confirmed).toMatchObject({ ended: 12, ageBoundHeldBack: 0, ageBoundSuspect: null });
    for (const c of old) expect(store.statusOf(c.id)?.status).toBe("timeout");
  });

  it("a usual share of age-bound ends is written in the same pass", async () => {
    const store = new MemoryCallStore().add(
      call(1, { twilioSid: null, startedAt: new Date(NOW.getTime() - 25 * HOUR) }),
      ...Array.from({ length: 10 }, (_, i) => call(100 + i)),
    );
    const { probes } = fakeProbes({ twilio: () => LIVE });
    const r = await pass(depsFor(store, probes));
    expect(r).toMatchObject({ ended: 1, ageBoundHeldBack: 0, ageBoundSuspect: null });
  });
});
