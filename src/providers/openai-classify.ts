import { safeJson } from "../json.js";
import type { RealtimeObservation } from "../model/index.js";
import { retryAfterFromHeaders } from "../retry/retry-after.js";

/** Pure interpretation of what the sideband (or the hang-up endpoint) answered: no I/O here. */

type ErrorObservation = Extract<RealtimeObservation, { kind: "error" }>;

/**
 * The first server frame decides. OpenAI documents `session.created` as "emitted automatically when a new
 * connection is established as the first server event", sideband connections included, so only that
 * proves liveness; `session.updated` or any other first event is unexpected and stays unverified.
 */
export function classifyFirstFrame(data: Buffer, isBinary: boolean): RealtimeObservation {
  if (isBinary) return malformed("the first sideband frame is binary, expected a JSON event");
  let event: unknown;
  try {
    event = JSON.parse(data.toString("utf8"));
  } catch {
    return malformed("the first sideband frame is not valid JSON");
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    return malformed("the first sideband frame is not a JSON object");
  }
  const type = (event as { type?: unknown }).type;
  if (type === "session.created") return { kind: "live" };
  if (type === "error") {
    const detail = `the sideband sent an error event${describeError(errorObject(event), false)}`;
    return { kind: "error", reason: "server_error", detail };
  }
  const shown = typeof type === "string" ? JSON.stringify(type.slice(0, 60)) : "an untyped object";
  return malformed(`the first sideband event is ${shown}, expected "session.created"`);
}

const NO_SESSION = /no session found for the provided call_id/i;

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
    if (err && (err.code === "call_id_not_found" || NO_SESSION.test(err.message ?? "")))
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
    return malformed(`sideband protocol error: ${error.message}`);
  }
  if (/timed out/i.test(error.message)) return { kind: "error", reason: "timeout", detail: error.message };
  return {
    kind: "error",
    reason: "network",
    detail: `${typeof code === "string" ? code : "error"}: ${error.message}`,
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

/** Auth errors keep only code and type: OpenAI's message echoes part of the key. */
function describeError(err: OpenAIErrorObject | undefined, auth: boolean): string {
  if (!err) return "";
  const tags = [err.code && `code ${err.code}`, err.type && `type ${err.type}`].filter(Boolean).join(", ");
  const text = !auth && err.message ? `: ${err.message.slice(0, 200)}` : "";
  return `${tags ? ` (${tags})` : ""}${text}`;
}

function malformed(detail: string): ErrorObservation {
  return { kind: "error", reason: "malformed_response", detail };
}
