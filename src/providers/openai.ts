import OpenAI from "openai";
import { errorMessage } from "../error-message.js";
import type { HangupResult, RealtimeObservation } from "../model/index.js";
import { classifyFirstFrame, classifyRefusal, classifyWsError } from "./openai-classify.js";
import { openSideband } from "./openai-sideband.js";

export interface OpenAIProbeOptions {
  apiKey: string;
  /** https://api.openai.com/v1 in production; the simulator's http://127.0.0.1:PORT/v1 in tests and the demo. */
  baseUrl: string;
  /** Bounds the whole probe (handshake + first event) and each hang-up request. */
  timeoutMs: number;
  /** How long a close handshake may take before the socket is destroyed. Default min(1000, timeoutMs). */
  closeGraceMs?: number;
}

export interface OpenAIProbe {
  /** Never sends a client event; the socket is closed (or destroyed) before the promise settles. */
  probeSession(callId: string, signal?: AbortSignal): Promise<RealtimeObservation>;
  /** Ends the call. Never use it as a probe: on a live call it hangs up on the caller. */
  hangup(callId: string, signal?: AbortSignal): Promise<HangupResult>;
}

/** `rtc_` then an opaque, printable, space-free token (e.g. rtc_u1_9c6574da8b8a41a18da9308f4ad974ce). */
const CALL_ID = /^rtc_[\x21-\x7e]{1,200}$/;

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
  let client: OpenAI | undefined;
  const sdk = (): OpenAI => {
    client ??= new OpenAI({
      apiKey: opts.apiKey,
      baseURL: opts.baseUrl,
      // Retries belong to one layer (ours); the SDK's default also waits up to 10 minutes per request.
      maxRetries: 0,
      timeout: opts.timeoutMs,
      // Looked up per request, so that nock (or any later-installed fetch) intercepts it.
      fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
    });
    return client;
  };

  return {
    async probeSession(callId, signal) {
      if (!CALL_ID.test(callId)) return badId(callId);
      if (signal?.aborted) return aborted(signal);
      let url: URL;
      try {
        url = sidebandUrl(opts.baseUrl, callId);
      } catch (err) {
        return {
          kind: "error",
          reason: "bad_request",
          detail: `invalid OpenAI base URL: ${errorMessage(err)}`,
        };
      }
      const outcome = await openSideband(url, headers, {
        timeoutMs: opts.timeoutMs,
        closeGraceMs,
        ...(signal ? { signal } : {}),
      });
      switch (outcome.kind) {
        case "frame":
          return classifyFirstFrame(outcome.data, outcome.isBinary);
        case "refused":
          return classifyRefusal(outcome.status, outcome.headers, outcome.body);
        case "closed":
          return {
            kind: "error",
            reason: "network",
            detail: `sideband socket closed by the server (code ${outcome.code}) before session.created`,
          };
        case "timeout":
          return {
            kind: "error",
            reason: "timeout",
            detail: outcome.opened
              ? `no session.created within ${opts.timeoutMs} ms`
              : `sideband handshake not completed within ${opts.timeoutMs} ms`,
          };
        case "aborted":
          return aborted(signal);
        case "error":
          return classifyWsError(outcome.error);
      }
    },

    async hangup(callId, signal) {
      if (!CALL_ID.test(callId)) return badId(callId);
      try {
        await sdk().realtime.calls.hangup(callId, signal ? { signal } : {});
        return { kind: "hung_up" };
      } catch (err) {
        return hangupError(err, signal);
      }
    },
  };
}

function hangupError(err: unknown, signal: AbortSignal | undefined): HangupResult {
  if (err instanceof OpenAI.APIUserAbortError || signal?.aborted) return aborted(signal);
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return { kind: "error", reason: "timeout", detail: `hangup timed out: ${err.message}` };
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${errorMessage(err.cause)}` : "";
    return { kind: "error", reason: "network", detail: `${err.message}${cause}` };
  }
  if (err instanceof OpenAI.APIError && typeof err.status === "number") {
    if (err.status === 404) return { kind: "already_gone" };
    const headers = {
      "retry-after-ms": err.headers?.get("retry-after-ms") ?? undefined,
      "retry-after": err.headers?.get("retry-after") ?? undefined,
    };
    const refusal = classifyRefusal(err.status, headers, JSON.stringify({ error: err.error ?? null }));
    if (refusal.kind === "error") return refusal;
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
      detail: `hangup answer unreadable: ${err.message}`,
    };
  }
  return { kind: "error", reason: "network", detail: `hangup failed: ${errorMessage(err)}` };
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
