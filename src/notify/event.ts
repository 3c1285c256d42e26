import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The event the daemon sends for every call it ends (over pg_notify and, when NOTIFY_URL is set, a signed
 * HTTP POST). `id` is stable across retries (`<runId>:<callId>`), so a receiver can de-duplicate on it.
 */
export interface CallEndedEvent {
  type: "call.ended";
  /** Unique per ended call, stable across retries: also sent as `X-Call-Reconciler-Event-Id`. */
  id: string;
  callId: string;
  /** The status the row was given (e.g. `completed`, `no-answer`, `timeout`). */
  status: string;
  /** ISO 8601, the end time written to the row. */
  endedAt: string;
  source: "twilio" | "openai" | "age_bound";
  runId: string;
  /** ISO 8601, when the daemon ended the row. */
  occurredAt: string;
}

export interface CallEndedInput {
  callId: string;
  status: string;
  endedAt: Date;
  source: CallEndedEvent["source"];
  runId: string;
  occurredAt?: Date;
}

/** Builds the event with its stable id (`<runId>:<callId>`). */
export function callEndedEvent(input: CallEndedInput): CallEndedEvent {
  return {
    type: "call.ended",
    id: `${input.runId}:${input.callId}`,
    callId: input.callId,
    status: input.status,
    endedAt: input.endedAt.toISOString(),
    source: input.source,
    runId: input.runId,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
  };
}

/**
 * Stable JSON: always the same keys in the same order, and only the event's own fields (extra properties on
 * the object passed in are not sent). This exact string is the body that is signed and POSTed.
 */
export function serialiseEvent(e: CallEndedEvent): string {
  return JSON.stringify({
    type: e.type,
    id: e.id,
    callId: e.callId,
    status: e.status,
    endedAt: e.endedAt,
    source: e.source,
    runId: e.runId,
    occurredAt: e.occurredAt,
  });
}

export const SIGNATURE_HEADER = "X-Call-Reconciler-Signature";
export const EVENT_ID_HEADER = "X-Call-Reconciler-Event-Id";
export const DEFAULT_TOLERANCE_SECONDS = 300;

/*
 * Webhook signature (the scheme of Stripe's `Stripe-Signature`)
 * ----------------------------------------------------------------
 * Every POST carries
 *
 *   X-Call-Reconciler-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(NOTIFY_SECRET, "<t>.<raw body>")>
 *   X-Call-Reconciler-Event-Id: <event id, the same on every retry of one event>
 *
 * - `t` is when this attempt was signed; every retry is signed afresh, so `t` changes but the body and the
 *   event id do not.
 * - The HMAC is computed over the timestamp, a literal ".", and the raw request body bytes exactly as
 *   received (UTF-8). Verify before parsing; re-serialising the parsed JSON will not reproduce the bytes.
 * - Compare in constant time, and reject a `t` more than 5 minutes from your clock (replay protection).
 * - More than one `v1=` may appear in a future version (secret rotation): accept if any of them matches.
 * - Deliveries are at least once and unordered: de-duplicate on the event id.
 *
 * Receiver (Node), `rawBody` being the unparsed body as a string:
 *
 *   import { createHmac, timingSafeEqual } from "node:crypto";
 *   function verify(rawBody, header, secret, toleranceSeconds = 300) {
 *     const parts = header.split(",").map((p) => p.trim().split("="));
 *     const t = Number(parts.find(([k]) => k === "t")?.[1]);
 *     if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
 *     const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest();
 *     return parts.some(([k, v]) => {
 *       const given = Buffer.from(k === "v1" ? (v ?? "") : "", "hex");
 *       return given.length === expected.length && timingSafeEqual(given, expected);
 *     });
 *   }
 */

function hmacHex(body: string, secret: string, t: number): string {
  return createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex");
}

/** The value of `X-Call-Reconciler-Signature` for `body` signed at `timestampSeconds`. */
export function signBody(body: string, secret: string, timestampSeconds: number): string {
  if (!Number.isInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds must be a whole number of seconds, got ${timestampSeconds}`);
  }
  return `t=${timestampSeconds},v1=${hmacHex(body, secret, timestampSeconds)}`;
}

export interface VerifyOptions {
  /** Largest accepted distance between `t` and now, either way. Default 300. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * True when `header` carries a timestamp within tolerance and a `v1` HMAC of `<t>.<body>` under `secret`.
 * Never throws: a missing, malformed or stale header is simply not valid.
 */
export function verifySignature(
  body: string,
  header: string | null | undefined,
  secret: string,
  opts: VerifyOptions = {},
): boolean {
  if (typeof header !== "string" || secret === "") return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === "v1" && /^[0-9a-fA-F]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return false;
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = (opts.now ?? new Date()).getTime() / 1000;
  if (!(Math.abs(nowSeconds - t) <= tolerance)) return false;
  const expected = Buffer.from(hmacHex(body, secret, t), "hex");
  let ok = false;
  // Every candidate is compared (no early exit), each in constant time.
  for (const candidate of candidates) {
    if (timingSafeEqual(Buffer.from(candidate, "hex"), expected)) ok = true;
  }
  return ok;
}
