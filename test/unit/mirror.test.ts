import { describe, expect, it } from "vitest";
import type { ActiveCall } from "../../src/model/index.js";
import { kindOf, type MirrorKind, mirrorCall } from "../../src/sim/mirror.js";

const NOW = new Date("2025-06-01T12:00:00.000Z");
const CAP = 3600;
const call = (id: string, ageSeconds: number, extra: Partial<ActiveCall> = {}): ActiveCall => ({
  id,
  twilioSid: `CA${"0".repeat(32)}`,
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - ageSeconds * 1000 + 123),
  ...extra,
});

describe("mirrorCall: what the simulators say about one row", () => {
  it("gives each kind about its share, the same kind for the same id every time", () => {
    const shares = { live: 0.6, ended: 0.3, unknown: 0.1 };
    const counts: Record<MirrorKind, number> = { live: 0, ended: 0, unknown: 0 };
    for (let i = 0; i < 20_000; i++) counts[kindOf(`row-${i}`, shares)]++;
    expect(counts.live / 20_000).toBeCloseTo(0.6, 1);
    expect(counts.ended / 20_000).toBeCloseTo(0.3, 1);
    expect(counts.unknown / 20_000).toBeCloseTo(0.1, 1);
    for (let i = 0; i < 100; i++) expect(kindOf(`row-${i}`, shares)).toBe(kindOf(`row-${i}`, shares));
    expect(kindOf("x", { live: 0, ended: 1, unknown: 0 })).toBe("ended");
    expect(kindOf("x", { live: 0, ended: 0, unknown: 1 })).toBe("unknown");
  });

  it("ends an ended call after the row's start, before now, on whole seconds, after 15 s to 30 min of talk", () => {
    const allEnded = { live: 0, ended: 1, unknown: 0 };
    for (let i = 0; i < 500; i++) {
      const row = call(`row-${i}`, 60 + i * 97, {
        twilioAccount: i % 2 === 0 ? `AC${"a".repeat(32)}` : null,
      });
      const m = mirrorCall(row, allEnded, NOW, CAP);
      const t = m.twilio;
      if (t?.endTime == null || t.startTime === null)
        throw new Error("an ended row needs start and end times");
      expect(t.status).toBe("completed");
      expect(t.accountSid).toBe(row.twilioAccount ?? undefined);
      expect(t.startTime.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
      expect(t.endTime.getTime()).toBeLessThanOrEqual(NOW.getTime());
      expect(t.endTime.getTime() % 1000).toBe(0);
      const talk = (t.endTime.getTime() - t.startTime.getTime()) / 1000;
      expect(talk).toBeGreaterThanOrEqual(15);
      expect(talk).toBeLessThanOrEqual(1800);
      expect(t.duration).toBe(String(talk));
    }
  });

  it("serves live calls in progress, and their realtime session only within OpenAI's cap; unknown ones not at all", () => {
    const live = { live: 1, ended: 0, unknown: 0 };
    const young = mirrorCall(call("a", 600, { openaiId: "rtc_a" }), live, NOW, CAP);
    expect(young.twilio).toMatchObject({ status: "in-progress", endTime: null });
    expect(young.realtime).toEqual({ callId: "rtc_a", live: true });
    expect(mirrorCall(call("b", CAP + 1, { openaiId: "rtc_b" }), live, NOW, CAP).realtime).toBeNull();
    const unknown = mirrorCall(
      call("c", 600, { openaiId: "rtc_c" }),
      { live: 0, ended: 0, unknown: 1 },
      NOW,
      CAP,
    );
    expect(unknown).toEqual({ kind: "unknown", twilio: null, realtime: null });
    expect(
      mirrorCall(call("d", 600, { openaiId: "rtc_d" }), { live: 0, ended: 1, unknown: 0 }, NOW, CAP).realtime,
    ).toBeNull();
  });
});
