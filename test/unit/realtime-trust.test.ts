/**
 * Realtime evidence that proves itself: sightings kept in the daemon's table, the positive
 * control, the blast-radius limit, and end times bounded by OpenAI's session cap. runPass with fake
 * providers and the in-memory store.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ActiveCall, ProviderProbes, RealtimeObservation } from "../../src/model/index.js";
import { type PassDeps, runPass } from "../../src/reconcile/pass.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { earlyProbe, testPassDeps } from "../helpers/pass-deps.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const quiet = pino({ level: "silent" });
const rtcRow = (n: number, ageSeconds: number): ActiveCall => ({
  id: `rt-${n}`,
  twilioSid: null,
  twilioAccount: null,
  openaiId: `rtc_${n}`,
  status: "active",
  startedAt: new Date(NOW.getTime() - ageSeconds * 1000),
});

function world(answer: (id: string) => RealtimeObservation, rows: ActiveCall[]) {
  const store = new MemoryCallStore().add(...rows);
  let now = NOW;
  store.clock = () => now;
  const probes: ProviderProbes = {
    twilio: null,
    openai: { probeSession: async (id) => answer(id) },
    hangupRealtime: null,
  };
  // Young calls are asked about (OPENAI_PROBE=early): the guards below are what keep that safe.
  const deps: PassDeps = testPassDeps(store, probes, {
    logger: quiet,
    pageSize: 4,
    realtimeProbe: earlyProbe(),
  });
  let n = 0;
  return {
    store,
    deps,
    /** A pass `minutes` after the start of the test. */
    pass: (minutes: number, opts: { confirm?: boolean; deps?: PassDeps } = {}) => {
      now = new Date(NOW.getTime() + minutes * 60_000);
      return runPass(opts.deps ?? deps, {
        runId: `run-${++n}`,
        dryRun: false,
        ...(opts.confirm ? { confirmRealtimeAbsences: true } : {}),
      });
    },
  };
}

const GONE: RealtimeObservation = { kind: "gone" };
const LIVE: RealtimeObservation = { kind: "live" };

