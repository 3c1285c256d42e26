import { boundedText } from "../error-message.js";
import { safeJson } from "../json.js";
import type { RealtimeObservation } from "../model/index.js";
import { retryAfterFromHeaders } from "../retry/retry-after.js";

/**
 * Pure interpretation of a refused sideband handshake (or a failed hang-up) and of socket errors: no I/O here.
 * A completed handshake (101) needs no interpretation: it is the live signal (openai.ts).
 */

type ErrorObservation = Extract<RealtimeObservation, { kind: "error" }>;

const NO_SESSION = /no session found for the provided (call_id|session_id)/i;
/**
 * The codes that say "no session with this id": the Realtime surface's documented-by-example `call_id_not_found`,
 * and `session_not_found` for the Live surface, whose refusal code is not published (any other code is unknown).
 */
const NO_SESSION_CODES = new Set(["call_id_not_found", "session_not_found"]);

/**
 * A refused handshake (or a failed hang-up). Only a 404 whose OpenAI error says `call_id_not_found` (or its
 * message, "No session found for the provided call_id") means "gone": an empty 404, a proxy's HTML 404 or
 * OpenAI's own "Invalid URL" 404 (a wrong OPENAI_BASE_URL) prove nothing about the call.
 */
export function classifyRefusal(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): RealtimeObservation {
  const err = errorObject(safeJson(body));
  const auth = status === 401 || status === 403;
  const detail = `HTTP ${status}${describeError(err, auth)}`;
  if (status === 404) {
    if (
      err &&
      ((typeof err.code === "string" && NO_SESSION_CODES.has(err.code)) || NO_SESSION.test(err.message ?? ""))
    )
      return { kind: "gone" };
    return {
      kind: "error",
      reason: err ? "bad_request" : "malformed_response",
      detail: `${detail}: a 404 without call_id_not_found does not prove the call ended`,
      httpStatus: 404,
    };
  }
  if (auth) return { kind: "error", reason: "auth_failed", detail, httpStatus: status };
  if (status === 429) {
    const retryAfterMs = retryAfterFromHeaders(headers);
    return {
      kind: "error",
      reason: "rate_limited",
      detail,
      httpStatus: status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (status === 408) return { kind: "error", reason: "timeout", detail, httpStatus: status };
  if (status >= 500) return { kind: "error", reason: "server_error", detail, httpStatus: status };
  return { kind: "error", reason: "bad_request", detail, httpStatus: status };
}

/** `ws` and socket errors. Protocol violations are malformed answers; everything else is the network. */
export function classifyWsError(error: Error): ErrorObservation {
  const code = (error as { code?: unknown }).code;
  if (
    (typeof code === "string" && code.startsWith("WS_ERR_")) ||
    /^(Invalid|Server sent)/.test(error.message)
  ) {
    return malformed(`sideband protocol error: ${boundedText(error.message)}`);
  }
  // A protocol error's message may quote what the server sent.
  const message = boundedText(error.message);
  if (/timed out/i.test(message)) return { kind: "error", reason: "timeout", detail: message };
  return {
    kind: "error",
    reason: "network",
    detail: `${typeof code === "string" ? boundedText(code, TAG_MAX) : "error"}: ${message}`,
  };
}

interface OpenAIErrorObject {
  message?: string;
  type?: string;
  code?: string | null;
}

/** `{"error": {message, type, code, param}}` → the inner object, when it looks like one. */
function errorObject(value: unknown): OpenAIErrorObject | undefined {
  const inner =
    typeof value === "object" && value !== null ? (value as { error?: unknown }).error : undefined;
  if (typeof inner !== "object" || inner === null) return undefined;
  const { message, type, code } = inner as Record<string, unknown>;
  if (typeof message !== "string" && typeof code !== "string") return undefined;
  return {
    ...(typeof message === "string" ? { message } : {}),
    ...(typeof type === "string" ? { type } : {}),
    ...(typeof code === "string" ? { code } : {}),
  };
}

/** OpenAI's codes and types are identifiers of a few words; anything longer is cut like any provider text. */
const TAG_MAX = 64;

/**
 * Auth errors keep only code and type: OpenAI's message echoes part of the key. Every part is bounded: the
 * detail is kept in every finding of a pass, and a refusal's body may be 64 KB.
 */
function describeError(err: OpenAIErrorObject | undefined, auth: boolean): string {
  if (!err) return "";
  const tags = [
    err.code && `code ${boundedText(err.code, TAG_MAX)}`,
    err.type && `type ${boundedText(err.type, TAG_MAX)}`,
  ]
    .filter(Boolean)
    .join(", ");
  const text = !auth && err.message ? `: ${boundedText(err.message)}` : "";
  return `${tags ? ` (${tags})` : ""}${text}`;
}

function malformed(detail: string): ErrorObservation {
  return { kind: "error", reason: "malformed_response", detail };
}
