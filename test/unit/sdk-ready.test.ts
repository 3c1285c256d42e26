import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { guardProviders, type RawProviders } from "../../src/providers/guarded.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const SID = `CA${"b".repeat(32)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";

/**
 * The SDKs are loaded at the first request, which on a busy host can take longer than a short request timeout:
 * the load happens before the policy starts timing the request, so it never turns into a timeout of its own.
 */
describe("a provider SDK still loading when its first request is due", () => {
  const config = loadConfig({
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: "token",
    OPENAI_API_KEY: "sk-test",
    HANGUP_ORPHANED_REALTIME: "true",
    PROVIDER_TIMEOUT_MS: "50",
    PROVIDER_MAX_ATTEMPTS: "1",
  });
  const events: string[] = [];
  // Loads that take six times the request timeout; every request then answers at once.
  const slowLoad = (what: string) => async () => {
    events.push(`load ${what}`);
    await sleep(300);
  };
  const answer =
    <T>(what: string, value: T) =>
    async () => {
      events.push(what);
      return value;
    };
  const raw = {
    twilio: {
      ready: slowLoad("twilio"),
      fetchCall: answer("fetchCall", { kind: "not_found" }),
      listCallsPage: answer("listCallsPage", { kind: "not_found" }),
    },
    openai: {
      ready: async (what: string) => slowLoad(`openai ${what}`)(),
      probeSession: answer("probeSession", { kind: "live" }),
      attachLive: answer("attachLive", { kind: "live" }),
      hangup: answer("hangup", { kind: "hung_up" }),
    },
  } as unknown as RawProviders;
  const probes = guardProviders(config, raw, createMetrics(), pino({ level: "silent" }));

  it("is loaded first, outside the request's timeout: the answer is the provider's, not a timeout", async () => {
    expect(await probes.twilio?.fetchCall(SID, null)).toMatchObject({ kind: "not_found" });
    expect(await probes.openai?.probeSession(RTC)).toMatchObject({ kind: "live" });
    expect(await probes.hangupRealtime?.(RTC)).toMatchObject({ kind: "hung_up" });
    expect(events).toEqual([
      "load twilio",
      "fetchCall",
      "load openai probe",
      "attachLive",
      "load openai hangup",
      "hangup",
    ]);
  });
});
