import { setTimeout as sleep } from "node:timers/promises";
import type { RealtimeSurface } from "../model/index.js";
import {
  bearer,
  callNotFound,
  faultReply,
  invalidUrl,
  liveSessionNotFound,
  modelsList,
  openaiError,
  type SimReply,
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

/** How an accepted sideband socket behaves: `normal` sends session.created. */
export type SocketMode = "normal" | "silent" | "garbage" | "error_event";

/** What the server needs of an accepted socket to end it when its call ends. */
export interface SessionSocket {
  close(code: number, reason: string): void;
}

/** The simulated account: sessions, faults, counters and what each request gets; openai-sim.ts owns the server. */
export interface OpenAISimState
  extends Pick<
    OpenAISimulator,
    "upsertSession" | "getSession" | "setLive" | "setFault" | "setAccountFault" | "handshakesFor"
  > {
  readonly stats: SimOpenAIStats;
  resetStats(): void;
  countHandshake(): void;
  /** A data frame a client sent on an accepted socket: a probe must never send any. */
  countClientFrame(): void;
  count(status: number): void;
  /** A refused handshake, by status: counted as a response too. */
  countRefusal(status: number): void;
  /** A refusal, or the accepted socket's mode (with the call id it is for). Delay faults wait here. */
  decideUpgrade(
    authorization: string | undefined,
    url: URL,
  ): Promise<SimReply | { mode: SocketMode; callId: string }>;
  /** The answer to an HTTP request (the hang-up); ends the session when it was live. */
  httpReply(method: string | undefined, authorization: string | undefined, url: URL): Promise<SimReply>;
  /** Counts an accepted socket until its `closed` is called; it is closed when its call ends. */
  socketOpened(callId: string, socket: SessionSocket): { closed(): void };
}

const HANGUP_RE = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/;
const ATTACH_RE = /^\/v1\/live\/sessions\/([^/]+)\/attach$/;

/** Which surface's sideband an upgrade asks, and for which call; null: neither path. */
function sidebandTarget(url: URL): { surface: RealtimeSurface; callId: string | null } | null {
  if (url.pathname === "/v1/realtime")
    return { surface: "realtime", callId: url.searchParams.get("call_id") };
  const attach = ATTACH_RE.exec(url.pathname);
  if (!attach?.[1]) return null;
  try {
    return { surface: "live", callId: decodeURIComponent(attach[1]) };
  } catch {
    return { surface: "live", callId: null };
  }
}

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

/** `closing` cuts pending delay faults short when the server closes. */
export function createOpenAISimState(opts: SimOpenAIOptions, closing: AbortSignal): OpenAISimState {
  const sessions = new Map<string, { live: boolean; surface: RealtimeSurface }>();
  const handshakesByCall = new Map<string, number>();
  const faults = new Map<string, FaultSlot>();
  const socketsByCall = new Map<string, Set<SessionSocket>>();
  let accountFault: FaultSlot | undefined;
  let stats = emptyStats();
  let openSockets = 0;

  function count(status: number): void {
    stats.responsesByStatus[status] = (stats.responsesByStatus[status] ?? 0) + 1;
  }

  function endSessionSockets(callId: string): void {
    for (const ws of socketsByCall.get(callId) ?? []) ws.close(1000, "call ended");
  }

  function upsertSession(session: SimRealtimeSession): void {
    const { callId, live, fault } = session;
    sessions.set(callId, { live, surface: session.surface ?? "realtime" });
    if (fault) faults.set(callId, slotFor(fault));
    if (!live) endSessionSockets(callId);
  }
  for (const s of opts.sessions ?? []) upsertSession(s);

  async function applyFault(fault: SimRealtimeFault | undefined): Promise<SimReply | SocketMode> {
    if (!fault) return "normal";
    switch (fault.kind) {
      case "http":
        return faultReply(fault.status, fault.retryAfterSeconds);
      case "delay":
        await sleep(fault.ms, undefined, { signal: closing });
        return "normal";
      case "silent":
      case "garbage":
      case "error_event":
        return fault.kind;
    }
  }

  return {
    get stats() {
      return { ...stats, openSockets, responsesByStatus: { ...stats.responsesByStatus } };
    },
    handshakesFor(callId) {
      return handshakesByCall.get(callId) ?? 0;
    },
    resetStats() {
      stats = emptyStats();
      handshakesByCall.clear();
      stats.maxConcurrentSockets = openSockets;
    },
    countHandshake() {
      stats.handshakes++;
    },
    countClientFrame() {
      stats.clientFramesReceived++;
    },
    count,
    countRefusal(status) {
      count(status);
      if (status === 404) stats.refused404++;
    },
    upsertSession,
    getSession(callId) {
      const s = sessions.get(callId);
      if (!s) return undefined;
      const fault = faults.get(callId)?.fault;
      return { callId, live: s.live, surface: s.surface, ...(fault ? { fault } : {}) };
    },
    setLive(callId, live) {
      const s = sessions.get(callId);
      if (s) s.live = live;
      else sessions.set(callId, { live, surface: "realtime" });
      if (!live) endSessionSockets(callId);
    },
    setFault(callId, fault) {
      if (fault) faults.set(callId, slotFor(fault));
      else faults.delete(callId);
    },
    setAccountFault(fault) {
      accountFault = fault ? slotFor(fault) : undefined;
    },

    async decideUpgrade(authorization, url) {
      const account = await applyFault(takeFault(accountFault));
      if (typeof account === "object") return account;
      const target = sidebandTarget(url);
      if (target === null || (target.surface === "live" && opts.liveSurface === false))
        return invalidUrl("GET", url.pathname);
      const absent = target.surface === "live" ? liveSessionNotFound : callNotFound;
      const key = bearer(authorization);
      if (key !== null && opts.otherProjectKeys?.includes(key)) return absent();
      if (key !== opts.apiKey) return unauthorized(key !== null);
      const callId = target.callId;
      if (!callId) {
        return openaiError(
          400,
          "Missing required parameter: 'call_id'.",
          "invalid_request_error",
          "missing_required_parameter",
        );
      }
      handshakesByCall.set(callId, (handshakesByCall.get(callId) ?? 0) + 1);
      const own = await applyFault(takeFault(faults.get(callId)));
      if (typeof own === "object") return own;
      // A broken server (silent, garbage) misbehaves whatever the session's state.
      const mode = own !== "normal" ? own : account;
      if (mode !== "normal") return { mode, callId };
      const session = sessions.get(callId);
      // A call accepted on one surface is unknown to the other one, as an ended call is.
      return session?.live && session.surface === target.surface ? { mode: "normal", callId } : absent();
    },

    async httpReply(method, authorization, url) {
      const match = HANGUP_RE.exec(url.pathname);
      if (match) stats.hangups++;
      const account = await applyFault(takeFault(accountFault));
      if (typeof account === "object") return account;
      const key = bearer(authorization);
      if (key !== opts.apiKey) return unauthorized(key !== null);
      if (method === "GET" && url.pathname === "/v1/models") return modelsList();
      if (!match?.[1] || method !== "POST") return invalidUrl(method ?? "GET", url.pathname);
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
    },

    socketOpened(callId, socket) {
      stats.accepted++;
      openSockets++;
      stats.maxConcurrentSockets = Math.max(stats.maxConcurrentSockets, openSockets);
      const set = socketsByCall.get(callId) ?? new Set<SessionSocket>();
      socketsByCall.set(callId, set);
      set.add(socket);
      return {
        closed() {
          openSockets--;
          set.delete(socket);
          if (set.size === 0) socketsByCall.delete(callId);
        },
      };
    },
  };
}
