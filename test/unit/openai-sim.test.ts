import type { IncomingHttpHeaders } from "node:http";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { checkOpenAIKey } from "../../src/providers/openai-credentials.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";

const KEY = "sk-sim-test-key";
const LIVE = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";
const ENDED = "rtc_u1_00000000000000000000000000000000";
const NOT_FOUND_BODY =
  '{"error":{"message":"No session found for the provided call_id","type":"invalid_request_error","code":"call_id_not_found","param":null}}';

let sim: OpenAISimulator;

type Handshake =
  | { kind: "refused"; status: number; headers: IncomingHttpHeaders; body: string }
  | {
      kind: "open";
      ws: WebSocket;
      /** The 101's headers. */
      headers: IncomingHttpHeaders;
      first: Promise<{ text: string; isBinary: boolean } | null>;
    };

/** Opens a raw sideband connection; an accepted socket is left open for the test to inspect and close. */
function handshake(
  query: string,
  auth: string | null = `Bearer ${KEY}`,
  path = "/realtime",
): Promise<Handshake> {
  const wsUrl = `${sim.url.replace(/^http/, "ws")}${path}${query}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, auth ? { headers: { Authorization: auth } } : {});
    ws.on("error", () => {});
    ws.on("close", () => reject(new Error("closed before a handshake outcome")));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => {
        resolve({ kind: "refused", status: res.statusCode ?? 0, headers: res.headers, body });
        ws.terminate();
      });
    });
    let upgradeHeaders: IncomingHttpHeaders = {};
    ws.on("upgrade", (res) => {
      upgradeHeaders = res.headers;
    });
    ws.on("open", () => {
      const first = new Promise<{ text: string; isBinary: boolean } | null>((done) => {
        ws.once("message", (data, isBinary) => done({ text: data.toString(), isBinary }));
        ws.once("close", () => done(null));
      });
      resolve({ kind: "open", ws, headers: upgradeHeaders, first });
    });
    setTimeout(() => reject(new Error("handshake did not finish")), 5000).unref();
  });
}

async function closeSocket(h: Handshake): Promise<void> {
  if (h.kind !== "open" || h.ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    h.ws.once("close", () => resolve());
    h.ws.close(1000);
  });
}

const withinMs = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"pending">((r) => setTimeout(() => r("pending"), ms))]);

function hangup(callId: string, auth = `Bearer ${KEY}`, method = "POST") {
  return fetch(`${sim.url}/realtime/calls/${encodeURIComponent(callId)}/hangup`, {
    method,
    headers: { Authorization: auth },
  });
}

beforeEach(async () => {
  sim = await startOpenAISimulator({
    apiKey: KEY,
    sessions: [
      { callId: LIVE, live: true },
      { callId: ENDED, live: false },
    ],
  });
});
afterEach(async () => {
  await sim.close();
});

describe("OpenAI simulator: sideband handshake", () => {
  it("serves at http://127.0.0.1:PORT/v1", () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it("accepts a live session and sends session.created first", async () => {
    const h = await handshake(`?call_id=${LIVE}`);
    expect(h.kind).toBe("open");
    if (h.kind !== "open") return;
    const first = await h.first;
    expect(first?.isBinary).toBe(false);
    const event = JSON.parse(first?.text ?? "null");
    expect(event).toMatchObject({ type: "session.created", session: { object: "realtime.session" } });
    expect(event.event_id).toMatch(/^event_/);
    await closeSocket(h);
    expect(sim.stats).toMatchObject({ handshakes: 1, accepted: 1, clientFramesReceived: 0 });
    expect(sim.stats.responsesByStatus).toEqual({ 101: 1 });
  });

  it("sends x-request-id (req_…) on the 101, as on every other answer, a new one each time", async () => {
    const a = await handshake(`?call_id=${LIVE}`);
    const b = await handshake(`?call_id=${LIVE}`);
    const refused = await handshake(`?call_id=${ENDED}`);
    const ids = [a, b, refused].map((h) => h.headers["x-request-id"]);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(3);
    await closeSocket(a);
    await closeSocket(b);
  });

  it.each([
    ["unknown", "rtc_unknown"],
    ["ended", ENDED],
  ])("refuses an %s session with 404 and OpenAI's exact body", async (_label, id) => {
    const h = await handshake(`?call_id=${id}`);
    expect(h).toMatchObject({ kind: "refused", status: 404, body: NOT_FOUND_BODY });
    if (h.kind !== "refused") return;
    expect(h.headers["content-type"]).toBe("application/json");
    expect(h.headers["content-length"]).toBe(String(Buffer.byteLength(NOT_FOUND_BODY)));
    expect(sim.stats).toMatchObject({ handshakes: 1, accepted: 0, refused404: 1 });
  });

  it("refuses a missing or wrong Bearer key with 401 and OpenAI's error JSON", async () => {
    const none = await handshake(`?call_id=${LIVE}`, null);
    const wrong = await handshake(`?call_id=${LIVE}`, "Bearer sk-wrong");
    const basic = await handshake(`?call_id=${LIVE}`, `Basic ${Buffer.from(`x:${KEY}`).toString("base64")}`);
    for (const h of [none, wrong, basic]) expect(h).toMatchObject({ kind: "refused", status: 401 });
    if (wrong.kind !== "refused") return;
    expect(JSON.parse(wrong.body).error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_api_key",
    });
    expect(sim.stats.responsesByStatus).toEqual({ 401: 3 });
  });

  it("answers an unknown path with OpenAI's Invalid URL 404 and a missing call_id with 400", async () => {
    const path = await handshake(`?call_id=${LIVE}`, `Bearer ${KEY}`, "/realtimex");
    expect(path).toMatchObject({ kind: "refused", status: 404 });
    if (path.kind === "refused") expect(JSON.parse(path.body).error.message).toMatch(/^Invalid URL/);
    expect(await handshake("")).toMatchObject({ kind: "refused", status: 400 });
  });

  it("decodes the call id from the query string", async () => {
    const odd = "rtc_a+b&c=d/e%f";
    sim.upsertSession({ callId: odd, live: true });
    const h = await handshake(`?call_id=${encodeURIComponent(odd)}`);
    expect(h.kind).toBe("open");
    await closeSocket(h);
  });

  it("counts frames sent by a client and tracks concurrent sockets", async () => {
    const hs = await Promise.all([1, 2, 3].map(() => handshake(`?call_id=${LIVE}`)));
    expect(sim.stats).toMatchObject({ openSockets: 3, maxConcurrentSockets: 3 });
    const [first] = hs;
    if (first?.kind === "open") first.ws.send(JSON.stringify({ type: "session.update" }));
    await vi.waitFor(() => expect(sim.stats.clientFramesReceived).toBe(1));
    await Promise.all(hs.map(closeSocket));
    await vi.waitFor(() => expect(sim.stats.openSockets).toBe(0));
    sim.resetStats();
    expect(sim.stats).toMatchObject({ handshakes: 0, clientFramesReceived: 0, maxConcurrentSockets: 0 });
  });

  it("closes the open sideband sockets of a session that ends", async () => {
    const h = await handshake(`?call_id=${LIVE}`);
    if (h.kind !== "open") throw new Error("expected an open socket");
    await h.first;
    const code = new Promise<number>((r) => h.ws.once("close", (c) => r(c)));
    sim.setLive(LIVE, false);
    expect(await code).toBe(1000);
    expect(await handshake(`?call_id=${LIVE}`)).toMatchObject({ kind: "refused", status: 404 });
  });
});

describe("OpenAI simulator: the model list, the key's one cheap read", () => {
  it("answers a good key with the list and a wrong or missing one with OpenAI's 401", async () => {
    const opts = { baseUrl: sim.url, timeoutMs: 2000 };
    expect(await checkOpenAIKey({ ...opts, apiKey: KEY })).toEqual({ kind: "accepted", models: 1 });
    expect(await checkOpenAIKey({ ...opts, apiKey: "sk-wrong" })).toMatchObject({
      kind: "rejected",
      detail: expect.stringMatching(/Incorrect API key/),
    });
    const anonymous = await fetch(`${sim.url}/models`);
    expect(anonymous.status).toBe(401);
    const post = await fetch(`${sim.url}/models`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}` },
    });
    expect(post.status).toBe(404);
  });
});

