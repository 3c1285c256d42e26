import pino from "pino";
import { describe, expect, it } from "vitest";
import { checkReported, eventChecks } from "../../src/daemon/event-checks.js";
import { NudgeQueue } from "../../src/daemon/nudge-queue.js";
import { passRecord } from "../../src/daemon/pass-record.js";
import { Progress, type TickDeps } from "../../src/daemon/tick.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import type { ActiveCall, CallNudge, DiagnosisQueue, WriterLease } from "../../src/model/index.js";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";
import { completedAt, tableProbes } from "../helpers/table-probes.js";

// The leader's checks of reported calls, on the in-memory store with fake providers: what a report may end.
const NOW = new Date("2026-12-06T12:00:00Z");
const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const call = (n: number, startedAgoMs = 600_000): ActiveCall => ({
  id: `call-${n}`,
  twilioSid: sid(n),
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - startedAgoMs),
});
const END = new Date(NOW.getTime() - 30_000);
const COMPLETED = completedAt(END);
const nudge = (n: number, appResponseCode: number | null = 200): CallNudge => ({
  eventId: `EV${n}`,
  callSid: sid(n),
  accountSid: null,
  callStatus: "completed",
  eventAt: new Date(NOW.getTime() - 29_000),
  appResponseCode,
});

function world(opts: { leaseLeftMs?: number } = {}) {
  // 1: over at Twilio (a zombie); 2: live (a mistaken or replayed report); 3: a call that started 40 s ago, over.
  const { probes, asked } = tableProbes({
    [sid(1)]: COMPLETED,
    [sid(2)]: { kind: "live", status: "in-progress" },
    [sid(3)]: COMPLETED,
  });
  const store = new MemoryCallStore().add(call(1), call(2), call(3, 40_000), call(4));
  store.clock = () => NOW;
  const metrics = createMetrics();
  const settled: { callId: string; cause: string; detail: unknown }[] = [];
  const diagnoses: DiagnosisQueue = {
    due: async () => [],
    settle: async (callId, cause, detail) => {
      settled.push({ callId, cause, detail });
    },
    retry: async () => {},
    backlog: async () => ({ queued: 0, due: 0 }),
  };
  const lease = { remainingMs: () => opts.leaseLeftMs ?? 60_000 } as WriterLease;
  const logger = pino({ level: "silent" });
  const tickDeps = {
    passDeps: testPassDeps(store, probes, { backoff: new RowBackoff() }),
    lease,
    leaseSeconds: 150,
    dryRun: false as boolean,
    metrics,
    activeSummary: () => store.activeSummary(),
    logger,
    progress: new Progress(),
    passDeadlineMs: 60_000,
  } satisfies TickDeps;
  const queue = new NudgeQueue();
  const state = { leader: true, lastTickOkAt: 0, lastResult: null };
  const deps = {
    tickDeps,
    state,
    queue,
    record: passRecord.bind(null, metrics, {}, null),
    diagnoses,
    onCauseSettled: (cause: string) => metrics.zombieCauses.inc({ cause }),
  };
  return { store, asked, settled, metrics, deps, queue, state };
}

const counter = async (w: ReturnType<typeof world>, name: string) =>
  ((await w.metrics.registry.getSingleMetric(name)?.get())?.values ?? []) as { value: number }[];

describe("checks of the calls Event Streams reported", () => {
  it("ask Twilio about the reported calls only, end the one it says is over, at any age, and leave the live one", async () => {
    const w = world();
    await checkReported(w.deps, [nudge(1), nudge(2), nudge(3)], new AbortController().signal);
    expect(w.asked.sort()).toEqual([sid(1), sid(2), sid(3)]);
    expect(w.store.statusOf("call-1")).toEqual({ status: "completed", endedAt: END });
    expect(w.store.statusOf("call-3")).toEqual({ status: "completed", endedAt: END });
    expect(w.store.statusOf("call-2")).toEqual({ status: "active", endedAt: null });
    expect(w.store.statusOf("call-4")).toEqual({ status: "active", endedAt: null });
    const text = await w.metrics.registry.metrics();
    expect(text).toMatch(
      /^call_reconciler_zombie_lifetime_seconds_count\{source="twilio",found_by="event"\} 2$/m,
    );
    expect((await counter(w, "call_reconciler_event_ends_total"))[0]?.value).toBe(2);
  });

  it("settle each ended call's cause from what the app answered, and none for a call not ended", async () => {
    const w = world();
    await checkReported(w.deps, [nudge(1, 500), nudge(2, 200), nudge(3, null)], new AbortController().signal);
    expect(w.settled.map((s) => [s.callId, s.cause])).toEqual([["call-1", "callback_failed"]]);
    expect(w.settled[0]?.detail).toMatchObject({ from: "event_stream", responseCode: 500 });
  });

  it("in a dry run, end nothing and settle nothing", async () => {
    const w = world();
    w.deps.tickDeps.dryRun = true;
    await checkReported(w.deps, [nudge(1)], new AbortController().signal);
    expect(w.store.statusOf("call-1")).toEqual({ status: "active", endedAt: null });
    expect(w.settled).toEqual([]);
  });

  it("with too little lease left, ask nothing now and keep the calls for after the renewal", async () => {
    const w = world({ leaseLeftMs: 1_000 });
    await checkReported(w.deps, [nudge(1)], new AbortController().signal);
    expect(w.asked).toEqual([]);
    expect(w.queue.take(10).map((n) => n.callSid)).toEqual([sid(1)]);
  });

  it("the loop checks what is queued, and a replica that stops leading drops its queue", async () => {
    const w = world();
    const stop = new AbortController();
    const running = eventChecks(w.deps, stop.signal);
    w.queue.add([nudge(1)]);
    while (w.store.statusOf("call-1")?.status === "active") await new Promise((r) => setTimeout(r, 10));
    w.state.leader = false;
    w.queue.add([nudge(3)]);
    while (w.queue.size > 0) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await running;
    expect(w.asked).toEqual([sid(1)]);
    expect(w.store.statusOf("call-3")).toEqual({ status: "active", endedAt: null });
  });
});
