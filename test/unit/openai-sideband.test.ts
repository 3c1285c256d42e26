import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createOpenAIProbe, sidebandUrl } from "../../src/providers/openai.js";
import { classifyFirstFrame, classifyRefusal } from "../../src/providers/openai-classify.js";

// The sideband's URL, its pure classifiers, and the close-handshake fallback. No nock here: nothing to mock.
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
  it("only session.created proves liveness", () => {
    expect(classifyFirstFrame(Buffer.from('{"type":"session.created","session":{}}'), false)).toEqual({
      kind: "live",
    });
    for (const frame of ['{"type":"session.updated"}', "[]", "null", '"x"', "{", ""]) {
      expect(classifyFirstFrame(Buffer.from(frame), false)).toMatchObject({ reason: "malformed_response" });
    }
    expect(classifyFirstFrame(Buffer.from('{"type":"session.created"}'), true)).toMatchObject({
      reason: "malformed_response",
    });
    const errorEvent = '{"type":"error","error":{"type":"server_error","code":null,"message":"boom"}}';
    expect(classifyFirstFrame(Buffer.from(errorEvent), false)).toMatchObject({ reason: "server_error" });
  });

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
});

describe("probeSession against a server that ignores the close handshake", () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let closedByClient = 0;

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
        const event = Buffer.from('{"type":"session.created","event_id":"event_1","session":{}}');
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        socket.write(Buffer.concat([Buffer.from([0x81, event.length]), event])); // never answers the close frame
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("still answers live and destroys the socket after closeGraceMs", async () => {
    const address = server.address() as { port: number };
    const p = createOpenAIProbe({
      apiKey: KEY,
      baseUrl: `http://127.0.0.1:${address.port}/v1`,
      timeoutMs: 2000,
      closeGraceMs: 150,
    });
    const t0 = performance.now();
    expect(await p.probeSession(LIVE)).toEqual({ kind: "live" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(performance.now() - t0).toBeLessThan(1500);
    await vi.waitFor(() => expect(closedByClient).toBe(1));
  });
});
