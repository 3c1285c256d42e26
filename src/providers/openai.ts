import type OpenAI from "openai";
import { boundedText, errorMessage } from "../error-message.js";
import { type Asked, type HangupResult, isRealtimeCallId, type RealtimeObservation } from "../model/index.js";
import { classifyRefusal, classifyWsError } from "./openai-classify.js";
import { loadWs, openSideband } from "./openai-sideband.js";
import { requestIdFrom } from "./request-id.js";

export interface OpenAIProbeOptions {
  apiKey: string;
  /** https://api.openai.com/v1 in production; the simulator's http://127.0.0.1:PORT/v1 in tests and the demo. */
  baseUrl: string;
  /** Bounds the whole probe (connect + handshake) and each hang-up request. */
  timeoutMs: number;
  /** How long a close handshake may take before the socket is destroyed. Default min(1000, timeoutMs). */
  closeGraceMs?: number;
}

export interface OpenAIProbe {
  /**
   * `live` as soon as the sideband handshake completes (101); never sends a client event; the socket is
   * closed (or destroyed) before the promise settles. Every answer about a well-formed id carries `asked`.
   */
  probeSession(callId: string, signal?: AbortSignal): Promise<RealtimeObservation>;
  /**
   * The same question on the Live surface: its observer sideband, `/v1/live/sessions/{id}/attach`, documented as
   * detaching only the observer and never closing the owner's session. Same guarantees as `probeSession`.
   */
  attachLive(callId: string, signal?: AbortSignal): Promise<RealtimeObservation>;
  /** Ends the call. Never use it as a probe: on a live call it hangs up on the caller. */
  hangup(callId: string, signal?: AbortSignal): Promise<HangupResult>;
  /**
   * Loads what a probe (`ws`) or a hang-up (the SDK) needs: a caller that times its requests awaits this first,
   * so that the load is never counted against a request's timeout.
   */
  ready(what: "probe" | "hangup"): Promise<void>;
}

/** The shape is the domain's: the same test routes a shared id column's values (see routeSharedId). */
export { isRealtimeCallId };

/** OpenAI's request id header, on the sideband's 101 or refusal and on REST answers. */
const REQUEST_ID_HEADER = "x-request-id";

/** The call id asked for and, when the answer carried one, OpenAI's `x-request-id`. */
function askedOf(callId: string, headers: unknown): Asked {
  const requestId = requestIdFrom(headers, REQUEST_ID_HEADER);
  return { callId, ...(requestId !== undefined ? { requestId } : {}) };
}

/**
 * The sideband URL exactly as `openai` 6.49's `buildRealtimeURL` (openai/realtime/internal-base.js) builds it
 * for `new OpenAIRealtimeWS({ callID }, client)`: `baseURL + "/realtime"` (no extra slash when baseURL ends
 * in one) with `call_id` set through URLSearchParams. One difference: the SDK always forces `wss`, which
 * cannot reach a plain-HTTP simulator, so here `http:` maps to `ws:` and `https:` to `wss:`.
 * test/unit/openai-probe.test.ts checks this against the SDK's own `OpenAIRealtimeWS#url`.
 */
export function sidebandUrl(baseUrl: string, callId: string): URL {
  const path = "/realtime";
  const url = new URL(baseUrl + (baseUrl.endsWith("/") ? path.slice(1) : path));
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  url.searchParams.set("call_id", callId);
  return url;
}

/**
 * The Live API's sideband: `wss://api.openai.com/v1/live/sessions/{session_id}/attach` in OpenAI's API reference
 * (live → sideband → connect), `session_id` being the same `rtc_` value its `live.call.incoming` webhook carries.
 * Same scheme mapping as `sidebandUrl`.
 */
export function liveAttachUrl(baseUrl: string, callId: string): URL {
  const path = `/live/sessions/${encodeURIComponent(callId)}/attach`;
  const url = new URL(baseUrl + (baseUrl.endsWith("/") ? path.slice(1) : path));
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  return url;
}

/**
 * Liveness of OpenAI realtime (SIP) calls through the sideband WebSocket, and an idempotent hang-up.
 *
 * The probe uses `ws` directly rather than the SDK's `OpenAIRealtimeWS` (which is a thin wrapper over the
 * same `ws` client with the same single `Authorization: Bearer` header), because the wrapper:
 * - forces `wss:` whatever the base URL, so it cannot talk to the plain-HTTP simulator;
 * - attaches no 'unexpected-response' listener, so `ws` turns a refused handshake into an 'error' whose
 *   message is only "Unexpected server response: 404": the body, hence `call_id_not_found` versus any
 *   other 404, and the Retry-After headers of a 429, are thrown away;
 * - starts connecting in its constructor and, without an 'error' listener, turns errors into unhandled
 *   rejections.
 * Reaching into `rt.socket` to work around all three would depend on the wrapper's internals anyway.
 */
