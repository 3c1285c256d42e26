/**
 * A pass built for a test runs the modes production runs: what the daemon's wiring leaves to the settings'
 * defaults, the tests' deps leave to the same defaults.
 */
import { describe, expect, it } from "vitest";
import type { ActiveCall, ProviderProbes } from "../../src/model/index.js";
import { runPass } from "../../src/reconcile/pass.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { testPassDeps } from "../helpers/pass-deps.js";
import { TEST_POLICY } from "../helpers/policy.js";

const NOW = new Date("2026-11-29T12:00:00Z");
const realtimeOnly = (id: string, ageSeconds: number): ActiveCall => ({
  id,
  twilioSid: null,
  twilioAccount: null,
  openaiId: `rtc_${id}`,
  status: "active",
  startedAt: new Date(NOW.getTime() - ageSeconds * 1000),
});

describe("a test pass's defaults", () => {
  it("probes only the realtime-only rows past the session cap, as OPENAI_PROBE's default does", async () => {
    const cap = TEST_POLICY.openaiMaxSessionSeconds;
    const store = new MemoryCallStore().add(realtimeOnly("young", cap / 2), realtimeOnly("old", cap * 3));
    store.clock = () => NOW;
    const asked: string[] = [];
    const probes: ProviderProbes = {
      twilio: null,
      openai: {
        probeSession: async (id) => {
          asked.push(id);
          return { kind: "live" };
        },
      },
      hangupRealtime: null,
    };

    const r = await runPass(testPassDeps(store, probes), { runId: "run-1", dryRun: true });
    expect(asked).toEqual(["rtc_old"]);
    expect(r.unverified).toEqual({ within_session_cap: 1 });
  });
});
