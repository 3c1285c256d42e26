import pino from "pino";
import { describe, expect, it } from "vitest";
import { listenForRelayed } from "../../src/daemon/relay-listener.js";
import type { CallNudge, NudgeRelay } from "../../src/model/index.js";

/** A relay whose first `failures` LISTENs fail (the database not up yet); then it listens. */
function relay(failures: number) {
  const calls = { listen: 0, closed: 0 };
  let heard: ((n: CallNudge[]) => void) | null = null;
  const r: NudgeRelay = {
    publish: async () => {},
    listen: async (onNudges) => {
      calls.listen++;
      if (calls.listen <= failures) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      heard = onNudges;
      return {
        close: async () => {
          calls.closed++;
        },
      };
    },
  };
  return { r, calls, hear: (n: CallNudge[]) => heard?.(n) };
}

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

describe("listenForRelayed", () => {
  it("tries again until the database answers, then hears what stand-bys relay; close ends the session", async () => {
    const { r, calls, hear } = relay(2);
    const got: CallNudge[][] = [];
    const l = listenForRelayed(r, (n) => got.push(n), pino({ level: "silent" }), 10);
    await until(() => calls.listen === 3);
    hear([]);
    await until(() => got.length === 1);
    await l.close();
    expect(calls.closed).toBe(1);
  });

  it("closed while the database is still down, it stops trying", async () => {
    const { r, calls } = relay(Number.POSITIVE_INFINITY);
    const l = listenForRelayed(r, () => {}, pino({ level: "silent" }), 10);
    await until(() => calls.listen >= 2);
    await l.close();
    const after = calls.listen;
    await new Promise((res) => setTimeout(res, 50));
    expect(calls.listen).toBe(after);
    expect(calls.closed).toBe(0);
  });
});
