import { describe, expect, it } from "vitest";
import { ageBoundSuspicion } from "../../src/reconcile/age-bound-guard.js";

describe("ageBoundSuspicion: the share of the active rows a pass would end on the age bound alone", () => {
  it.each<[string, { ageBoundEnds: number; activeSeen: number; maxEndShare: number }, string | null]>([
    ["nothing to end", { ageBoundEnds: 0, activeSeen: 100, maxEndShare: 0.5 }, null],
    ["a usual share", { ageBoundEnds: 5, activeSeen: 100, maxEndShare: 0.5 }, null],
    ["exactly the share", { ageBoundEnds: 50, activeSeen: 100, maxEndShare: 0.5 }, null],
    [
      "more than the share",
      { ageBoundEnds: 51, activeSeen: 100, maxEndShare: 0.5 },
      "this pass would end 51 of the 100 active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=0.5)",
    ],
    ["too few rows to say (9, all of them)", { ageBoundEnds: 9, activeSeen: 9, maxEndShare: 0.5 }, null],
    [
      "ten rows, all of them",
      { ageBoundEnds: 10, activeSeen: 10, maxEndShare: 0.5 },
      "this pass would end 10 of the 10 active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=0.5)",
    ],
    ["a share of 1 never holds back", { ageBoundEnds: 1296, activeSeen: 1296, maxEndShare: 1 }, null],
    [
      "a strict share",
      { ageBoundEnds: 2, activeSeen: 10, maxEndShare: 0.1 },
      "this pass would end 2 of the 10 active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=0.1)",
    ],
  ])("%s", (_name, input, expected) => {
    expect(ageBoundSuspicion(input)).toBe(expected);
  });
});
