import { describe, expect, it } from "vitest";
import { PassGate } from "../../src/daemon/tick.js";

const pass = (runId: string) => ({ runId, trigger: "request" as const, startedAt: new Date(0) });

describe("PassGate: one pass at a time", () => {
  it("refuses a second pass while one runs, naming it, and takes one again once it has settled", async () => {
    const gate = new PassGate();
    let finish: (v: string) => void = () => {};
    const first = gate.start(pass("a"), () => new Promise<string>((r) => (finish = r)));
    expect(gate.running).toEqual(pass("a"));
    let ran = false;
    expect(
      gate.start(pass("b"), async () => {
        ran = true;
      }),
    ).toEqual({ busy: pass("a") });
    expect(ran).toBe(false);
    let idle = false;
    const waiting = gate.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    finish("done");
    if (!("started" in first)) throw new Error("the first pass must start");
    expect(await first.started).toBe("done");
    await waiting;
    expect(gate.running).toBeNull();
    const failing = gate.start(pass("c"), () => Promise.reject(new Error("boom")));
    if (!("started" in failing)) throw new Error("a pass must start once the gate is free");
    await expect(failing.started).rejects.toThrow("boom");
    await gate.idle();
    expect(gate.running).toBeNull();
  });
});
