import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createOpenAIProbe, type OpenAIProbe } from "../../src/providers/openai.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";

const KEY = "sk-probe-test-key-0123456789";
const LIVE = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";
const ENDED = "rtc_u1_00000000000000000000000000000000";
/** For the tests that wait for a timeout; the others use a generous one so that a loaded machine can't flake. */
const TIMEOUT = 300;
const SLACK = 5000;

// nock intercepts every http request from its import on; the sideband tests must reach real sockets (a
// WebSocket upgrade through nock's passthrough is not what production runs), so it is off except in the
// hangup-against-nock block below.
nock.restore();

let sim: OpenAISimulator;
let probe: OpenAIProbe;
let fast: OpenAIProbe;

/** What every answer about an id names: the id, and OpenAI's request id when the answer carried one. */
const REQ_ID = /^req_[0-9a-f]{32}$/;
const asked = (callId: string) => ({ callId, requestId: expect.stringMatching(REQ_ID) });

/** No accepted socket, no TCP connection left on the simulator, and the probe never spoke. */
async function expectCleanShutdown() {
  await vi.waitFor(async () => {
    expect(sim.stats.openSockets).toBe(0);
    expect(await sim.connectionCount()).toBe(0);
  });
  expect(sim.stats.clientFramesReceived).toBe(0);
}

