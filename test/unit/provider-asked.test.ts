import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { guardProviders, type RawProviders } from "../../src/providers/guarded.js";
import { requestIdFrom } from "../../src/providers/request-id.js";

// What every provider answer names: the resource asked and the provider's request id.
const ACCOUNT = `AC${"a".repeat(32)}`;
const SID = `CA${"b".repeat(32)}`;
const RTC = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";
const quiet = pino({ level: "silent" });

describe("requestIdFrom", () => {
  it("reads the header case-insensitively from a plain record, Node's lowercased headers, or fetch Headers", () => {
    expect(requestIdFrom({ "Twilio-Request-Id": "RQ1" }, "twilio-request-id")).toBe("RQ1");
    expect(requestIdFrom({ "twilio-request-id": "RQ2" }, "Twilio-Request-Id")).toBe("RQ2");
    expect(requestIdFrom(new Headers({ "X-Request-ID": "req_3" }), "x-request-id")).toBe("req_3");
    expect(requestIdFrom({ "x-request-id": ["req_4"] }, "x-request-id")).toBe("req_4");
  });

  it.each([
    ["no headers", undefined],
    ["no such header", { "content-type": "application/json" }],
    ["a repeated header", { "x-request-id": ["req_a", "req_b"] }],
    ["a value with spaces", { "x-request-id": "req_a req_b" }],
    ["a value with a control character", { "x-request-id": "req_a\u0007" }],
    ["an overlong value", { "x-request-id": `req_${"a".repeat(200)}` }],
    ["a number", { "x-request-id": 42 }],
  ])("gives nothing for %s (never stores junk in an audit row)", (_label, headers) => {
    expect(requestIdFrom(headers, "x-request-id")).toBeUndefined();
  });
});

describe("answers the policy gives without asking the provider still name what would have been asked", () => {
  const config = loadConfig({
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: "token",
    OPENAI_API_KEY: "sk-test",
    HANGUP_ORPHANED_REALTIME: "true",
    PROVIDER_TIMEOUT_MS: "50",
    PROVIDER_MAX_ATTEMPTS: "1",
  });
  const never = <T>() => new Promise<T>(() => {});
  const raw = {
    twilio: { ready: async () => {}, fetchCall: () => never(), listCallsPage: () => never() },
    openai: {
      ready: async () => {},
      probeSession: () => never(),
      attachLive: () => never(),
      hangup: () => never(),
    },
  } as unknown as RawProviders;
  const probes = guardProviders(config, raw, createMetrics(), quiet);

  it("a request that times out in the policy: the SID and account, the realtime call id", async () => {
    expect(await probes.twilio?.fetchCall(SID, null)).toMatchObject({
      kind: "error",
      reason: "timeout",
      asked: { sid: SID, account: ACCOUNT },
    });
    expect(await probes.openai?.probeSession(RTC)).toMatchObject({
      kind: "error",
      reason: "timeout",
      asked: { callId: RTC },
    });
    expect(await probes.hangupRealtime?.(RTC)).toMatchObject({ kind: "error", asked: { callId: RTC } });
  });

  it("a call abandoned before it was sent: the same, without a request id", async () => {
    const answer = await probes.twilio?.fetchCall(SID, null, AbortSignal.abort());
    expect(answer).toEqual({
      kind: "error",
      reason: "timeout",
      detail: expect.any(String),
      asked: { sid: SID, account: ACCOUNT },
    });
  });

  it("an id that is not one names nothing", async () => {
    const answer = await probes.twilio?.fetchCall("not-a-sid", null, AbortSignal.abort());
    expect(answer).not.toHaveProperty("asked");
  });
});
