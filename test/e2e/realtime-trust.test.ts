/**
 * Realtime evidence that proves itself (issue 10), on real PostgreSQL and the OpenAI simulator, wired as the
 * daemon wires a pass: a key of another project, a real backlog, and sightings that outlive the process.
 */
import { afterEach, describe, expect, it } from "vitest";
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
    const ages = [5, 30, 60, 120, 240, 300];
    const rows = ages.map((a, i) => activeRow(`live-${i}`, started(a), { sid: null, rtc: rtc(`live-${i}`) }));
    m = await startMatrix(
      rows,
      { OPENAI_API_KEY: "sk-other-project-0123456789" },
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
    const live = [10, 50, 90, 200].map((a, i) =>
      activeRow(`live-${i}`, started(a), { sid: null, rtc: rtc(`live-${i}`) }),
    );
    // One gone call 20 h old: its end is bounded by OpenAI's 60-minute session cap, not its age.
    const gone = [15, 45, 1200].map((a, i) =>
      activeRow(`gone-${i}`, started(a), { sid: null, rtc: rtc(`gone-${i}`) }),
    );
    m = await startMatrix([...live, ...gone]);
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
});