export function createOpenAIProbe(opts: OpenAIProbeOptions): OpenAIProbe {
  const closeGraceMs = opts.closeGraceMs ?? Math.min(1000, opts.timeoutMs);
  const headers = { Authorization: `Bearer ${opts.apiKey}` };
  // Only hang-ups use the SDK (probes speak `ws` directly): it is imported at the first one, so the about 70 ms
  // its import takes is not paid by every start of the CLI.
  let client: Promise<{ sdk: typeof OpenAI; client: OpenAI }> | undefined;
  const sdk = () => {
    client ??= import("openai").then(({ default: OpenAI }) => ({
      sdk: OpenAI,
      client: new OpenAI({
        apiKey: opts.apiKey,
        baseURL: opts.baseUrl,
        // Retries belong to one layer (ours); the SDK's default also waits up to 10 minutes per request.
        maxRetries: 0,
        timeout: opts.timeoutMs,
        // Looked up per request, so that nock (or any later-installed fetch) intercepts it.
        fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
      }),
    }));
    return client;
  };

  /** One handshake on the sideband `urlOf` names; settles once its socket is closed. */
  async function probeAt(
    urlOf: (baseUrl: string, callId: string) => URL,
    callId: string,
    signal: AbortSignal | undefined,
  ): Promise<RealtimeObservation> {
    if (!isRealtimeCallId(callId)) return badId(callId);
    const asked = askedOf(callId, undefined);
    if (signal?.aborted) return { ...aborted(signal), asked };
    let url: URL;
    try {
      url = urlOf(opts.baseUrl, callId);
    } catch (err) {
      return {
        kind: "error",
        reason: "bad_request",
        detail: `invalid OpenAI base URL: ${errorMessage(err)}`,
        asked,
      };
    }
    const outcome = await openSideband(url, headers, {
      timeoutMs: opts.timeoutMs,
      closeGraceMs,
      ...(signal ? { signal } : {}),
    });
    switch (outcome.kind) {
      case "opened":
        // The 101 is the live signal: OpenAI refuses the handshake for a call it has no session of. No first
        // event is awaited (a control socket on an existing call may never get session.created), and what
        // the server sends or does after the 101 (an error event, a close) changes nothing.
        return { kind: "live", asked: askedOf(callId, outcome.headers) };
      case "refused":
        return {
          ...classifyRefusal(outcome.status, outcome.headers, outcome.body),
          asked: askedOf(callId, outcome.headers),
        };
      case "closed":
        return {
          kind: "error",
          reason: "network",
          detail: `sideband connection closed (code ${outcome.code}) before the handshake completed`,
          asked,
        };
      case "timeout":
        return {
          kind: "error",
          reason: "timeout",
          detail: `sideband handshake not completed within ${opts.timeoutMs} ms`,
          asked,
        };
      case "aborted":
        return { ...aborted(signal), asked };
      case "error":
        return { ...classifyWsError(outcome.error), asked };
    }
  }

  return {
    ready: async (what) => {
      await (what === "probe" ? loadWs() : sdk());
    },
    probeSession: (callId, signal) => probeAt(sidebandUrl, callId, signal),
    attachLive: (callId, signal) => probeAt(liveAttachUrl, callId, signal),

    async hangup(callId, signal) {
      if (!isRealtimeCallId(callId)) return badId(callId);
      const { sdk: OpenAI, client } = await sdk();
      try {
        const { response } = await client.realtime.calls
          .hangup(callId, signal ? { signal } : {})
          .withResponse();
        return { kind: "hung_up", asked: askedOf(callId, response.headers) };
      } catch (err) {
        // An APIError carries the answer's headers; a transport error or a timeout has none.
        const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
        return { ...hangupError(OpenAI, err, signal), asked: askedOf(callId, headers) };
      }
    },
  };
}

/**
 * The SDK's messages quote OpenAI's answer (an APIError's is the error body's message, whole): every text
 * copied from one is bounded.
 */
function hangupError(
  OpenAI: typeof import("openai").default,
  err: unknown,
  signal: AbortSignal | undefined,
): HangupResult {
  if (err instanceof OpenAI.APIUserAbortError || signal?.aborted) return aborted(signal);
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return { kind: "error", reason: "timeout", detail: `hangup timed out: ${boundedText(err.message)}` };
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${errorMessage(err.cause)}` : "";
    return { kind: "error", reason: "network", detail: boundedText(`${err.message}${cause}`) };
  }
  if (err instanceof OpenAI.APIError && typeof err.status === "number") {
    const headers = {
      "retry-after-ms": err.headers?.get("retry-after-ms") ?? undefined,
      "retry-after": err.headers?.get("retry-after") ?? undefined,
    };
    // Same rule as the sideband: a 404 is "already gone" only with OpenAI's `call_id_not_found`. An empty or
    // HTML 404, or "Invalid URL" (a wrong OPENAI_BASE_URL), is an error, never a successful hang-up.
    const refusal = classifyRefusal(err.status, headers, JSON.stringify({ error: err.error ?? null }));
    if (refusal.kind === "gone") return { kind: "already_gone" };
    if (refusal.kind === "error") return { ...refusal, detail: `hangup: ${refusal.detail}` };
    return {
      kind: "error",
      reason: "bad_request",
      detail: `hangup: HTTP ${err.status}`,
      httpStatus: err.status,
    };
  }
  if (err instanceof SyntaxError) {
    // A 2xx whose JSON body did not parse: the hang-up probably happened, but nothing confirms it.
    return {
      kind: "error",
      reason: "malformed_response",
      detail: `hangup answer unreadable: ${boundedText(err.message)}`,
    };
  }
  return { kind: "error", reason: "network", detail: `hangup failed: ${boundedText(errorMessage(err))}` };
}

function badId(callId: string): { kind: "error"; reason: "bad_request"; detail: string } {
  const shown = JSON.stringify(callId.length > 80 ? `${callId.slice(0, 80)}…` : callId);
  return {
    kind: "error",
    reason: "bad_request",
    detail: `${shown} is not an OpenAI realtime call id (rtc_…)`,
  };
}

function aborted(signal: AbortSignal | undefined): { kind: "error"; reason: "timeout"; detail: string } {
  const why = signal?.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return { kind: "error", reason: "timeout", detail: `aborted by the caller${why}` };
}