describe("OpenAI simulator: hangup", () => {
  it("hangs up a live call (200, empty body), which then is gone", async () => {
    const res = await hangup(LIVE);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(await res.text()).toBe("");
    expect(sim.getSession(LIVE)?.live).toBe(false);
    expect(await handshake(`?call_id=${LIVE}`)).toMatchObject({
      kind: "refused",
      status: 404,
      body: NOT_FOUND_BODY,
    });
    const again = await hangup(LIVE);
    expect(again.status).toBe(404);
    expect(again.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(await again.json()).toMatchObject({ error: { code: "call_id_not_found" } });
    expect(sim.stats).toMatchObject({ hangups: 2 });
  });

  it("answers 404 for unknown and ended calls, 401 for a wrong key, 404 Invalid URL for GET", async () => {
    expect((await hangup("rtc_nope")).status).toBe(404);
    expect((await hangup(ENDED)).status).toBe(404);
    expect((await hangup(LIVE, "Bearer sk-wrong")).status).toBe(401);
    const get = await hangup(LIVE, `Bearer ${KEY}`, "GET");
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({
      error: { message: expect.stringMatching(/^Invalid URL \(GET /) },
    });
    expect(sim.getSession(LIVE)?.live).toBe(true);
  });
});

describe("OpenAI simulator: faults", () => {
  it("http fault with times: refuses N handshakes with Retry-After, then answers normally", async () => {
    sim.setFault(LIVE, { kind: "http", status: 429, retryAfterSeconds: 3, times: 2 });
    for (let i = 0; i < 2; i++) {
      const h = await handshake(`?call_id=${LIVE}`);
      expect(h).toMatchObject({ kind: "refused", status: 429 });
      if (h.kind === "refused") {
        expect(h.headers["retry-after"]).toBe("3");
        expect(JSON.parse(h.body).error.code).toBe("rate_limit_exceeded");
      }
    }
    const ok = await handshake(`?call_id=${LIVE}`);
    expect(ok.kind).toBe("open");
    await closeSocket(ok);
  });

  it("silent: accepts but never sends session.created, once", async () => {
    sim.setFault(LIVE, { kind: "silent", times: 1 });
    const quiet = await handshake(`?call_id=${LIVE}`);
    if (quiet.kind !== "open") throw new Error("expected an open socket");
    expect(await withinMs(quiet.first, 250)).toBe("pending");
    await closeSocket(quiet);
    const normal = await handshake(`?call_id=${LIVE}`);
    if (normal.kind !== "open") throw new Error("expected an open socket");
    expect(JSON.parse((await normal.first)?.text ?? "null").type).toBe("session.created");
    await closeSocket(normal);
  });

  it("error_event: accepts, sends an error event instead of session.created, and closes with 1011", async () => {
    sim.setFault(LIVE, { kind: "error_event", times: 1 });
    const h = await handshake(`?call_id=${LIVE}`);
    if (h.kind !== "open") throw new Error("expected an open socket");
    const code = new Promise<number>((r) => h.ws.once("close", (c) => r(c)));
    const first = await h.first;
    expect(JSON.parse(first?.text ?? "null")).toMatchObject({
      type: "error",
      error: { type: "server_error" },
    });
    expect(await code).toBe(1011);
    await vi.waitFor(() => expect(sim.stats.openSockets).toBe(0));
    expect(sim.stats.responsesByStatus).toEqual({ 101: 1 });
  });

  it("garbage: sends a non-JSON text frame", async () => {
    sim.setFault(LIVE, { kind: "garbage" });
    const h = await handshake(`?call_id=${LIVE}`);
    if (h.kind !== "open") throw new Error("expected an open socket");
    const first = await h.first;
    expect(() => JSON.parse(first?.text ?? "")).toThrow();
    await closeSocket(h);
  });

  it("delay: answers after the delay; setFault(undefined) clears it", async () => {
    sim.setFault(ENDED, { kind: "delay", ms: 800 });
    const t0 = performance.now();
    expect(await handshake(`?call_id=${ENDED}`)).toMatchObject({ kind: "refused", status: 404 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(790);
    // Cleared, a delay far past the test's own timeout no longer applies: the handshake answers.
    sim.setFault(ENDED, { kind: "delay", ms: 600_000 });
    sim.setFault(ENDED, undefined);
    expect(await handshake(`?call_id=${ENDED}`)).toMatchObject({ kind: "refused", status: 404 });
  });

  it("account fault applies to handshakes and hang-ups, before auth, and runs out", async () => {
    sim.setAccountFault({ kind: "http", status: 503, times: 2 });
    expect(await handshake(`?call_id=${LIVE}`, "Bearer sk-wrong")).toMatchObject({
      kind: "refused",
      status: 503,
    });
    expect((await hangup(LIVE)).status).toBe(503);
    expect(sim.getSession(LIVE)?.live).toBe(true);
    expect((await hangup(LIVE)).status).toBe(200);
  });

  it("close() terminates open sockets and pending delays without hanging", async () => {
    const open = await handshake(`?call_id=${LIVE}`);
    if (open.kind !== "open") throw new Error("expected an open socket");
    // A delay far past the test's own timeout: a close that waited for it would hang the test.
    sim.setFault(ENDED, { kind: "delay", ms: 600_000 });
    const delayed = handshake(`?call_id=${ENDED}`).catch(() => null);
    await vi.waitFor(() => expect(sim.stats.handshakes).toBe(2));
    const closed = new Promise<void>((r) => open.ws.once("close", () => r()));
    await sim.close();
    await closed;
    await delayed;
  });
});