describe("probeSession against the simulator", () => {
  beforeEach(async () => {
    sim = await startOpenAISimulator({
      apiKey: KEY,
      sessions: [
        { callId: LIVE, live: true },
        { callId: ENDED, live: false },
      ],
    });
    probe = createOpenAIProbe({ apiKey: KEY, baseUrl: sim.url, timeoutMs: SLACK });
    fast = createOpenAIProbe({ apiKey: KEY, baseUrl: sim.url, timeoutMs: TIMEOUT });
  });
  afterEach(async () => {
    await sim.close();
  });

  it("live: the handshake completed (101), socket closed, nothing sent; the 101's x-request-id kept", async () => {
    expect(await probe.probeSession(LIVE)).toEqual({ kind: "live", asked: asked(LIVE) });
    expect(sim.stats).toMatchObject({ handshakes: 1, accepted: 1 });
    await expectCleanShutdown();
  });

  it("live without any event: a socket that opens and sends nothing is live at once, not a timeout", async () => {
    sim.setFault(LIVE, { kind: "silent" });
    // A timeout far past the test's own: a probe that awaited a first event would hang the test.
    const slow = createOpenAIProbe({ apiKey: KEY, baseUrl: sim.url, timeoutMs: 600_000 });
    expect(await slow.probeSession(LIVE)).toEqual({ kind: "live", asked: asked(LIVE) });
    expect(sim.stats).toMatchObject({ accepted: 1, clientFramesReceived: 0 });
    await expectCleanShutdown();
  });

  it("still live when the open socket then gets an error event and is closed by the server (the 101 proved the call)", async () => {
    sim.setFault(LIVE, { kind: "error_event" });
    expect(await probe.probeSession(LIVE)).toEqual({ kind: "live", asked: asked(LIVE) });
    await expectCleanShutdown();
  });

  it("leaves no timer or socket behind once the promise settles", async () => {
    await expectCleanShutdown();
    const handles = () =>
      process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap");
    const before = handles().length;
    sim.setFault("rtc_slow", { kind: "delay", ms: 3000 });
    const results = await Promise.all([
      probe.probeSession(LIVE),
      probe.probeSession(ENDED),
      fast.probeSession("rtc_slow"),
    ]);
    expect(results.map((r) => r.kind)).toEqual(["live", "gone", "error"]);
    await expectCleanShutdown();
    // The simulator drops its delayed handshake when the client hangs up; on a loaded machine that close
    // may arrive a little after the probe settled.
    await vi.waitFor(() => expect(handles().length).toBeLessThanOrEqual(before), { timeout: 5000 });
  });

  it("gone: unknown and ended sessions are refused with 404 call_id_not_found; the refusal's x-request-id kept", async () => {
    expect(await probe.probeSession(ENDED)).toEqual({ kind: "gone", asked: asked(ENDED) });
    expect(await probe.probeSession("rtc_never_existed")).toEqual({
      kind: "gone",
      asked: asked("rtc_never_existed"),
    });
    expect(sim.stats).toMatchObject({ refused404: 2, accepted: 0 });
    await expectCleanShutdown();
  });

  it("a 404 that is not call_id_not_found (wrong base URL) is an error, not gone", async () => {
    const wrong = createOpenAIProbe({ apiKey: KEY, baseUrl: `${sim.url}/oops`, timeoutMs: SLACK });
    expect(await wrong.probeSession(ENDED)).toMatchObject({
      kind: "error",
      reason: "bad_request",
      httpStatus: 404,
      asked: asked(ENDED),
    });
  });

  it("401: auth_failed, and the key never appears in the detail", async () => {
    const bad = createOpenAIProbe({ apiKey: "sk-wrong-key", baseUrl: sim.url, timeoutMs: SLACK });
    const result = await bad.probeSession(LIVE);
    expect(result).toMatchObject({
      kind: "error",
      reason: "auth_failed",
      httpStatus: 401,
      asked: asked(LIVE),
    });
    expect(JSON.stringify(result)).not.toContain("sk-wrong-key");
    await expectCleanShutdown();
  });

  it("429: rate_limited with Retry-After", async () => {
    sim.setFault(LIVE, { kind: "http", status: 429, retryAfterSeconds: 7, times: 1 });
    expect(await probe.probeSession(LIVE)).toMatchObject({
      kind: "error",
      reason: "rate_limited",
      httpStatus: 429,
      retryAfterMs: 7000,
    });
    expect(await probe.probeSession(LIVE)).toMatchObject({ kind: "live" });
    await expectCleanShutdown();
  });

  it("500: server_error", async () => {
    sim.setAccountFault({ kind: "http", status: 500 });
    expect(await probe.probeSession(LIVE)).toMatchObject({
      kind: "error",
      reason: "server_error",
      httpStatus: 500,
    });
  });

  it("handshake delayed beyond the timeout: timeout after timeoutMs, connection dropped, the id still named", async () => {
    sim.setFault(LIVE, { kind: "delay", ms: 3000 });
    const t0 = performance.now();
    const result = await fast.probeSession(LIVE);
    expect(result).toEqual({
      kind: "error",
      reason: "timeout",
      detail: `sideband handshake not completed within ${TIMEOUT} ms`,
      asked: { callId: LIVE },
    });
    // Not the handshake's 3 s: that would have answered live.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(TIMEOUT - 5);
    await vi.waitFor(async () => expect(await sim.connectionCount()).toBe(0));
  });

  it("frames after the 101 are never read: a garbage first frame is still live", async () => {
    sim.setFault(LIVE, { kind: "garbage" });
    expect(await probe.probeSession(LIVE)).toMatchObject({ kind: "live" });
    await expectCleanShutdown();
  });

  it.each(["", "abc", "rtc_", "rtc_a b", "RTC_abc", "call_123", `rtc_${"x".repeat(300)}`])(
    "bad id %j: bad_request without connecting",
    async (id) => {
      const answers = [await probe.probeSession(id), await probe.hangup(id)];
      for (const a of answers) {
        expect(a).toMatchObject({ kind: "error", reason: "bad_request" });
        expect(a).not.toHaveProperty("asked"); // nothing was asked
      }
      expect(sim.stats).toMatchObject({ handshakes: 0, hangups: 0 });
    },
  );

  it("an abort signal ends the probe at once; an aborted signal never connects", async () => {
    // A handshake and a timeout far past the test's own: only the abort can end this probe in time.
    sim.setFault(LIVE, { kind: "delay", ms: 600_000 });
    const slow = createOpenAIProbe({ apiKey: KEY, baseUrl: sim.url, timeoutMs: 600_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("shutdown")), 100);
    const result = await slow.probeSession(LIVE, ac.signal);
    expect(result).toMatchObject({ kind: "error", reason: "timeout", asked: { callId: LIVE } });
    if (result.kind === "error") expect(result.detail).toMatch(/aborted by the caller: shutdown/);
    await vi.waitFor(async () => expect(await sim.connectionCount()).toBe(0));
    sim.resetStats();
    expect(await slow.probeSession(LIVE, AbortSignal.abort())).toMatchObject({ reason: "timeout" });
    expect(sim.stats.handshakes).toBe(0);
  });

  it("many probes at once: right answers, nothing left open", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `rtc_bulk_${i}`);
    ids.forEach((callId, i) => {
      sim.upsertSession({ callId, live: i % 2 === 0 });
    });
    const results = await Promise.all(ids.map((id) => probe.probeSession(id)));
    expect(results.map((r) => r.kind)).toEqual(ids.map((_, i) => (i % 2 === 0 ? "live" : "gone")));
    await expectCleanShutdown();
  });

  it("connection refused: network", async () => {
    const gone = await startOpenAISimulator({ apiKey: KEY });
    await gone.close();
    const dead = createOpenAIProbe({ apiKey: KEY, baseUrl: gone.url, timeoutMs: SLACK });
    const result = await dead.probeSession(LIVE);
    expect(result).toMatchObject({ kind: "error", reason: "network", asked: { callId: LIVE } });
    expect(result.asked).not.toHaveProperty("requestId");
    if (result.kind === "error") expect(result.detail).toMatch(/ECONNREFUSED/);
  });

  it("hangup: live → hung_up, after which the probe says gone; again → already_gone", async () => {
    expect(await probe.hangup(LIVE)).toEqual({ kind: "hung_up", asked: asked(LIVE) });
    expect(await probe.probeSession(LIVE)).toEqual({ kind: "gone", asked: asked(LIVE) });
    expect(await probe.hangup(LIVE)).toEqual({ kind: "already_gone", asked: asked(LIVE) });
    expect(sim.stats.hangups).toBe(2);
  });
});

