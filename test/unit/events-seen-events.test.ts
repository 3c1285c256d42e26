import { describe, expect, it } from "vitest";
import { seenEvents } from "../../src/events/seen-events.js";

const at = (ms: number) => new Date(Date.UTC(2026, 11, 6) + ms);

describe("seenEvents", () => {
  it("an id is new once: a second claim of it, later or in the same list, gets nothing", () => {
    const seen = seenEvents({ maxIds: 10, keepMs: 1000 });
    expect(seen.claim(["a", "b", "a"], at(0))).toEqual(["a", "b"]);
    expect(seen.claim(["b", "c"], at(10))).toEqual(["c"]);
    expect(seen.size).toBe(3);
  });

  it("an id is forgotten once kept keepMs, and is new again", () => {
    const seen = seenEvents({ maxIds: 10, keepMs: 1000 });
    seen.claim(["a"], at(0));
    seen.claim(["b"], at(500));
    expect(seen.claim(["a", "b"], at(999))).toEqual([]);
    expect(seen.claim(["a", "b"], at(1000))).toEqual(["a"]);
    expect(seen.claim(["b"], at(1500))).toEqual(["b"]);
  });

  it("holds at most maxIds: the oldest goes first", () => {
    const seen = seenEvents({ maxIds: 3, keepMs: 60_000 });
    seen.claim(["a", "b", "c"], at(0));
    expect(seen.claim(["d"], at(1))).toEqual(["d"]);
    expect(seen.size).toBe(3);
    expect(seen.claim(["b", "c", "d"], at(2))).toEqual([]);
    expect(seen.claim(["a"], at(3))).toEqual(["a"]);
    expect(seen.size).toBe(3);
  });

  it("released ids are new again (a hand-off that failed)", () => {
    const seen = seenEvents({ maxIds: 10, keepMs: 60_000 });
    seen.claim(["a", "b"], at(0));
    seen.release(["a"]);
    expect(seen.claim(["a", "b"], at(1))).toEqual(["a"]);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses maxIds %s", (maxIds) => {
    expect(() => seenEvents({ maxIds, keepMs: 1 })).toThrow(/maxIds/);
  });
});
