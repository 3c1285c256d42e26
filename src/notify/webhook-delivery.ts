import { ExponentialBackoff, handleWhenResult, type RetryPolicy, retry } from "cockatiel";
import { errorMessage } from "../error-message.js";
import { atLeastRetryAfter } from "../retry/backoff.js";
import { parseRetryAfter } from "../retry/retry-after.js";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signBody } from "./event.js";

/** What one POST of an event came to: only `retryable` is tried again. */
export type AttemptResult =
  | { kind: "delivered"; status: number }
  | { kind: "retryable"; detail: string; status?: number; retryAfterMs?: number }
  | { kind: "permanent"; detail: string; status: number };

export interface DeliveryPolicyOptions {
  /** Attempts per event, the first included. */
  maxAttempts: number;
  initialBackoffMs: number;
  /** Cap of the backoff, and of a receiver's Retry-After. */
  maxBackoffMs: number;
}

/**
 * Exponential backoff with jitter, the receiver's Retry-After as a floor. The floor is capped at
 * maxBackoffMs so that one receiver cannot park an event for hours.
 */
export function createDeliveryPolicy(opts: DeliveryPolicyOptions): RetryPolicy {
  const backoff = new ExponentialBackoff({
    initialDelay: opts.initialBackoffMs,
    maxDelay: opts.maxBackoffMs,
  });
  const floor = atLeastRetryAfter<AttemptResult>(backoff, {
    retryAfterMs: (r) => (r.kind === "retryable" ? r.retryAfterMs : undefined),
    capMs: opts.maxBackoffMs,
  });
  // Unref'd: a backoff sleep must not keep a process alive that has stopped waiting for it.
  return retry(
    handleWhenResult((r) => (r as AttemptResult).kind === "retryable"),
    { maxAttempts: opts.maxAttempts - 1, backoff: floor },
  ).dangerouslyUnref();
}

export interface DeliveryTarget {
  url: string;
  secret: string;
  /** Per attempt, response body included. */
  timeoutMs: number;
  fetch: typeof fetch;
}

/**
 * POSTs the signed body once. Throws only when `shutdown` is aborted (a drain that gave up), so that the
 * retry policy stops instead of counting it as a failed attempt.
 */
export async function postEvent(
  target: DeliveryTarget,
  event: { id: string; body: string },
  shutdown: AbortSignal,
): Promise<AttemptResult> {
  // A drain may have given up while this event slept in backoff: its abort event has fired already.
  if (shutdown.aborted) throw shutdown.reason;
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    attempt.abort(new Error("timeout"));
  }, target.timeoutMs);
  // Cleared here, not only in `finally`: no timer is left once drain has given up and returned.
  const onShutdown = () => {
    clearTimeout(timer);
    attempt.abort(shutdown.reason);
  };
  shutdown.addEventListener("abort", onShutdown, { once: true });
  try {
    const res = await target.fetch(target.url, {
      method: "POST",
      redirect: "manual",
      signal: attempt.signal,
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "call-reconciler",
        [SIGNATURE_HEADER]: signBody(event.body, target.secret, Math.floor(Date.now() / 1000)),
        [EVENT_ID_HEADER]: event.id,
      },
      body: event.body,
    });
    return await classifyResponse(res);
  } catch (err) {
    if (shutdown.aborted) throw err; // given up by drain: stop here, no retry
    if (timedOut) return { kind: "retryable", detail: `no answer within ${target.timeoutMs} ms` };
    return { kind: "retryable", detail: `network: ${describeError(err)}` };
  } finally {
    clearTimeout(timer);
    shutdown.removeEventListener("abort", onShutdown);
  }
}

/** 2xx delivers; 408, 429 and 5xx are worth another try; anything else (redirects too) will not change. */
async function classifyResponse(res: Response): Promise<AttemptResult> {
  const status = res.status;
  if (status >= 200 && status < 300) {
    await res.body?.cancel().catch(() => {});
    return { kind: "delivered", status };
  }
  const detail = `HTTP ${status}${await snippet(res)}`;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
    return { kind: "retryable", status, detail, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: "permanent", status, detail };
}

/** The start of an error answer, for the log line (a receiver's body, never our request). */
async function snippet(res: Response): Promise<string> {
  try {
    const text = (await res.text()).replace(/\s+/g, " ").trim();
    return text === "" ? "" : `: ${text.slice(0, 200)}`;
  } catch {
    return "";
  }
}

/** fetch hides the socket's reason (ECONNREFUSED, ...) in `cause`. */
function describeError(err: unknown): string {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.message !== "string") return errorMessage(err);
  return `${errorMessage(err)} (${typeof cause.code === "string" ? `${cause.code}: ` : ""}${cause.message})`;
}
