import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { listenLocal } from "./listen.js";
import {
  refuseUpgrade,
  requestIdHeader,
  type SimReply,
  sendReply,
  serverErrorEvent,
  sessionCreated,
} from "./openai-sim-http.js";
import { createOpenAISimState, type SocketMode } from "./openai-sim-state.js";
import type { OpenAISimulator, SimOpenAIOptions } from "./openai-sim-types.js";

export type {
  OpenAISimulator,
  SimOpenAIOptions,
  SimOpenAIStats,
  SimRealtimeFault,
  SimRealtimeSession,
} from "./openai-sim-types.js";

function destroyOnEnd(this: Duplex): void {
  this.destroy();
}

/** The HTTP server and WebSocket upgrades in front of the simulated account (openai-sim-state.ts). */
export async function startOpenAISimulator(
  opts: SimOpenAIOptions,
  listen: { host?: string; port?: number } = {},
): Promise<OpenAISimulator> {
  const closing = new AbortController();
  const state = createOpenAISimState(opts, closing.signal);
  const pendingUpgrades = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // The 101 carries OpenAI's request id like every other answer.
  wss.on("headers", (headers) => {
    for (const [name, value] of Object.entries(requestIdHeader())) headers.push(`${name}: ${value}`);
  });

  function accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callId: string,
    mode: SocketMode,
  ): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tracked = state.socketOpened(callId, ws);
      state.count(101);
      ws.on("error", () => {});
      ws.on("message", () => {
        state.countClientFrame();
      });
      ws.on("close", () => tracked.closed());
      if (mode === "garbage") ws.send("<html><body>502 Bad Gateway</body></html> {not json");
      else if (mode === "error_event") {
        ws.send(serverErrorEvent());
        ws.close(1011, "server error");
      } else if (mode === "normal") ws.send(sessionCreated());
    });
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    state.countHandshake();
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    let decision: Awaited<ReturnType<typeof state.decideUpgrade>>;
    try {
      decision = await state.decideUpgrade(req.headers.authorization, url);
    } catch {
      socket.destroy(); // closing: a delay was cut short
      return;
    }
    if (socket.destroyed) return; // the client gave up while we were delaying
    if ("status" in decision) {
      if (refuseUpgrade(socket, decision)) state.countRefusal(decision.status);
      return;
    }
    socket.off("end", destroyOnEnd);
    accept(req, socket, head, decision.callId, decision.mode);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    let reply: SimReply;
    try {
      reply = await state.httpReply(req.method, req.headers.authorization, url);
    } catch {
      res.destroy(); // closing: a delay was cut short
      return;
    }
    if (reply.status === 200 && reply.body === "") {
      // OpenAI answers a hang-up with an empty 200: no JSON content type, or the SDK would try to parse it.
      if (res.destroyed) return;
      res.writeHead(200, { "Content-Length": "0", ...requestIdHeader() });
      res.end();
      state.count(200);
      return;
    }
    if (sendReply(res, reply)) state.count(reply.status);
  }

  const server = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    void onRequest(req, res);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    // http.Server is half-open: a client that gives up mid-delay would otherwise linger until we answer.
    socket.once("end", destroyOnEnd);
    pendingUpgrades.add(socket);
    socket.once("close", () => pendingUpgrades.delete(socket));
    void onUpgrade(req, socket, head);
  });
  const url = `${await listenLocal(server, listen)}/v1`;

  let closed: Promise<void> | undefined;
  return {
    url,
    get stats() {
      return state.stats;
    },
    resetStats: state.resetStats,
    handshakesFor: state.handshakesFor,
    upsertSession: state.upsertSession,
    getSession: state.getSession,
    setLive: state.setLive,
    setFault: state.setFault,
    setAccountFault: state.setAccountFault,
    connectionCount() {
      return new Promise((resolve, reject) =>
        server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        for (const ws of wss.clients) ws.terminate();
        for (const socket of pendingUpgrades) socket.destroy();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
