import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createOpenAIProbe, sidebandUrl } from "../../src/providers/openai.js";
import { classifyRefusal, classifyWsError } from "../../src/providers/openai-classify.js";

// The sideband's URL, its pure classifier, and hand-written servers: what a 101 alone proves, and the
// close-handshake fallback. No nock here: nothing to mock.
const KEY = "sk-probe-test-key-0123456789";
const LIVE = "rtc_u1_9c6574da8b8a41a18da9308f4ad974ce";

describe("sidebandUrl", () => {
  it.each(["http://127.0.0.1:9/v1", "https://127.0.0.1:9/v1/", "http://127.0.0.1:9/proxy/openai/v1"])(
    "matches OpenAIRealtimeWS's URL for %s, except that http maps to ws",
    async (baseURL) => {
      const id = "rtc_a+b&c=d/e%f é";
      const client = new OpenAI({ apiKey: KEY, baseURL });
      const rt = new OpenAIRealtimeWS({ callID: id }, client);
      rt.on("error", () => {});
      rt.socket.terminate();
      const sdk = new URL(rt.url);
      const ours = sidebandUrl(baseURL, id);
      expect(sdk.protocol).toBe("wss:"); // the SDK always forces wss
      expect(ours.protocol).toBe(baseURL.startsWith("https:") ? "wss:" : "ws:");
      sdk.protocol = ours.protocol;
      expect(ours.href).toBe(sdk.href);
      expect(ours.searchParams.get("call_id")).toBe(id);
    },
  );
});

describe("classifiers", () => {
  it("a 404 is gone only with call_id_not_found (or its message)", () => {
    const gone =
      '{"error":{"message":"x","type":"invalid_request_error","code":"call_id_not_found","param":null}}';
    expect(classifyRefusal(404, {}, gone)).toEqual({ kind: "gone" });
    const byMessage = '{"error":{"message":"No session found for the provided call_id","code":null}}';
    expect(classifyRefusal(404, {}, byMessage)).toEqual({ kind: "gone" });
    const invalidUrl =
      '{"error":{"message":"Invalid URL (GET /v1/realtime)","type":"invalid_request_error"}}';
    expect(classifyRefusal(404, {}, invalidUrl)).toMatchObject({ kind: "error", reason: "bad_request" });
    for (const body of ["", "<html>404</html>", '{"error":"call_id_not_found"}']) {
      expect(classifyRefusal(404, {}, body)).toMatchObject({ reason: "malformed_response", httpStatus: 404 });
    }
    expect(classifyRefusal(410, {}, gone)).toMatchObject({ kind: "error", reason: "bad_request" });
  });

  it("maps statuses and never echoes an auth error's message", () => {
    const auth = '{"error":{"message":"Incorrect API key provided: sk-abc***xyz","code":"invalid_api_key"}}';
    const e401 = classifyRefusal(401, {}, auth);
    expect(e401).toMatchObject({ reason: "auth_failed", httpStatus: 401 });
    expect(JSON.stringify(e401)).not.toContain("sk-abc");
    expect(classifyRefusal(403, {}, "")).toMatchObject({ reason: "auth_failed" });
    expect(classifyRefusal(408, {}, "")).toMatchObject({ reason: "timeout" });
    expect(classifyRefusal(502, {}, "")).toMatchObject({ reason: "server_error" });
    expect(classifyRefusal(400, {}, "")).toMatchObject({ reason: "bad_request" });
  });

  it("copies an error's code, type and message bounded, however long they are", () => {
    const long = (c: string) => c.repeat(60_000);
    const body = JSON.stringify({ error: { message: long("m"), type: long("t"), code: long("c") } });
    for (const status of [400, 401, 404, 429, 500]) {
      const e = classifyRefusal(status, {}, body);
      expect(e.kind === "error" && e.detail.length, `HTTP ${status}`).toBeLessThan(700);
    }
    const ws = classifyWsError(new Error(`Invalid ${"x".repeat(100_000)}`));
    expect(ws).toMatchObject({ reason: "malformed_response" });
    expect(ws.detail.length).toBeLessThan(300);
  });
});

/** Sends a text frame (unmasked, as a server does) of up to 125 bytes. */
const textFrame = (text: string) => {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
};
const CLOSE_1011 = Buffer.from([0x88, 0x02, 0x03, 0xf3]);

/**
 * What the hand-written server does once it has answered the handshake with a 101: OpenAI's sideband may
 * send nothing (a control socket on an existing call), or an error event and close; and a peer may never
 * answer the close handshake.
 */
type AfterUpgrade = "session_created_ignoring_close" | "nothing" | "error_event_then_close";

describe("probeSession against hand-written WebSocket servers", () => {
  let server: Server;
  let after: AfterUpgrade = "nothing";
  const sockets = new Set<Socket>();
  let closedByClient = 0;
  let dataFramesFromClient = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        closedByClient++;
      });
      socket.once("data", (chunk) => {
        const key = /sec-websocket-key:\s*(\S+)/i.exec(chunk.toString())?.[1] ?? "";
        const accept = createHash("sha1")
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest("base64");
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept}\r\nX-Request-Id: req_raw_101\r\n\r\n`,
        );
        // Every later client frame: opcode 0x8 is the close; anything else would be a data frame.
        socket.on("data", (frame) => {
          if (((frame[0] ?? 0) & 0x0f) !== 0x8) dataFramesFromClient++;
          else if (after !== "session_created_ignoring_close") socket.end();
        });
        if (after === "session_created_ignoring_close") {
          socket.write(textFrame('{"type":"session.created","event_id":"event_1","session":{}}'));
        } else if (after === "error_event_then_close") {
          socket.write(
            textFrame('{"type":"error","error":{"type":"server_error","code":null,"message":"x"}}'),
          );
          socket.end(CLOSE_1011);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const probeWith = (timeoutMs: number, closeGraceMs: number) =>
    createOpenAIProbe({
      apiKey: KEY,
      baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
      timeoutMs,
      closeGraceMs,
    });
  const LIVE_ANSWER = { kind: "live", asked: { callId: LIVE, requestId: "req_raw_101" } };

  it("a 101 and then nothing: live at once (no first event awaited), x-request-id read from the 101", async () => {
    after = "nothing";
    closedByClient = 0;
    // A timeout far past the test's own: a probe that awaited a first event would hang the test.
    expect(await probeWith(600_000, 1000).probeSession(LIVE)).toEqual(LIVE_ANSWER);
    await vi.waitFor(() => expect(closedByClient).toBe(1));
    expect(dataFramesFromClient).toBe(0);
  });

  it("a 101, then an error event and a close 1011: still live (the handshake proved the call exists)", async () => {
    after = "error_event_then_close";
    closedByClient = 0;
    expect(await probeWith(5000, 1000).probeSession(LIVE)).toEqual(LIVE_ANSWER);
    await vi.waitFor(() => expect(closedByClient).toBe(1));
    expect(dataFramesFromClient).toBe(0);
  });

  it("a peer that ignores the close handshake: still live, the socket destroyed after closeGraceMs", async () => {
    after = "session_created_ignoring_close";
    closedByClient = 0;
    // Until the close grace, never the timeout: that one is far past the test's own and would hang it.
    const t0 = performance.now();
    expect(await probeWith(600_000, 150).probeSession(LIVE)).toEqual(LIVE_ANSWER);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await vi.waitFor(() => expect(closedByClient).toBe(1));
    expect(dataFramesFromClient).toBe(0);
  });
});
