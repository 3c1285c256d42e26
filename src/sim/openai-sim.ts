import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { type WebSocket, WebSocketServer } from "ws";
import { listenLocal } from "./listen.js";
import {
  bearer,
  callNotFound,
  faultReply,
  invalidUrl,
  openaiError,
  refuseUpgrade,
  type SimReply,
  sendReply,
  sessionCreated,
  unauthorized,
} from "./openai-sim-http.js";
import {
  type FaultSlot,
  type OpenAISimulator,
  type SimOpenAIOptions,
  type SimOpenAIStats,
  type SimRealtimeFault,
  type SimRealtimeSession,
  slotFor,
  takeFault,
} from "./openai-sim-types.js";

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

const HANGUP_RE = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/;
type SocketMode = "normal" | "silent" | "garbage";

const emptyStats = (): SimOpenAIStats => ({
  handshakes: 0,
  accepted: 0,
  refused404: 0,
  hangups: 0,
  clientFramesReceived: 0,
  responsesByStatus: {},
  openSockets: 0,
  maxConcurrentSockets: 0,
});

export async function startOpenAISimulator(
  opts: SimOpenAIOptions,
  listen: { host?: string; port?: number } = {},
): Promise<OpenAISimulator> {
  const sessions = new Map<string, { live: boolean }>();
  const faults = new Map<string, FaultSlot>();
  const socketsByCall = new Map<string, Set<WebSocket>>();
  const pendingUpgrades = new Set<Duplex>();
  let accountFault: FaultSlot | undefined;
  let stats = emptyStats();
  let openSockets = 0;
  const closing = new AbortController();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const count = (status: number) => {
    stats.responsesByStatus[status] = (stats.responsesByStatus[status] ?? 0) + 1;
  };

  function endSessionSockets(callId: string): void {
    for (const ws of socketsByCall.get(callId) ?? []) ws.close(1000, "call ended");
  }

  function upsertSession(session: SimRealtimeSession): void {
    const { callId, live, fault } = session;
    sessions.set(callId, { live });
    if (fault) faults.set(callId, slotFor(fault));
    if (!live) endSessionSockets(callId);
  }
  for (const s of opts.sessions ?? []) upsertSession(s);

  /** A reply to send, or how to behave once the socket is accepted. Delay faults wait here. */
  async function applyFault(fault: SimRealtimeFault | undefined): Promise<SimReply | SocketMode> {
    if (!fault) return "normal";
    switch (fault.kind) {
      case "http":
        return faultReply(fault.status, fault.retryAfterSeconds);
      case "delay":
        await sleep(fault.ms, undefined, { signal: closing.signal });
        return "normal";
      case "silent":
      case "garbage":
        return fault.kind;
    }
  }

  /** Decides the upgrade: a refusal, or the accepted socket's mode. */
  async function decideUpgrade(req: IncomingMessage, url: URL): Promise<SimReply | SocketMode> {
    const account = await applyFault(takeFault(accountFault));
    if (typeof account === "object") return account;
    if (url.pathname !== "/v1/realtime") return invalidUrl("GET", url.pathname);
    const key = bearer(req.headers.authorization);
    if (key !== opts.apiKey) return unauthorized(key !== null);
    const callId = url.searchParams.get("call_id");
    if (!callId) {
      return openaiError(
        400,
        "Missing required parameter: 'call_id'.",
        "invalid_request_error",
        "missing_required_parameter",
      );
    }
    const own = await applyFault(takeFault(faults.get(callId)));
    if (typeof own === "object") return own;
    // A broken server (silent, garbage) misbehaves whatever the session's state.
    const mode = own !== "normal" ? own : account;
    if (mode !== "normal") return mode;
    return sessions.get(callId)?.live ? "normal" : callNotFound();
  }

  function accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callId: string,
    mode: SocketMode,
  ): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.accepted++;
      count(101);
      openSockets++;
      stats.maxConcurrentSockets = Math.max(stats.maxConcurrentSockets, openSockets);
      const set = socketsByCall.get(callId) ?? new Set<WebSocket>();
      socketsByCall.set(callId, set);
      set.add(ws);
      ws.on("error", () => {});
      ws.on("message", () => {
        stats.clientFramesReceived++;
      });
      ws.on("close", () => {
        openSockets--;
        set.delete(ws);
        if (set.size === 0) socketsByCall.delete(callId);
      });
      if (mode === "garbage") ws.send("<html><body>502 Bad Gateway</body></html> {not json");
      else if (mode === "normal") ws.send(sessionCreated());
    });
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    stats.handshakes++;
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    let decision: SimReply | SocketMode;
    try {
      decision = await decideUpgrade(req, url);
    } catch {
      socket.destroy(); // closing: a delay was cut short
      return;
    }
    if (socket.destroyed) return; // the client gave up while we were delaying
    if (typeof decision === "object") {
      if (refuseUpgrade(socket, decision)) {
        count(decision.status);
        if (decision.status === 404) stats.refused404++;
      }
      return;
    }
    socket.off("end", destroyOnEnd);
    accept(req, socket, head, url.searchParams.get("call_id") ?? "", decision);
  }

  async function hangupReply(req: IncomingMessage, url: URL): Promise<SimReply> {
    const match = HANGUP_RE.exec(url.pathname);
    if (match) stats.hangups++;
    const account = await applyFault(takeFault(accountFault));
    if (typeof account === "object") return account;
    const key = bearer(req.headers.authorization);
    if (key !== opts.apiKey) return unauthorized(key !== null);
    if (!match?.[1] || req.method !== "POST") return invalidUrl(req.method ?? "GET", url.pathname);
    let callId: string;
    try {
      callId = decodeURIComponent(match[1]);
    } catch {
      return callNotFound();
    }
    const session = sessions.get(callId);
    if (!session?.live) return callNotFound();
    session.live = false;
    endSessionSockets(callId);
    return { status: 200, body: "" };
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    let reply: SimReply;
    try {
      reply = await hangupReply(req, url);
    } catch {
      res.destroy(); // closing: a delay was cut short
      return;
    }
    if (reply.status === 200 && reply.body === "") {
      // OpenAI answers a hang-up with an empty 200: no JSON content type, or the SDK would try to parse it.
      if (res.destroyed) return;
      res.writeHead(200, { "Content-Length": "0" });
      res.end();
      count(200);
      return;
    }
    if (sendReply(res, reply)) count(reply.status);
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
      return { ...stats, openSockets, responsesByStatus: { ...stats.responsesByStatus } };
    },
    resetStats() {
      stats = emptyStats();
      stats.maxConcurrentSockets = openSockets;
    },
    upsertSession,
    getSession(callId) {
      const s = sessions.get(callId);
      if (!s) return undefined;
      const fault = faults.get(callId)?.fault;
      return { callId, live: s.live, ...(fault ? { fault } : {}) };
    },
    setLive(callId, live) {
      const s = sessions.get(callId);
      if (s) s.live = live;
      else sessions.set(callId, { live });
      if (!live) endSessionSockets(callId);
    },
    setFault(callId, fault) {
      if (fault) faults.set(callId, slotFor(fault));
      else faults.delete(callId);
    },
    setAccountFault(fault) {
      accountFault = fault ? slotFor(fault) : undefined;
    },
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
