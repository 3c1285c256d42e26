import { Writable } from "node:stream";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import type { ActiveCall } from "../../src/model/index.js";
import { classifyAnswer, guardProviders, rawProviders } from "../../src/providers/guarded.js";
import { passEvidence } from "../../src/reconcile/evidence-gathering.js";
import { passSettings } from "../../src/reconcile/pass-settings.js";
import { PassSightings } from "../../src/reconcile/sightings.js";
import { MemoryCallStore } from "../helpers/memory-store.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const BASE = "https://api.twilio.example";
const CALLS = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Calls/CA[0-9a-f]{32}\\.json$`);
const sid = (i: number) => `CA${i.toString(16).padStart(32, "0")}`;
const completed = (path: string) => ({
  sid: path.slice(-39, -5),
  account_sid: ACCOUNT,
  status: "completed",
  start_time: "Fri, 18 Oct 2019 17:00:00 +0000",
  end_time: "Fri, 18 Oct 2019 17:03:00 +0000",
  duration: "180",
});
const UNAUTHORISED = { code: 20003, message: "Authenticate", status: 401 };

function setup(env: Record<string, string> = {}) {
  const config = loadConfig({
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: "wrong",
    TWILIO_API_BASE_URL: BASE,
    TWILIO_MAX_RPS: "1000",
    PROVIDER_TIMEOUT_MS: "2000",
    ...env,
  });
  const logs: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger("info", sink);
  const metrics = createMetrics();
  const recoveries = { count: 0 };
  const probes = guardProviders(
    config,
    rawProviders(config, { twilioKeepAlive: false }),
    metrics,
    logger,
    () => {
      recoveries.count++;
    },
  );
  const evidence = () =>
    passEvidence({
      probes,
      sightings: new PassSightings(new MemoryCallStore()),
      logger,
      clock: () => new Date(),
      liveSets: null,
      policy: { openaiMaxSessionSeconds: 3600 },
      realtimeProbe: passSettings(config, logger).realtimeProbe,
    });
  const metric = async (name: string) => metrics.registry.getSingleMetricAsString(`call_reconciler_${name}`);
  return { config, probes, evidence, metric, logs, recoveries };
}

const row = (i: number): ActiveCall => ({
  id: `row-${i}`,
  twilioSid: sid(i),
  twilioAccount: null,
  openaiId: null,
  status: "active",
  startedAt: new Date(Date.now() - 3_600_000),
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  vi.useRealTimers();
});
afterAll(() => nock.enableNetConnect());

describe("wrong credentials stop the provider at once", () => {
  it.each([1, 4])("at concurrency %i, no request starts after the first 401 answer", async (concurrency) => {
    const { evidence, metric, logs } = setup({ TWILIO_CONCURRENCY: String(concurrency) });
    const sent: number[] = [];
    let firstAnswerAt = Number.POSITIVE_INFINITY;
    nock(BASE)
      .get(CALLS)
      .times(50)
      .delay(50)
      .reply(() => {
        sent.push(performance.now());
        return [401, UNAUTHORISED];
      });
    const gather = evidence();
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const e = await gather.gather(row(i));
        firstAnswerAt = Math.min(firstAnswerAt, performance.now());
        return e.twilio;
      }),
    );
    // Only the requests already in flight when the first 401 came back: one at concurrency 1.
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.length).toBeLessThanOrEqual(concurrency);
    for (const t of sent) expect(t).toBeLessThan(firstAnswerAt);
    expect(answers.every((a) => a.kind === "error" && a.reason === "auth_failed")).toBe(true);
    const notAsked = answers.filter(
      (a) => a.kind === "error" && /rejected earlier in this pass/.test(a.detail),
    );
    expect(notAsked.length).toBeGreaterThanOrEqual(12 - concurrency);
    // Those never sent are not counted as provider requests.
    // The first 401 is counted as such; those in flight with it are cancelled when the provider is stopped.
    let text = "";
    const count = (outcome: string) =>
      Number(text.match(new RegExp(`provider="twilio",outcome="${outcome}"} (\\d+)`))?.[1] ?? 0);
    await until("the requests in flight to be counted", async () => {
      text = await metric("provider_requests_total");
      return count("auth_failed") + count("timeout") >= sent.length;
    });
    expect(count("auth_failed")).toBeGreaterThanOrEqual(1);
    expect(count("auth_failed") + count("timeout")).toBe(sent.length);
    expect(count("network")).toBe(0);
    expect(logs.filter((l) => l.level === 50 && l.msg.includes("TWILIO_AUTH_TOKEN"))).toHaveLength(1);
  });
});

describe("the breaker behind the adapters", () => {
  it("404 and 401 answers never count as breaker failures", async () => {
    const { probes, metric } = setup({ BREAKER_MIN_THROUGHPUT: "0.1", BREAKER_WINDOW_SECONDS: "10" });
    nock(BASE).get(CALLS).times(10).reply(404, { code: 20404, status: 404 });
    nock(BASE).get(CALLS).times(10).reply(401, UNAUTHORISED);
    for (let i = 0; i < 20; i++) await probes.twilio?.fetchCall(sid(i), null);
    expect(await metric("circuit_breaker_state")).toContain('{provider="twilio"} 0');
    expect(await metric("circuit_breaker_transitions_total")).toContain('{provider="twilio",to="open"} 0');
  });

  it("a 429 with Retry-After: 1 twice, then 200, is answered; the breaker never opens", async () => {
    const { probes, metric } = setup({
      TWILIO_AUTH_TOKEN: "right",
      PROVIDER_MAX_ATTEMPTS: "1",
      BREAKER_MIN_THROUGHPUT: "0.1",
      BREAKER_WINDOW_SECONDS: "10",
    });
    const scope = nock(BASE)
      .get(CALLS)
      .times(2)
      .reply(429, { code: 20429, status: 429 }, { "Retry-After": "1" })
      .get(CALLS)
      .reply(200, (path) => completed(path));
    const answer = await probes.twilio?.fetchCall(sid(1), null);
    expect(answer).toMatchObject({ kind: "ended", status: "completed" });
    expect(scope.isDone()).toBe(true);
    expect(await metric("circuit_breaker_transitions_total")).toContain('{provider="twilio",to="open"} 0');
  });

  it("a Twilio 408 is a timeout: retried, counted as one, and the next attempt's answer is the answer", async () => {
    const { probes, metric } = setup({ TWILIO_AUTH_TOKEN: "right", PROVIDER_MAX_ATTEMPTS: "2" });
    const scope = nock(BASE)
      .get(CALLS)
      .reply(408, { code: 20408, message: "Request Timeout", status: 408 })
      .get(CALLS)
      .reply(200, (path) => completed(path));
    expect(await probes.twilio?.fetchCall(sid(1), null)).toMatchObject({
      kind: "ended",
      status: "completed",
    });
    expect(scope.isDone()).toBe(true);
    const requests = await metric("provider_requests_total");
    expect(requests).toContain('{provider="twilio",outcome="timeout"} 1');
    expect(requests).toContain('{provider="twilio",outcome="bad_request"} 0');
  });

  it("counts each transition: open on an outage, then half-open and closed when the trial succeeds", async () => {
    // The breaker's half-open delay runs on Date.now: a fake Date passes it without waiting.
    vi.useFakeTimers({ toFake: ["Date"] });
    const { probes, metric, recoveries } = setup({
      TWILIO_AUTH_TOKEN: "right",
      PROVIDER_MAX_ATTEMPTS: "1",
      BREAKER_MIN_THROUGHPUT: "0.3",
      BREAKER_WINDOW_SECONDS: "10",
      BREAKER_HALF_OPEN_SECONDS: "0.2",
    });
    nock(BASE).get(CALLS).times(3).reply(503, { status: 503 });
    for (let i = 0; i < 3; i++) await probes.twilio?.fetchCall(sid(i), null);
    expect(await metric("circuit_breaker_state")).toContain('{provider="twilio"} 2');
    nock(BASE)
      .get(CALLS)
      .reply(200, (path) => completed(path));
    // Meets the open breaker: not asked, at once.
    await expect(probes.twilio?.fetchCall(sid(8), null)).resolves.toMatchObject({ reason: "circuit_open" });
    // The first call after the half-open delay carries the trial and gets the answer.
    vi.advanceTimersByTime(250);
    await expect(probes.twilio?.fetchCall(sid(9), null)).resolves.toMatchObject({ kind: "ended" });
    const transitions = await metric("circuit_breaker_transitions_total");
    for (const to of ["open", "half-open", "closed"])
      expect(transitions).toContain(`{provider="twilio",to="${to}"} 1`);
    expect(await metric("circuit_breaker_state")).toContain('{provider="twilio"} 0');
    // The daemon is told the provider is back: the rows that failed during the outage are asked again.
    expect(recoveries.count).toBe(1);
  });

  it("classifies: 5xx, timeouts and network errors are failures; 429 is back-pressure; 404 and 401 are answers", () => {
    const err = (reason: string) => ({ kind: "error", reason }) as Parameters<typeof classifyAnswer>[0];
    expect(classifyAnswer({ kind: "not_found" })).toBe("ok");
    expect(classifyAnswer(err("auth_failed"))).toBe("fatal");
    expect(classifyAnswer(err("malformed_response"))).toBe("fatal");
    expect(classifyAnswer(err("rate_limited"))).toBe("rate_limited");
    for (const reason of ["server_error", "timeout", "network"])
      expect(classifyAnswer(err(reason))).toBe("retryable");
  });
});
