import {
  ExponentialBackoff,
  handleWhenResult,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  retry,
} from "cockatiel";
import pLimit from "p-limit";
import type { Logger } from "../log.js";
import { type CallEndedEvent, EVENT_ID_HEADER, SIGNATURE_HEADER, serialiseEvent, signBody } from "./event.js";

/** Exactly one per event handed to `notify`. */
export type NotifyOutcome = "delivered" | "failed" | "dropped";

export interface WebhookNotifierOptions {
  url: string;
  secret: string;
  /** Per attempt, response body included. Default 5000. */
  timeoutMs?: number;
  /** Attempts per event, the first included. Default 5. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  /** Cap of the backoff, and of a receiver's Retry-After. Default 30000. */
  maxBackoffMs?: number;
  /** Events waiting for a delivery slot; beyond it the newest are dropped. Default 10000. */
  maxQueue?: number;
  /** Deliveries in flight at once. Default 4. */
  concurrency?: number;
  logger: Logger;
  onOutcome?: (outcome: NotifyOutcome) => void;
  fetch?: typeof fetch;
}

export interface WebhookNotifier {
  /** Enqueues the event and returns at once; never throws. */
  notify(event: CallEndedEvent): void;
  /**
   * Waits until nothing is pending, or `timeoutMs`. On timeout it gives up: in-flight requests are aborted,
   * every undelivered event is reported `dropped`, and the notifier refuses further events (also `dropped`).
   * No timer of the notifier is left holding the process either way.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Events accepted and not yet settled: queued plus in flight. */
  readonly pending: number;
}

type AttemptResult =
  | { kind: "delivered"; status: number }
  | { kind: "retryable"; detail: string; status?: number; retryAfterMs?: number }
  | { kind: "permanent"; detail: string; status: number };

interface Delivery {
  event: CallEndedEvent;
  body: string;
  settled: boolean;
}

/**
 * POSTs each call-ended event, signed (see event.ts), to `url`. Delivery is best effort and never blocks the
 * caller: the audit table and pg_notify stay the source of truth. Retries (cockatiel, exponential backoff with
 * jitter, Retry-After as a floor) on network errors, timeouts, 408, 429 and 5xx; other answers that are not
 * 2xx (redirects included: the signed body is not forwarded) fail at once. Order is not preserved.
 */
