import { randomBytes } from "node:crypto";
import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** A response computed before it is written: over a ServerResponse, or raw on a refused upgrade socket. */
export interface SimReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export const NO_SESSION_MESSAGE = "No session found for the provided call_id";

/** OpenAI's error envelope `{"error":{message,type,code,param}}`. */
export function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  headers?: Record<string, string>,
): SimReply {
  const body = JSON.stringify({ error: { message, type, code, param: null } });
  return { status, body, ...(headers ? { headers } : {}) };
}

export const callNotFound = (): SimReply =>
  openaiError(404, NO_SESSION_MESSAGE, "invalid_request_error", "call_id_not_found");

/**
 * The Live surface's refusal of a session it has no record of. Its exact code is not published: the daemon
 * reads this one, `call_id_not_found` and the "No session found" message as an absence, anything else as unknown.
 */
export const liveSessionNotFound = (): SimReply =>
  openaiError(
    404,
    "No session found for the provided session_id",
    "invalid_request_error",
    "session_not_found",
  );

export const invalidUrl = (method: string, path: string): SimReply =>
  openaiError(404, `Invalid URL (${method} ${path})`, "invalid_request_error", null);

export function unauthorized(presented: boolean): SimReply {
  return presented
    ? openaiError(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
    : openaiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
        null,
      );
}

/** `GET /v1/models`: the one cheap authenticated read a key can be checked with. */
export function modelsList(): SimReply {
  const model = (id: string) => ({ id, object: "model", created: 1_756_252_800, owned_by: "system" });
  return { status: 200, body: JSON.stringify({ object: "list", data: [model("gpt-realtime")] }) };
}

/** The reply an injected `http` fault produces. */
export function faultReply(status: number, retryAfterSeconds: number | undefined): SimReply {
  const headers = retryAfterSeconds === undefined ? undefined : { "Retry-After": String(retryAfterSeconds) };
  if (status === 429) {
    return openaiError(
      429,
      "Rate limit reached for requests. Please try again later.",
      "requests",
      "rate_limit_exceeded",
      headers,
    );
  }
  if (status >= 500)
    return openaiError(
      status,
      "The server had an error while processing your request.",
      "server_error",
      null,
      headers,
    );
  return openaiError(status, STATUS_CODES[status] ?? "Error", "invalid_request_error", null, headers);
}

/** OpenAI's id of one request (`x-request-id: req_…`), sent on every answer, the sideband's 101 included. */
export function requestIdHeader(): Record<"x-request-id", string> {
  return { "x-request-id": `req_${randomBytes(16).toString("hex")}` };
}

function headerBlock(reply: SimReply): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(reply.body)),
    ...requestIdHeader(),
    ...reply.headers,
  };
}

/** Returns false when the client is already gone. */
export function sendReply(res: ServerResponse, reply: SimReply): boolean {
  if (res.destroyed || res.writableEnded) return false;
  res.writeHead(reply.status, headerBlock(reply));
  res.end(reply.body);
  return true;
}

/** Refuses a WebSocket upgrade with a complete HTTP response, then closes the socket. */
export function refuseUpgrade(socket: Duplex, reply: SimReply): boolean {
  if (socket.destroyed || !socket.writable) return false;
  const headers = { ...headerBlock(reply), Connection: "close" };
  const head = [
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? "Error"}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join("\r\n");
  socket.once("finish", () => socket.destroy());
  socket.end(`${head}\r\n\r\n${reply.body}`);
  return true;
}

/** A plausible session.created for a SIP call (GA shape, trimmed). */
export function sessionCreated(): string {
  return JSON.stringify({
    type: "session.created",
    event_id: `event_${randomBytes(11).toString("hex")}`,
    session: {
      type: "realtime",
      object: "realtime.session",
      id: `sess_${randomBytes(11).toString("hex")}`,
      model: "gpt-realtime",
      output_modalities: ["audio"],
      instructions: "You are a helpful phone assistant (simulated).",
      tools: [],
      tool_choice: "auto",
      max_output_tokens: "inf",
      tracing: null,
      prompt: null,
      expires_at: Math.floor(Date.now() / 1000) + 3600,
      audio: {
        input: { format: { type: "audio/pcmu" }, turn_detection: { type: "server_vad" } },
        output: { format: { type: "audio/pcmu" }, voice: "marin", speed: 1 },
      },
      include: null,
    },
  });
}

/** A server error event, as OpenAI sends on a realtime socket before closing it. */
export function serverErrorEvent(): string {
  return JSON.stringify({
    type: "error",
    event_id: `event_${randomBytes(11).toString("hex")}`,
    error: {
      type: "server_error",
      code: null,
      message: "The server had an error while processing your request.",
      param: null,
      event_id: null,
    },
  });
}

/** `Authorization: Bearer <key>` → the key; null when absent or not Bearer. */
export function bearer(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}
