import { describe, expect, it } from "vitest";
import { cachedUntilSettled, type TimeColumns } from "../../src/db/column-types.js";

const columns = (provisional: boolean): TimeColumns => ({
  startedAt: "text",
  endedAt: "text",
  startedZone: [],
  endedZone: [],
  started: null,
  ended: null,
  provisional,
});

describe("cachedUntilSettled", () => {
  it("keeps a format read from the column's rows for the store's life", async () => {
    let loads = 0;
    const read = cachedUntilSettled(async () => {
      loads++;
      return columns(false);
    }, 0);
    await read();
    await read();
    await read();
    expect(loads).toBe(1);
  });

  it("reads a column that had no rows again once its time is up, and keeps the first settled answer", async () => {
    const answers = [true, true, false, true];
    let loads = 0;
    const read = cachedUntilSettled(async () => columns(answers[loads++] ?? true), 0);
    for (let i = 0; i < 6; i++) await read();
    expect(loads).toBe(3);
  });

  it("asks again after a failure", async () => {
    let loads = 0;
    const read = cachedUntilSettled(async () => {
      loads++;
      if (loads === 1) throw new Error("connection lost");
      return columns(false);
    });
    await expect(read()).rejects.toThrow("connection lost");
    expect((await read()).provisional).toBe(false);
    expect(loads).toBe(2);
  });
});
