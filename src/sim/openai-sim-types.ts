import type { RealtimeSurface } from "../model/index.js";

export type SimRealtimeFault =
  /** Refuses the handshake (or a hang-up) with this status and OpenAI's error JSON. `times`: first N only. */
  | { kind: "http"; status: number; retryAfterSeconds?: number; times?: number }
  /**
   * Accepts the socket but never sends session.created (sockets only): public reports say a control socket on
   * an existing call may receive none.
   */
  | { kind: "silent"; times?: number }
  /** Waits, then answers normally (whatever the session's state is by then). */
  | { kind: "delay"; ms: number; times?: number }
  /** Accepts the socket and sends a non-JSON text frame instead of session.created (sockets only). */
  | { kind: "garbage"; times?: number }
  /** Accepts the socket, sends an `error` event instead of session.created and closes it, 1011 (sockets only). */
  | { kind: "error_event"; times?: number };

export interface SimRealtimeSession {
  /** `rtc_…`, opaque. */
  callId: string;
  /** false = ended: the sideband refuses it with 404 call_id_not_found, as for an unknown id. */
  live: boolean;
  /**
   * The runtime surface that accepted the call (default `realtime`): only its own sideband knows it. The other
   * surface refuses it as unknown, exactly as it refuses a call that ended.
   */
  surface?: RealtimeSurface;
  /** Applies to sideband handshakes for this call id only (hang-ups are affected by account faults only). */
  fault?: SimRealtimeFault;
}

export interface SimOpenAIOptions {
  /** false: the account has no Live surface; `/v1/live/…` answers OpenAI's "Invalid URL" 404. Default true. */
  liveSurface?: boolean;
  apiKey: string;
  /**
   * Keys of other projects of the same organisation: accepted, but they see none of this project's calls,
   * so the sideband refuses every call id with 404 call_id_not_found, exactly as for a call that ended.
   */
  otherProjectKeys?: string[];
  sessions?: SimRealtimeSession[];
}

export interface SimOpenAIStats {
  /** Upgrade requests received, whatever their path or outcome. */
  handshakes: number;
  /** Sockets accepted (101). */
  accepted: number;
  /** Handshakes refused with 404 (unknown/ended session, or an unknown path). */
  refused404: number;
  /** Requests to POST /v1/realtime/calls/{id}/hangup, whatever their outcome. */
  hangups: number;
  /** Data frames a client sent on an accepted socket: a probe must never send any. */
  clientFramesReceived: number;
  /** Refused handshakes and HTTP responses by status; accepted sockets count under 101. */
  responsesByStatus: Record<number, number>;
  /** Accepted sockets open right now. */
  openSockets: number;
  /** Most accepted sockets open at the same time. */
  maxConcurrentSockets: number;
}

/**
 * The subset of OpenAI's API the reconciler touches: the Realtime sideband WebSocket
 * (`GET /v1/realtime?call_id=…` upgrade), the Live sideband (`GET /v1/live/sessions/{id}/attach` upgrade) and
 * `POST /v1/realtime/calls/{id}/hangup`.
 */
export interface OpenAISimulator {
  /** e.g. `http://127.0.0.1:12345/v1`: ready to be OPENAI_BASE_URL. */
  readonly url: string;
  /** A snapshot: read it again after more traffic. */
  readonly stats: SimOpenAIStats;
  resetStats(): void;
  /** Sideband handshakes (either surface) that named this call id, whatever their outcome. */
  handshakesFor(callId: string): number;
  /** Replaces the session with this call id. Its `fault`, when given, replaces the id's fault and countdown. */
  upsertSession(session: SimRealtimeSession): void;
  getSession(callId: string): SimRealtimeSession | undefined;
  /** Creates the session when unknown. Ending a live session closes its open sideband sockets, as OpenAI does. */
  setLive(callId: string, live: boolean): void;
  /** Faults sideband handshakes for one call id (known or not); `undefined` clears it. Restarts `times`. */
  setFault(callId: string, fault: SimRealtimeFault | undefined): void;
  /** Applies to every upgrade and request before anything else (auth included), e.g. an outage. */
  setAccountFault(fault: SimRealtimeFault | undefined): void;
  /** TCP connections open on the server right now (upgraded, refused-in-progress and keep-alive). */
  connectionCount(): Promise<number>;
  /** Terminates open sockets, drops pending delays and keep-alive connections, closes the server. */
  close(): Promise<void>;
}

/** A fault and how many more requests it applies to. */
export interface FaultSlot {
  fault: SimRealtimeFault;
  /** undefined = never runs out. */
  remaining: number | undefined;
}

export const slotFor = (fault: SimRealtimeFault): FaultSlot => ({ fault, remaining: fault.times });

/** Consumes one use of the fault; returns it when it applies to this request. */
export function takeFault(slot: FaultSlot | undefined): SimRealtimeFault | undefined {
  if (!slot) return undefined;
  if (slot.remaining === undefined) return slot.fault;
  if (slot.remaining <= 0) return undefined;
  slot.remaining--;
  return slot.fault;
}
