import { describe, expect, it } from "vitest";
import type { TwilioListQuery } from "../../src/model/index.js";
import { LIST_PAGE_ROWS, listQueries, MAX_SLICES } from "../../src/reconcile/list-slices.js";

const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);
/** The 15 cuts of 16 equal shares of rows started one a second from T0 (plus a fraction, to be floored). */
const cutsOf = (rows: number) =>
  Array.from(
    { length: MAX_SLICES - 1 },
    (_, j) => new Date(T0 + Math.floor(((j + 1) * rows) / 16) * 1000 + 250),
  );

const inProgress = (qs: TwilioListQuery[]) => qs.filter((q) => q.status === "in-progress");
/** Which slice lists a call started at `ms` (whole seconds): exactly one, for every start time. */
const slicesListing = (qs: TwilioListQuery[], ms: number) =>
  inProgress(qs).filter(
    (q) =>
      (q.startedFrom === undefined || q.startedFrom.getTime() <= ms) &&
      (q.startedTo === undefined || ms <= q.startedTo.getTime()),
  ).length;

describe("listQueries", () => {
  it("lists an account whole without shares, or when one page holds its rows", () => {
    for (const shares of [undefined, { rows: LIST_PAGE_ROWS, cuts: cutsOf(LIST_PAGE_ROWS) }]) {
      expect(listQueries("AC1", shares)).toEqual([
        { account: "AC1", status: "queued" },
        { account: "AC1", status: "ringing" },
        { account: "AC1", status: "in-progress" },
      ]);
    }
  });

  it("cuts in-progress into one slice per page of rows, at most MAX_SLICES, covering every second once", () => {
    for (const [rows, slices] of [
      [2_525, 3],
      [10_000, 10],
      [100_000, MAX_SLICES],
    ] as const) {
      const qs = listQueries(null, { rows, cuts: cutsOf(rows) });
      expect(qs.filter((q) => q.status !== "in-progress")).toHaveLength(2);
      expect(inProgress(qs)).toHaveLength(slices);
      expect(inProgress(qs)[0]?.startedFrom).toBeUndefined();
      expect(inProgress(qs)[slices - 1]?.startedTo).toBeUndefined();
      for (const q of inProgress(qs)) {
        for (const d of [q.startedFrom, q.startedTo]) if (d) expect(d.getTime() % 1000).toBe(0);
      }
      for (let s = -5; s < rows + 5; s += 7) expect(slicesListing(qs, T0 + s * 1000)).toBe(1);
    }
  });

  it("drops repeated cuts: rows that all started in one second are not listed twice", () => {
    const same = Array.from({ length: MAX_SLICES - 1 }, () => new Date(T0));
    const qs = listQueries(null, { rows: 50_000, cuts: same });
    expect(inProgress(qs)).toEqual([
      { account: null, status: "in-progress", startedTo: new Date(T0 - 1000) },
      { account: null, status: "in-progress", startedFrom: new Date(T0) },
    ]);
  });
});
