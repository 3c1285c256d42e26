/** Every line a pass logs names the pass, once: its runId comes from the pass's own logger, not from each call. */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { ActiveCall, ProviderProbes } from "../../src/model/index.js";
import { runPass } from "../../src/reconcile/pass.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const call = (n: number): ActiveCall => ({
  id: `call-${n}`,
  twilioSid: sid(n),
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(NOW.getTime() - 3_600_000),
});

function lines() {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") raw.push(line);
      done();
    },
  });
  return { raw, logger: createLogger("debug", sink) };
}

describe("a pass's log lines", () => {
  it("all carry the pass's runId exactly once, the provider's credential error too", async () => {
    const store = new MemoryCallStore().add(call(1), call(2), call(3), call(4));
    store.clock = () => NOW;
    let asked = 0;
    const probes: ProviderProbes = {
      twilio: {
        fetchCall: async () =>
          ++asked === 1
            ? { kind: "error", reason: "auth_failed", detail: "HTTP 401", httpStatus: 401 }
            : { kind: "live", status: "in-progress" },
        listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
      },
      openai: null,
      hangupRealtime: null,
    };
    const { raw, logger } = lines();

    await runPass(testPassDeps(store, probes, { logger, concurrency: 1 }), { runId: "run-7", dryRun: false });
    const messages = raw.map((l) => JSON.parse(l) as { msg: string; runId?: string });
    expect(messages.map((m) => m.msg)).toContain(
      "twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET); it is skipped for the rest of this pass",
    );
    for (const [i, line] of raw.entries()) {
      expect(messages[i]?.runId).toBe("run-7");
      expect(line.split('"runId"')).toHaveLength(2);
    }
  });
});
