/** Reading and refusing requests to the events v1 API: form bodies, JSON parameters, Twilio's 400s. */
import type { IncomingMessage } from "node:http";
import { jsonReply, type Reply, twilioError } from "./twilio-sim-http.js";

/** The schema version a subscribed type gets when the request names none: the status callbacks' latest. */
export const DEFAULT_SCHEMA_VERSION = 2;

/** Past this, a request's body is not a form a client sends: it is refused unread. */
const MAX_FORM_BYTES = 1024 * 1024;

/** The form-encoded body of a request (empty for any other body). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new RangeError(`a form body over ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const type = req.headers["content-type"] ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** Each parameter with all its values, in order. */
export const paramsOf = (p: URLSearchParams): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const key of new Set(p.keys())) out[key] = p.getAll(key);
  return out;
};

/** Twilio's answer to a request it refuses: code 20001 for a bad parameter. */
export const badRequest = (message: string): Reply => {
  const reply = twilioError(400, message);
  const body = JSON.parse(reply.body) as Record<string, unknown>;
  return jsonReply(400, { ...body, code: 20001, more_info: "https://www.twilio.com/docs/errors/20001" });
};
export const missing = (name: string): Reply =>
  badRequest(`Missing required parameter ${name} in the post body`);
export const notAllowed = (allow: string): Reply => twilioError(405, undefined, { Allow: allow });

export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function webhookConfigError(config: Record<string, unknown>): string | null {
  const destination = config.destination;
  if (typeof destination !== "string") return "SinkConfiguration of a webhook sink needs a destination";
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return `SinkConfiguration destination is not a URL: ${destination}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return "SinkConfiguration destination must be http(s)";
  const method = config.method;
  if (typeof method !== "string" || method.toUpperCase() !== "POST") {
    return "SinkConfiguration method must be POST (the simulator delivers webhook sinks by POST only)";
  }
  if (config.batch_events !== undefined && typeof config.batch_events !== "boolean") {
    return "SinkConfiguration batch_events must be a boolean";
  }
  return null;
}

/** `Types` entries: JSON objects `{"type": T, "schema_version": N}` (schema_version optional). */
export function parseTypes(raw: readonly string[]): Map<string, number> | string {
  const types = new Map<string, number>();
  for (const text of raw) {
    const t = parseJsonObject(text);
    if (t === null || typeof t.type !== "string" || t.type === "") return `Invalid Types entry: ${text}`;
    const version = t.schema_version ?? DEFAULT_SCHEMA_VERSION;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      return `Invalid schema_version in Types entry: ${text}`;
    }
    types.set(t.type, version);
  }
  return types;
}
