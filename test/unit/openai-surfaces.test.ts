import { describe, expect, it } from "vitest";
import type { RealtimeObservation, RealtimeSurface } from "../../src/model/index.js";
import { classifyRefusal } from "../../src/providers/openai-classify.js";
import { askEachSurface } from "../../src/providers/openai-surfaces.js";

const live: RealtimeObservation = { kind: "live" };
const gone: RealtimeObservation = { kind: "gone" };
const failed: RealtimeObservation = { kind: "error", reason: "timeout", detail: "t" };

describe("a realtime call asked on each runtime surface", () => {
  type Case = [
    string,
    Partial<Record<RealtimeSurface, RealtimeObservation>>,
    RealtimeObservation["kind"],
    RealtimeSurface[],
  ];
  const cases: Case[] = [
    ["live on Live: Realtime is never asked", { live, realtime: gone }, "live", ["live"]],
    ["gone on Live, live on Realtime: live", { live: gone, realtime: live }, "live", ["live", "realtime"]],
    [
      "gone on Live, unclear on Realtime: unclear, never gone",
      { live: gone, realtime: failed },
      "error",
      ["live", "realtime"],
    ],
    ["unclear on Live: unclear, Realtime not asked", { live: failed, realtime: gone }, "error", ["live"]],
    ["gone on both: gone", { live: gone, realtime: gone }, "gone", ["live", "realtime"]],
  ];

  it.each(cases)("%s", async (_name, answers, want, askedOrder) => {
    const asked: RealtimeSurface[] = [];
    // Listed Realtime first: the observer surface is still asked first.
    const got = await askEachSurface(["realtime", "live"], async (s) => {
      asked.push(s);
      return answers[s] as RealtimeObservation;
    });
    expect(got.kind).toBe(want);
    expect(asked).toEqual(askedOrder);
  });

  it("one surface configured: only it is asked", async () => {
    const asked: RealtimeSurface[] = [];
    const got = await askEachSurface(["realtime"], async (s) => {
      asked.push(s);
      return gone;
    });
    expect(got.kind).toBe("gone");
    expect(asked).toEqual(["realtime"]);
  });

  it("the Live surface's not-found is an absence; any other 404 code is not", () => {
    const body = (code: string) =>
      JSON.stringify({ error: { message: "x", type: "invalid_request_error", code } });
    expect(classifyRefusal(404, {}, body("session_not_found"))).toEqual({ kind: "gone" });
    expect(classifyRefusal(404, {}, body("call_id_not_found"))).toEqual({ kind: "gone" });
    const bySessionMessage =
      '{"error":{"message":"No session found for the provided session_id","code":null}}';
    expect(classifyRefusal(404, {}, bySessionMessage)).toEqual({ kind: "gone" });
    expect(classifyRefusal(404, {}, body("model_not_found"))).toMatchObject({
      kind: "error",
      reason: "bad_request",
    });
  });
});