describe("hangup against nock", () => {
  const ORIGIN = "https://api.openai.test";
  const PATH = `/v1/realtime/calls/${LIVE}/hangup`;
  const errorBody = (code: string | null, message: string) => ({
    error: { message, type: "invalid_request_error", code, param: null },
  });
  let requests: number;

  beforeAll(() => {
    nock.activate();
    nock.disableNetConnect();
  });
  beforeEach(() => {
    requests = 0;
    probe = createOpenAIProbe({ apiKey: KEY, baseUrl: `${ORIGIN}/v1`, timeoutMs: 1000 });
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(() => {
    nock.enableNetConnect();
    nock.restore();
  });

  const reply = (status: number, body: unknown = "", headers: Record<string, string> = {}) =>
    nock(ORIGIN, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .post(PATH)
      .times(5)
      .reply(() => {
        requests++;
        return [status, body, headers];
      });

  it("200 → hung_up, with the answer's x-request-id (any case)", async () => {
    reply(200, "", { "X-Request-ID": "req_0123456789abcdef0123456789abcdef" });
    expect(await probe.hangup(LIVE)).toEqual({
      kind: "hung_up",
      asked: { callId: LIVE, requestId: "req_0123456789abcdef0123456789abcdef" },
    });
    expect(requests).toBe(1);
  });

  it("200 without x-request-id → hung_up naming the call only", async () => {
    reply(200);
    expect(await probe.hangup(LIVE)).toEqual({ kind: "hung_up", asked: { callId: LIVE } });
  });

  it("404 call_id_not_found → already_gone, with the error's x-request-id", async () => {
    reply(404, errorBody("call_id_not_found", "No session found for the provided call_id"), {
      "x-request-id": "req_404",
    });
    expect(await probe.hangup(LIVE)).toEqual({
      kind: "already_gone",
      asked: { callId: LIVE, requestId: "req_404" },
    });
  });

  it("404 with OpenAI's not-found message but no code → already_gone (the sideband's rule)", async () => {
    reply(404, errorBody(null, "No session found for the provided call_id"));
    expect(await probe.hangup(LIVE)).toEqual({ kind: "already_gone", asked: { callId: LIVE } });
  });

  it.each([
    ["an empty body", "", "malformed_response"],
    ["a proxy's HTML page", "<html><body>404 Not Found</body></html>", "malformed_response"],
    [
      "OpenAI's Invalid URL (a wrong OPENAI_BASE_URL)",
      errorBody(null, "Invalid URL (POST /v2/x)"),
      "bad_request",
    ],
    ["another error code", errorBody("model_not_found", "The model does not exist"), "bad_request"],
  ])("a 404 with %s is an error, never already_gone", async (_label, body, reason) => {
    reply(404, body, typeof body === "string" ? { "content-type": "text/html" } : {});
    const result = await probe.hangup(LIVE);
    expect(result).toMatchObject({ kind: "error", reason, httpStatus: 404 });
    expect(result.kind === "error" && result.detail).toMatch(
      /^hangup: HTTP 404.*does not prove the call ended/,
    );
    expect(requests).toBe(1);
  });

  it("500 → server_error after exactly one request (the SDK does not retry), with its x-request-id", async () => {
    reply(
      500,
      { error: { message: "boom", type: "server_error", code: null, param: null } },
      { "x-request-id": "req_500" },
    );
    expect(await probe.hangup(LIVE)).toMatchObject({
      kind: "error",
      reason: "server_error",
      httpStatus: 500,
      asked: { callId: LIVE, requestId: "req_500" },
    });
    expect(requests).toBe(1);
  });

  it("408 → timeout, like an answer that did not come in time, one request", async () => {
    reply(408, errorBody(null, "Request Timeout"));
    expect(await probe.hangup(LIVE)).toMatchObject({
      kind: "error",
      reason: "timeout",
      httpStatus: 408,
      asked: { callId: LIVE },
    });
    expect(requests).toBe(1);
  });

  it("429 → rate_limited with retry-after-ms, one request", async () => {
    reply(429, errorBody("rate_limit_exceeded", "slow down"), { "retry-after-ms": "2500" });
    expect(await probe.hangup(LIVE)).toMatchObject({
      reason: "rate_limited",
      httpStatus: 429,
      retryAfterMs: 2500,
    });
    expect(requests).toBe(1);
  });

  it("401 → auth_failed", async () => {
    reply(401, errorBody("invalid_api_key", "Incorrect API key provided: sk-pro***6789"));
    const result = await probe.hangup(LIVE);
    expect(result).toMatchObject({ reason: "auth_failed", httpStatus: 401 });
    expect(JSON.stringify(result)).not.toContain("sk-pro");
  });

  it("an error's code and message of 100,000 characters are copied bounded", async () => {
    reply(400, errorBody("c".repeat(100_000), "m".repeat(100_000)));
    const result = await probe.hangup(LIVE);
    expect(result).toMatchObject({ kind: "error", reason: "bad_request", httpStatus: 400 });
    expect(result.kind === "error" && result.detail.length).toBeLessThan(700);
  });

  it("a 200 whose JSON does not parse → malformed_response", async () => {
    reply(200, "{not json", { "content-type": "application/json" });
    expect(await probe.hangup(LIVE)).toMatchObject({ kind: "error", reason: "malformed_response" });
  });

  it("a slow answer → timeout after timeoutMs, one request", async () => {
    nock(ORIGIN)
      .post(PATH)
      .delay(3000)
      .reply(() => {
        requests++;
        return [200, ""];
      });
    // Not the answer 3 s later: that would have been hung_up.
    expect(await probe.hangup(LIVE)).toMatchObject({
      kind: "error",
      reason: "timeout",
      asked: { callId: LIVE },
    });
  });
});
