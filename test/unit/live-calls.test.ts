import { describe, expect, it } from "vitest";
import { LiveCalls } from "../../src/reconcile/live-calls.js";

const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;

describe("LiveCalls", () => {
  it("finds every listed SID with its status, and nothing else", () => {
    const live = new LiveCalls();
    const statuses = ["queued", "ringing", "in-progress"] as const;
    // Inserted out of order and past the initial capacity, so growth and sorting both matter.
    for (let i = 5000; i > 0; i--) live.add(sid(i * 7919), statuses[i % 3] as (typeof statuses)[number]);
    live.seal();
    expect(live.size).toBe(5000);
    for (let i = 1; i <= 5000; i++) expect(live.get(sid(i * 7919))).toBe(statuses[i % 3]);
    for (const absent of [sid(0), sid(1), sid(7918), sid(5001 * 7919), `CA${"f".repeat(32)}`]) {
      expect(live.get(absent)).toBeUndefined();
    }
  });

  it("is case-insensitive on the hex part and keeps odd SIDs as they are", () => {
    const live = new LiveCalls();
    live.add(`CA${"AB".repeat(16)}`, "ringing");
    live.add("CAnot-a-standard-sid", "queued");
    live.seal();
    expect(live.get(`CA${"ab".repeat(16)}`)).toBe("ringing");
    expect(live.get("CAnot-a-standard-sid")).toBe("queued");
    expect(live.get("CAother")).toBeUndefined();
  });

  it("refuses lookups before it is sealed and additions after", () => {
    const live = new LiveCalls();
    live.add(sid(1), "queued");
    expect(() => live.get(sid(1))).toThrow(/sealed/);
    live.seal();
    expect(() => live.add(sid(2), "queued")).toThrow(/sealed/);
  });
});
