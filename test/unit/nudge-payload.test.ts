import { describe, expect, it } from "vitest";
import {
  decodeNudges,
  encodeNudges,
  MalformedNudgesError,
  NOTIFY_PAYLOAD_LIMIT,
} from "../../src/db/nudge-payload.js";
import type { CallNudge } from "../../src/model/index.js";

const nudge = (n: number, over: Partial<CallNudge> = {}): CallNudge => ({
  eventId: `event-${n}`,
  callSid: `CA${String(n).padStart(32, "0")}`,
  accountSid: n % 3 === 0 ? null : `AC${"a".repeat(32)}`,
  callStatus: "busy",
  eventAt: new Date(Date.UTC(2026, 11, 6, 9, 0, 0, n)),
  appResponseCode: n % 2 === 0 ? 500 : null,
  ...over,
});

describe("nudges as NOTIFY payloads", () => {
  it("cuts any batch into ASCII payloads under the limit that read back as the batch, in order", () => {
    for (const size of [1, 37, 380, 2000]) {
      const sent = Array.from({ length: 60 }, (_, i) =>
        nudge(i, { eventId: `${"ü€😀".repeat(i % 7)}${"e".repeat((size * (i + 1)) % 3000)}` }),
      );
      const { payloads, unrelayable } = encodeNudges(sent);
      expect(unrelayable).toEqual([]);
      for (const p of payloads) {
        expect(p).toMatch(/^[\x20-\x7e]*$/);
        expect(Buffer.byteLength(p)).toBeLessThan(NOTIFY_PAYLOAD_LIMIT);
      }
      expect(payloads.flatMap(decodeNudges)).toEqual(sent);
    }
  });

  it("sets aside a nudge larger than a payload, or without a valid time, and carries the rest", () => {
    const big = nudge(2, { eventId: "x".repeat(NOTIFY_PAYLOAD_LIMIT) });
    const timeless = nudge(3, { eventAt: new Date(Number.NaN) });
    const { payloads, unrelayable } = encodeNudges([nudge(1), big, timeless, nudge(4)]);
    expect(unrelayable).toEqual([big, timeless]);
    expect(payloads.flatMap(decodeNudges)).toEqual([nudge(1), nudge(4)]);
  });

  it("reads only what it writes: anything else is malformed, never a partial batch", () => {
    const good = JSON.parse(encodeNudges([nudge(1)]).payloads[0] as string).nudges[0];
    for (const payload of [
      "",
      "null",
      "[]",
      '{"v":1}',
      '{"v":1,"nudges":{}}',
      JSON.stringify({ v: 1, nudges: [good, { ...good, appResponseCode: "500" }] }),
      JSON.stringify({ v: 1, nudges: [{ ...good, eventAt: 1765011600000 }] }),
      JSON.stringify({ v: 1, nudges: [{ ...good, accountSid: 7 }] }),
      JSON.stringify({ v: 1, nudges: [{ ...good, callSid: undefined }] }),
      JSON.stringify({ v: 1, nudges: [{ ...good, appResponseCode: 1.5 }] }),
    ])
      expect(() => decodeNudges(payload), payload).toThrow(MalformedNudgesError);
  });
});