describe("realtime evidence that proves itself", () => {
  it("a key of another project (every call reads gone, none ever live) ends nothing, and says why", async () => {
    const rows = [300, 1800, 3600, 7200, 14_400, 18_000].map((age, i) => rtcRow(i, age));
    const w = world(() => GONE, rows);
    await w.pass(0);
    const second = await w.pass(2);
    expect(second.ended).toBe(0);
    expect(second.realtimeHeldBack).toBe(6);
    expect(second.realtimeSuspect).toMatch(/no realtime call has been seen live ever/);
    expect(second.findings.filter((f) => f.outcome === "evidence_suspect")).toHaveLength(6);
    for (const r of rows) expect(w.store.statusOf(r.id)).toEqual({ status: "active", endedAt: null });
  });

  it("the operator's confirmation ends such a backlog, each at a bounded time", async () => {
    const rows = [rtcRow(1, 300), rtcRow(2, 72_000)];
    const w = world(() => GONE, rows);
    const first = await w.pass(0);
    const firstGoneAt = w.store.sightingsTable.get("rtc_1")?.firstGoneAt;
    expect(firstGoneAt?.getTime()).toBeGreaterThanOrEqual(NOW.getTime());
    expect(firstGoneAt?.getTime()).toBeLessThanOrEqual(first.finishedAt.getTime());
    const r = await w.pass(2, { confirm: true });
    expect(r.ended).toBe(2);
    // Gone at the first sighting (the test's start, on the pass's clock) at the latest; a 20 h-old row ended
    // within OpenAI's cap.
    expect(w.store.statusOf("rt-1")).toEqual({ status: "completed", endedAt: firstGoneAt });
    expect(w.store.statusOf("rt-2")?.endedAt).toEqual(new Date(NOW.getTime() - 72_000_000 + 3_600_000));
  });

  it("a real backlog (some live, fewer gone) is ended with bounded times, no confirmation needed", async () => {
    // The live calls are all younger than OpenAI's session cap (one seen live past it would disprove the cap);
    // one gone call is 20 h old: its end is bounded by the cap.
    const rows = Array.from({ length: 10 }, (_, i) => rtcRow(i, i === 9 ? 72_000 : 300 + i * 300));
    const gone = new Set(["rtc_1", "rtc_4", "rtc_7", "rtc_9"]);
    const w = world((id) => (gone.has(id) ? GONE : LIVE), rows);
    const first = await w.pass(0);
    // Each first sighting is on the pass's clock (the database's now, carried forward while the pass runs): at
    // NOW, or a millisecond or two later on a loaded machine, never outside the first pass.
    const firstGone = new Map([...gone].map((id) => [id, w.store.sightingsTable.get(id)?.firstGoneAt]));
    for (const at of firstGone.values()) {
      expect(at?.getTime()).toBeGreaterThanOrEqual(NOW.getTime());
      expect(at?.getTime()).toBeLessThanOrEqual(first.finishedAt.getTime());
    }
    const r = await w.pass(2);
    expect(r.realtimeSuspect).toBeNull();
    expect(r.ended).toBe(4);
    for (const row of rows) {
      const s = w.store.statusOf(row.id);
      if (!gone.has(row.openaiId as string)) {
        expect(s).toEqual({ status: "active", endedAt: null });
        continue;
      }
      // Ended at its first sighting, the latest it can have ended, or at OpenAI's cap when that came first.
      const cap = row.startedAt.getTime() + 3_600_000;
      expect(s?.endedAt?.getTime()).toBe(
        Math.min(firstGone.get(row.openaiId as string)?.getTime() ?? 0, cap),
      );
    }
  });

  it("the blast radius: a pass that would end more than half of the realtime calls it asked about ends none", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => rtcRow(i, 600));
    const w = world((id) => (id === "rtc_0" || id === "rtc_1" ? LIVE : GONE), rows);
    await w.pass(0);
    const r = await w.pass(2);
    expect(r.ended).toBe(0);
    expect(r.realtimeHeldBack).toBe(10);
    expect(r.realtimeSuspect).toMatch(/would end 10 of the 12/);
  });

  it("the positive control remembers a live answer within the hour, across passes", async () => {
    const rows = [rtcRow(1, 600), rtcRow(2, 600)];
    let rtc2: RealtimeObservation = LIVE;
    const w = world((id) => (id === "rtc_1" ? GONE : rtc2), rows);
    const first = await w.pass(0);
    const firstGoneAt = w.store.sightingsTable.get("rtc_1")?.firstGoneAt;
    expect(firstGoneAt?.getTime()).toBeGreaterThanOrEqual(NOW.getTime());
    expect(firstGoneAt?.getTime()).toBeLessThanOrEqual(first.finishedAt.getTime());
    rtc2 = GONE;
    // Nobody is live in this pass, but rtc_2 was, 2 minutes ago: rtc_1's absence is trusted.
    const r = await w.pass(2);
    expect(r.realtimeSuspect).toBeNull();
    expect(w.store.statusOf("rt-1")).toEqual({ status: "completed", endedAt: firstGoneAt });
  });

  it("sightings live in the store: a live answer another replica saw breaks this replica's streak", async () => {
    const rows = [rtcRow(1, 600), rtcRow(2, 600)];
    let answer: RealtimeObservation = GONE;
    const w = world((id) => (id === "rtc_2" ? LIVE : answer), rows);
    await w.pass(0);
    // Another replica (its own deps, the same table) sees rtc_1 live in between.
    answer = LIVE;
    await w.pass(1, { deps: { ...w.deps } });
    answer = GONE;
    const r = await w.pass(3);
    expect(r.ended).toBe(0);
    expect(r.unverified).toEqual({ absence_unconfirmed: 1 });
    // The streak starts again in the pass at minute 3 (its clock moves on by the pass's own milliseconds).
    const restarted = w.store.sightingsTable.get("rtc_1")?.firstGoneAt?.getTime() ?? 0;
    expect(restarted - (NOW.getTime() + 3 * 60_000)).toBeGreaterThanOrEqual(0);
    expect(restarted - (NOW.getTime() + 3 * 60_000)).toBeLessThan(60_000);
  });

  it("an error between two sightings starts the streak again", async () => {
    const rows = [rtcRow(1, 600), rtcRow(2, 600)];
    let answer: RealtimeObservation = GONE;
    const w = world((id) => (id === "rtc_2" ? LIVE : answer), rows);
    await w.pass(0);
    answer = { kind: "error", reason: "timeout", detail: "t" };
    await w.pass(1);
    answer = GONE;
    const r = await w.pass(3);
    expect(r.ended).toBe(0);
    expect(r.unverified).toEqual({ absence_unconfirmed: 1 });
  });
});
