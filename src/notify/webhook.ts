import pLimit from "p-limit";
import type { Logger } from "../log.js";
import type { NotifyOutcome } from "../model/index.js";
import { type CallEndedEvent, serialiseEvent } from "./event.js";
import { type AttemptResult, createDeliveryPolicy, postEvent } from "./webhook-delivery.js";

/** Exactly one per event handed to `notify`. */
export type { NotifyOutcome };

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
  // fetch refuses such a URL with an error that repeats it, password included, on every attempt.
  if (target.username !== "" || target.password !== "") {
    throw new RangeError("the notify URL must not contain a user or password; the signature authenticates");
  }
  if (opts.secret === "") throw new RangeError("the notify secret must not be empty");
  const { logger, secret, url } = opts;
  const delivery = { url, secret, timeoutMs, fetch: opts.fetch ?? globalThis.fetch };
  // Origin and path only: a query may carry what the receiver treats as a key.
  const shown = `${target.origin}${target.pathname}`;
  const log = logger.child({ component: "webhook-notifier", target: shown });
  /** A failure's detail with the URL (were an error to quote it) cut to origin and path. */
  const scrub = (detail: string) => detail.replaceAll(url, shown).replaceAll(target.href, shown);

  const slots = pLimit(concurrency);
  const shutdown = new AbortController();
  const live = new Set<Delivery>();
  let waiting = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const policy = createDeliveryPolicy({ maxAttempts, initialBackoffMs, maxBackoffMs });

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

  const deliver = async (d: Delivery): Promise<void> => {
    waiting--;
    if (d.settled || shutdown.signal.aborted) return;
    const fields = { eventId: d.event.id, callId: d.event.callId };
    let attempts = 0;
    let last: AttemptResult;
    try {
      last = await policy.execute(async () => {
        attempts++;
        const r = await postEvent(delivery, { id: d.event.id, body: d.body }, shutdown.signal);
        if (r.kind === "retryable" && attempts < maxAttempts && !shutdown.signal.aborted) {
          log.debug({ ...fields, attempt: attempts, detail: scrub(r.detail) }, "call-ended webhook retrying");
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
    const failure = { ...fields, attempts, httpStatus: last.status, detail: scrub(last.detail) };
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

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}
