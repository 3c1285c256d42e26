/**
 * Realtime calls are not connected to while they may be live: by default only rows older than OpenAI's session
 * cap are probed, their absences end them at most at started_at + the cap, and a call seen live past the cap
 * stops the cap from ending anything. On real PostgreSQL and the OpenAI simulator, wired as the daemon wires it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { activeRow, type Matrix, rtc, startMatrix, whole } from "../helpers/matrix.js";

const NOW = Date.now();
const MIN = 60_000;
const started = (minutesAgo: number) => whole(NOW - minutesAgo * MIN);
const realtimeOnly = (name: string, minutesAgo: number) =>
  activeRow(name, started(minutesAgo), { sid: null, rtc: rtc(name) });

async function gauge(m: Matrix, name: string): Promise<number | undefined> {
  const metric = (await m.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return metric?.values[0]?.value;
}

describe("realtime probing bounded by the session cap (real Postgres, the OpenAI simulator)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("a backlog past the cap drains in two passes, and the young live calls are never connected to", async () => {
    const young = [5, 20, 40].map((a, i) => realtimeOnly(`young-${i}`, a));
    const old = [120, 180, 300, 420, 600, 720, 840, 960].map((a, i) => realtimeOnly(`old-${i}`, a));
    m = await startMatrix([...young, ...old]);
    for (const r of young) m.openai.upsertSession({ callId: r.openaiId as string, live: true });
    for (const r of old) m.openai.upsertSession({ callId: r.openaiId as string, live: false });

    const first = await m.pass();
    expect(first.unverified).toEqual({ within_session_cap: 3, absence_unconfirmed: 8 });
    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    expect(second.realtimeSuspect).toBeNull();
    expect(second.realtimeHeldBack).toBe(0);
    expect(second.ended).toBe(8);
    expect(second.unverified).toEqual({ within_session_cap: 3 });

    const stored = await m.rows([...young, ...old].map((r) => r.id));
    for (const r of old) {
      expect(stored.get(r.id)).toMatchObject({ status: "completed" });
      expect(stored.get(r.id)?.endedAt?.getTime()).toBe(r.startedAt.getTime() + 3600_000);
    }
    for (const r of young) {
      expect(stored.get(r.id)).toMatchObject({ status: "active", endedAt: null });
      expect(m.openai.handshakesFor(r.openaiId as string)).toBe(0);
    }
  });

  it("a call seen live past the cap: a warning, a metric, and the cap ends nothing", async () => {
    const outlived = realtimeOnly("outlived", 180);
    const gone = realtimeOnly("gone", 240);
    m = await startMatrix([outlived, gone]);
    m.openai.upsertSession({ callId: rtc("outlived"), live: true });
    m.openai.upsertSession({ callId: rtc("gone"), live: false });
    await m.pass();
    expect(await gauge(m, "call_reconciler_realtime_session_cap_disproved")).toBe(1);
    expect(m.logs.some((l) => l.level === 40 && /past OPENAI_MAX_SESSION_SECONDS/.test(String(l.msg)))).toBe(
      true,
    );
    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    expect(second.ended).toBe(0);
    expect(second.realtimeHeldBack).toBe(1);
    expect(second.realtimeSuspect).toMatch(/seen live .* past OPENAI_MAX_SESSION_SECONDS/);
    const stored = await m.rows(["outlived", "gone"]);
    expect(stored.get("gone")).toMatchObject({ status: "active", endedAt: null });
    expect(stored.get("outlived")).toMatchObject({ status: "active", endedAt: null });
  });

  it("OPENAI_PROBE=early probes young calls again, under its positive control", async () => {
    const rows = [5, 30, 45].map((a, i) => realtimeOnly(`early-${i}`, a));
    m = await startMatrix(rows, { OPENAI_PROBE: "early" });
    for (const r of rows) m.openai.upsertSession({ callId: r.openaiId as string, live: false });
    await m.pass();
    for (const r of rows) expect(m.openai.handshakesFor(r.openaiId as string)).toBeGreaterThan(0);
    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    // Never seen live: the positive control holds the absences of young calls back.
    expect(second.ended).toBe(0);
    expect(second.realtimeHeldBack).toBe(3);
  });

  it("a call accepted on the Live surface is asked there: the Realtime surface's not-found never ends it", async () => {
    const onLive = realtimeOnly("on-live", 10);
    const liveRealtime = realtimeOnly("live-realtime", 12);
    const goneRealtime = realtimeOnly("gone-realtime", 15);
    m = await startMatrix([onLive, liveRealtime, goneRealtime], { OPENAI_PROBE: "early" });
    m.openai.upsertSession({ callId: rtc("on-live"), live: true, surface: "live" });
    m.openai.upsertSession({ callId: rtc("live-realtime"), live: true });
    m.openai.upsertSession({ callId: rtc("gone-realtime"), live: false });
    await m.pass();
    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    expect(second.ended).toBe(1);
    const stored = await m.rows(["on-live", "live-realtime", "gone-realtime"]);
    expect(stored.get("on-live")).toMatchObject({ status: "active", endedAt: null });
    expect(stored.get("live-realtime")).toMatchObject({ status: "active", endedAt: null });
    expect(stored.get("gone-realtime")).toMatchObject({ status: "completed" });
  });

  it("a call seen live past the cap on the Live surface disproves the cap as well", async () => {
    m = await startMatrix([realtimeOnly("on-live", 150)]);
    m.openai.upsertSession({ callId: rtc("on-live"), live: true, surface: "live" });
    await m.pass();
    expect(await gauge(m, "call_reconciler_realtime_session_cap_disproved")).toBe(1);
    expect((await m.rows(["on-live"])).get("on-live")).toMatchObject({ status: "active", endedAt: null });
  });

  it("OPENAI_SURFACES=realtime asks the Realtime surface only; a Live surface the account lacks ends nothing", async () => {
    const gone = realtimeOnly("gone", 150);
    m = await startMatrix([gone], {}, { openaiLiveSurface: false });
    m.openai.upsertSession({ callId: rtc("gone"), live: false });
    await m.pass();
    m.clockOffsetMs = 2 * MIN;
    const unknownSurface = await m.pass();
    // The Live surface answers a 404 that is not a session's absence: unknown is never finished.
    expect(unknownSurface.ended).toBe(0);
    expect(Object.keys(unknownSurface.unverified)).toEqual(["bad_request"]);
    await m.close();

    m = await startMatrix([gone], { OPENAI_SURFACES: "realtime" }, { openaiLiveSurface: false });
    m.openai.upsertSession({ callId: rtc("gone"), live: false });
    await m.pass();
    m.clockOffsetMs = 2 * MIN;
    const realtimeOnlySurface = await m.pass();
    expect(realtimeOnlySurface.ended).toBe(1);
    expect(m.openai.stats.handshakes).toBe(2);
  });
});
