/**
 * Realtime evidence that proves itself under OPENAI_PROBE=early, on real PostgreSQL and the OpenAI simulator, wired as the
 * daemon wires a pass: a key of another project, a real backlog, and sightings that outlive the process.
 */
import { afterEach, describe, expect, it } from "vitest";
import { passDepsFor } from "../../src/cli/runtime.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { rawProviders } from "../../src/providers/guarded.js";
import { activeRow, type Matrix, rtc, startMatrix, whole } from "../helpers/matrix.js";

const NOW = Date.now();
const MIN = 60_000;
const started = (minutesAgo: number) => whole(NOW - minutesAgo * MIN);

describe("realtime evidence that proves itself (real Postgres, the OpenAI simulator)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("a key of another project: six live realtime-only calls read gone on every pass, none is ended", async () => {
    // All younger than the session cap: past it, an absence needs no positive control (realtime-cap.test.ts).
    const ages = [5, 15, 25, 35, 45, 50];
    const rows = ages.map((a, i) => activeRow(`live-${i}`, started(a), { sid: null, rtc: rtc(`live-${i}`) }));
    m = await startMatrix(
      rows,
      { OPENAI_API_KEY: "sk-other-project-0123456789", OPENAI_PROBE: "early" },
      {
        openaiOtherProjectKeys: ["sk-other-project-0123456789"],
      },
    );
    for (const r of rows) m.openai.upsertSession({ callId: r.openaiId as string, live: true });
    const first = await m.pass();
    expect(first.unverified).toEqual({ absence_unconfirmed: 6 });
    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    expect(second.ended).toBe(0);
    expect(second.realtimeHeldBack).toBe(6);
    expect(second.realtimeSuspect).toMatch(/seen live ever/);
    const stored = await m.rows(rows.map((r) => r.id));
    for (const r of rows) expect(stored.get(r.id)).toMatchObject({ status: "active", endedAt: null });
    expect(await m.actions()).toEqual([]);
  });

  it("a real backlog (some live, fewer gone) ends with bounded end times, and the sightings are in the table", async () => {
    const live = [10, 30, 45, 55].map((a, i) =>
      activeRow(`live-${i}`, started(a), { sid: null, rtc: rtc(`live-${i}`) }),
    );
    // One gone call 20 h old: its end is bounded by OpenAI's 60-minute session cap, not its age.
    const gone = [15, 45, 1200].map((a, i) =>
      activeRow(`gone-${i}`, started(a), { sid: null, rtc: rtc(`gone-${i}`) }),
    );
    m = await startMatrix([...live, ...gone], { OPENAI_PROBE: "early" });
    for (const r of live) m.openai.upsertSession({ callId: r.openaiId as string, live: true });
    for (const r of gone) m.openai.upsertSession({ callId: r.openaiId as string, live: false });
    await m.pass();
    const { rows: sighted } = await m.db.pool.query<{ realtime_call_id: string; first_gone_at: Date }>(
      "SELECT realtime_call_id, first_gone_at FROM call_reconciler_sightings WHERE first_gone_at IS NOT NULL",
    );
    const firstGoneAt = new Map(sighted.map((s) => [s.realtime_call_id, s.first_gone_at.getTime()]));
    expect(firstGoneAt.size).toBe(3);
    m.clockOffsetMs = 2 * MIN;
    const r = await m.pass();
    expect(r.realtimeSuspect).toBeNull();
    expect(r.ended).toBe(3);
    const stored = await m.rows([...live, ...gone].map((x) => x.id));
    for (const x of live) expect(stored.get(x.id)).toMatchObject({ status: "active", endedAt: null });
    for (const x of gone) {
      const cap = x.startedAt.getTime() + 3600_000;
      const end = stored.get(x.id)?.endedAt?.getTime() as number;
      expect(stored.get(x.id)?.status).toBe("completed");
      expect(end).toBe(Math.min(cap, firstGoneAt.get(x.openaiId as string) as number));
      expect(end).toBeGreaterThanOrEqual(x.startedAt.getTime());
    }
  });

  it("a returning leader continues from the table: a live answer another replica saw meanwhile is not missed", async () => {
    const rows = [
      activeRow("rt-1", started(20), { sid: null, rtc: rtc("rt-1") }),
      activeRow("rt-2", started(20), { sid: null, rtc: rtc("rt-2") }),
    ];
    m = await startMatrix(rows, { OPENAI_PROBE: "early" });
    m.openai.upsertSession({ callId: rtc("rt-1"), live: false });
    m.openai.upsertSession({ callId: rtc("rt-2"), live: true });
    const replicaA = m.deps;
    // Another process: its own wiring, nothing shared but the database.
    const replicaB = passDepsFor(m.config, {
      store: m.deps.store,
      metrics: createMetrics(),
      logger: m.deps.logger,
      raw: rawProviders(m.config, { twilioKeepAlive: false }),
    });
    await m.pass(); // A sees rt-1 gone for the first time.
    m.openai.setLive(rtc("rt-1"), true);
    m.clockOffsetMs = 30_000;
    m.deps = replicaB; // B leads for a while and sees it live.
    await m.pass();
    m.openai.setLive(rtc("rt-1"), false);
    m.clockOffsetMs = 2 * MIN;
    m.deps = replicaA; // A leads again: its old first sighting must not count.
    const back = await m.pass();
    expect(back.ended).toBe(0);
    expect(back.unverified).toEqual({ absence_unconfirmed: 1 });
    expect((await m.rows(["rt-1"])).get("rt-1")).toMatchObject({ status: "active", endedAt: null });
  });
});