export function createWebhookNotifier(opts: WebhookNotifierOptions): WebhookNotifier {
  const timeoutMs = positive("timeoutMs", opts.timeoutMs ?? 5000);
  const maxAttempts = positive("maxAttempts", opts.maxAttempts ?? 5);
  const maxBackoffMs = positive("maxBackoffMs", opts.maxBackoffMs ?? 30_000);
  const initialBackoffMs = positive("initialBackoffMs", opts.initialBackoffMs ?? 500);
  const maxQueue = positive("maxQueue", opts.maxQueue ?? 10_000);
  const concurrency = positive("concurrency", opts.concurrency ?? 4);
  if (!Number.isInteger(maxAttempts)) throw new RangeError(`maxAttempts must be whole, got ${maxAttempts}`);
  const target = new URL(opts.url);
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new RangeError(`the notify URL must be http(s), got ${target.protocol}`);
  }
  if (opts.secret === "") throw new RangeError("the notify secret must not be empty");
  const { logger, secret, url } = opts;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const log = logger.child({ component: "webhook-notifier", target: target.origin });

  const slots = pLimit(concurrency);
  const shutdown = new AbortController();
  const live = new Set<Delivery>();
  let waiting = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const backoff = new ExponentialBackoff({ initialDelay: initialBackoffMs, maxDelay: maxBackoffMs });
  // Unref'd: a backoff sleep must not keep a process alive that has stopped waiting for it.
  const policy = retry(
    handleWhenResult((r) => (r as AttemptResult).kind === "retryable"),
    { maxAttempts: maxAttempts - 1, backoff: atLeastRetryAfter(backoff, maxBackoffMs) },
  ).dangerouslyUnref();

  const report = (outcome: NotifyOutcome) => {
    try {
      opts.onOutcome?.(outcome);
    } catch (err) {
      log.warn({ err }, "onOutcome callback threw; ignored");
    }
  };

  const drop = (event: CallEndedEvent, why: string): void => {
    log.warn({ eventId: event.id, callId: event.callId }, `call-ended webhook dropped: ${why}`);
    report("dropped");
  };

  const settle = (d: Delivery, outcome: NotifyOutcome) => {
    if (d.settled) return;
    d.settled = true;
    live.delete(d);
    report(outcome);
    if (live.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  const attemptOnce = async (d: Delivery): Promise<AttemptResult> => {
    // A drain may have given up while this event slept in backoff: its abort event has fired already.
    if (shutdown.signal.aborted) throw shutdown.signal.reason;
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error("timeout"));
    }, timeoutMs);
    // Cleared here, not only in `finally`: no timer is left once drain has given up and returned.
    const onShutdown = () => {
      clearTimeout(timer);
      attempt.abort(shutdown.signal.reason);
    };
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    try {
      const res = await doFetch(url, {
        method: "POST",
        redirect: "manual",
        signal: attempt.signal,
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "call-reconciler",
          [SIGNATURE_HEADER]: signBody(d.body, secret, Math.floor(Date.now() / 1000)),
          [EVENT_ID_HEADER]: d.event.id,
        },
        body: d.body,
      });
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
    } catch (err) {
      if (shutdown.signal.aborted) throw err; // given up by drain: stop here, no retry
      if (timedOut) return { kind: "retryable", detail: `no answer within ${timeoutMs} ms` };
      return { kind: "retryable", detail: `network: ${describeError(err)}` };
    } finally {
      clearTimeout(timer);
      shutdown.signal.removeEventListener("abort", onShutdown);
    }
  };

  const deliver = async (d: Delivery): Promise<void> => {
    waiting--;
    if (d.settled || shutdown.signal.aborted) return;
    const fields = { eventId: d.event.id, callId: d.event.callId };
    let attempts = 0;
    let last: AttemptResult;
    try {
      last = await policy.execute(async () => {
        attempts++;
        const r = await attemptOnce(d);
        if (r.kind === "retryable" && attempts < maxAttempts && !shutdown.signal.aborted) {
          log.debug({ ...fields, attempt: attempts, detail: r.detail }, "call-ended webhook retrying");
        }
        return r;
      }, shutdown.signal);
    } catch (err) {
      if (!shutdown.signal.aborted) throw err; // a bug: logged and counted as failed by notify's catch
      settle(d, "dropped"); // a drain that gave up (it has settled d already)
      return;
    }
    if (d.settled) return;
    if (last.kind === "delivered") {
      settle(d, "delivered");
      return;
    }
    const failure = { ...fields, attempts, httpStatus: last.status, detail: last.detail };
    if (last.kind === "permanent")
      log.warn(failure, "call-ended webhook rejected by the receiver; not retried");
    else log.warn(failure, `call-ended webhook not delivered after ${attempts} attempts; giving up`);
    settle(d, "failed");
  };

  return {
    get pending() {
      return live.size;
    },

    notify(event) {
      try {
        if (closed) return drop(event, "the notifier gave up at shutdown");
        if (waiting >= maxQueue) return drop(event, `queue full (${maxQueue}); the audit table still has it`);
        const d: Delivery = { event, body: serialiseEvent(event), settled: false };
        live.add(d);
        waiting++;
        slots(() => deliver(d)).catch((err: unknown) => {
          log.error({ eventId: event.id, err }, "call-ended webhook delivery crashed");
          settle(d, "failed");
        });
      } catch (err) {
        log.error({ err, eventId: event?.id }, "could not enqueue call-ended webhook");
        report("dropped");
      }
    },

    async drain(drainTimeoutMs) {
      if (live.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(true)));
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, drainTimeoutMs));
      });
      const done = await Promise.race([idle, expired]);
      clearTimeout(timer);
      if (done) return;
      closed = true;
      const left = [...live];
      log.warn(
        { undelivered: left.length, eventIds: left.slice(0, 20).map((d) => d.event.id) },
        `gave up on call-ended webhooks still pending after ${drainTimeoutMs} ms`,
      );
      shutdown.abort(new Error("webhook notifier drained"));
      for (const d of left) settle(d, "dropped");
    },
  };
}

/**
 * Each delay is at least the receiver's Retry-After (capped at maxBackoffMs, so that one receiver cannot park
 * an event for hours); the wrapped backoff still advances underneath. Same idea as providers/resilience.ts.
 */
function atLeastRetryAfter(
  base: IBackoffFactory<unknown>,
  capMs: number,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  return {
    next(context): IBackoff<IRetryBackoffContext<unknown>> {
      const step = base.next(context);
      const hinted = "value" in context.result ? (context.result.value as AttemptResult) : undefined;
      const floor = hinted?.kind === "retryable" ? Math.min(hinted.retryAfterMs ?? 0, capMs) : 0;
      return { duration: Math.max(step.duration, floor), next: atLeastRetryAfter(step, capMs).next };
    },
  };
}

/** `Retry-After`: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
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

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.message !== "string") return err.message;
  return `${err.message} (${typeof cause.code === "string" ? `${cause.code}: ` : ""}${cause.message})`;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}
