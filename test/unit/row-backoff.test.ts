import { describe, expect, it } from "vitest";
import { RowBackoff } from "../../src/reconcile/row-backoff.js";

const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, s));

describe("RowBackoff", () => {
  it("backs a failing row off twice as long each time, and forgets it once it is answered", () => {
    const b = new RowBackoff(30_000, 600_000);
    expect(b.standing("a", at(0))).toBe("fresh");
    b.failed("a", at(0));
    expect(b.standing("a", at(29))).toBe("waiting");
    expect(b.standing("a", at(30))).toBe("due");
    b.failed("a", at(30));
    expect(b.standing("a", at(89))).toBe("waiting");
    expect(b.standing("a", at(90))).toBe("due");
    b.answered("a");
    expect(b.standing("a", at(90))).toBe("fresh");
  });

  it("a provider that recovered makes every backed-off row due at once, asked after the fresh rows", () => {
    const b = new RowBackoff(30_000, 600_000);
    // Rows that failed through an outage, some of them many times.
    for (let i = 0; i < 5; i++) b.failed("a", at(i));
    b.failed("b", at(4));
    expect(b.standing("a", at(5))).toBe("waiting");
    b.recovered();
    expect(b.standing("a", at(5))).toBe("due");
    expect(b.standing("b", at(5))).toBe("due");
    // Its count is kept: a row that fails again after the recovery is backed off as long as before, and more.
    b.failed("a", at(5));
    expect(b.standing("a", at(5 + 599))).toBe("waiting");
    expect(b.standing("a", at(5 + 600))).toBe("due");
  });
});
