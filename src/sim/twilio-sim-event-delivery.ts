/**
 * Event Streams' deliveries to webhook sinks: signed JSON-array POSTs, at least once and in no set order,
 * with the delays, duplicates, drops, batches and retries a test asks for. Every timer and request stops at
 * `close`.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { hex32 } from "./twilio-sim-event-cloud.js";
import { signJsonWebhook } from "./twilio-sim-event-signature.js";
import type { SimCloudEvent, SimEventDeliveryOptions, SimEventStats } from "./twilio-sim-event-types.js";

/** Where one sink's events go, and how. */
export interface DeliveryTarget {
  sinkSid: string;
  /** The destination as configured: what is signed. */
  url: string;
  authToken: string;
  options: Required<SimEventDeliveryOptions>;
}

export const DEFAULT_DELIVERY: Required<SimEventDeliveryOptions> = {
  deliveryDelayMs: 0,
  duplicateShare: 0,
  dropShare: 0,
  reorder: false,
  batchMaxEvents: 100,
  batchWindowMs: 0,
  retryDelaysMs: [1000, 2000, 5000, 10000],
  responseTimeoutMs: 5000,
};

/** Throws on a share outside 0..1 or a negative or non-finite time, before anything is sent with it. */
export function checkDeliveryOptions(o: SimEventDeliveryOptions): void {
  for (const key of ["duplicateShare", "dropShare"] as const) {
    const v = o[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${key} must be within 0..1, got ${v}`);
  }
  const times = [o.deliveryDelayMs, o.batchWindowMs, o.responseTimeoutMs, ...(o.retryDelaysMs ?? [])];
  for (const v of times) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`delivery times must be finite numbers >= 0, got ${v}`);
    }
  }
  const max = o.batchMaxEvents;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new RangeError(`batchMaxEvents must be an integer >= 1, got ${max}`);
  }
}

type Counters = Omit<SimEventStats, "apiRequests" | "pending">;
const emptyCounters = (): Counters => ({
  delivered: 0,
  failedDeliveries: 0,
  retries: 0,
  dropped: 0,
  duplicates: 0,
  gaveUp: 0,
  posts: 0,
});

interface SinkQueue {
  target: DeliveryTarget;
  ready: SimCloudEvent[];
  timer: NodeJS.Timeout | undefined;
}

interface Deps {
  random: () => number;
  /** Whether the sink still exists when a POST is due. */
  alive: (sinkSid: string) => boolean;
}

/** The HTTP status of the answer, or null for no answer (refused, reset, timed out, aborted). */
function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<number | null> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(target, {
      method: "POST",
      agent: false,
      signal,
      headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)), Connection: "close" },
    });
    const timer = setTimeout(() => req.destroy(new Error("no answer in time")), timeoutMs);
    req.on("response", (res) => {
      clearTimeout(timer);
      res.on("error", () => {});
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    req.end(body);
  });
}

export class EventDelivery {
  private counters = emptyCounters();
  private pending = 0;
  private readonly queues = new Map<string, SinkQueue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly closing = new AbortController();

  constructor(private readonly deps: Deps) {}

  get stats(): Omit<SimEventStats, "apiRequests"> {
    return { ...this.counters, pending: this.pending };
  }

  resetStats(): void {
    this.counters = emptyCounters();
  }

  /**
   * Queues events for one sink. With `faults` false (a sink's test event) nothing is dropped or repeated;
   * delays, batches and retries still apply.
   */
  enqueue(target: DeliveryTarget, events: readonly SimCloudEvent[], faults = true): void {
    if (this.closing.signal.aborted) return;
    const o = target.options;
    for (const event of events) {
      if (faults && o.dropShare > 0 && this.deps.random() < o.dropShare) {
        this.counters.dropped++;
        continue;
      }
      const copies = faults && o.duplicateShare > 0 && this.deps.random() < o.duplicateShare ? 2 : 1;
      this.counters.duplicates += copies - 1;
      for (let i = 0; i < copies; i++) {
        this.pending++;
        this.after(o.deliveryDelayMs, () => this.ready(target, event));
      }
    }
  }

  /** Stops every timer and request; later events are ignored. */
  close(): void {
    this.closing.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const q of this.queues.values()) clearTimeout(q.timer);
    this.queues.clear();
    this.pending = 0;
  }

  private after(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closing.signal.aborted) run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private ready(target: DeliveryTarget, event: SimCloudEvent): void {
    let q = this.queues.get(target.sinkSid);
    if (q === undefined) {
      q = { target, ready: [], timer: undefined };
      this.queues.set(target.sinkSid, q);
    }
    q.target = target;
    q.ready.push(event);
    const queue = q;
    if (q.ready.length >= target.options.batchMaxEvents) this.flush(queue);
    else q.timer ??= this.after(target.options.batchWindowMs, () => this.flush(queue));
  }

  private flush(q: SinkQueue): void {
    if (q.timer !== undefined) {
      clearTimeout(q.timer);
      this.timers.delete(q.timer);
      q.timer = undefined;
    }
    const events = q.ready.splice(0);
    const { options } = q.target;
    if (options.reorder) this.shuffle(events);
    for (let i = 0; i < events.length; i += options.batchMaxEvents) {
      const batch = events.slice(i, i + options.batchMaxEvents);
      void this.send(q.target, batch, JSON.stringify(batch), `${hex32()}`, 0);
    }
  }

  /** Fisher–Yates with the seeded generator, so that an order can be replayed. */
  private shuffle(events: SimCloudEvent[]): void {
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(this.deps.random() * (i + 1));
      [events[i], events[j]] = [events[j] as SimCloudEvent, events[i] as SimCloudEvent];
    }
  }

  private async send(
    target: DeliveryTarget,
    batch: SimCloudEvent[],
    body: string,
    idempotencyToken: string,
    attempt: number,
  ): Promise<void> {
    const settle = () => {
      this.pending = Math.max(0, this.pending - batch.length);
    };
    if (!this.deps.alive(target.sinkSid)) return settle();
    const { url, signature } = signJsonWebhook(target.url, body, target.authToken);
    this.counters.posts++;
    if (attempt > 0) this.counters.retries++;
    const status = await post(
      url,
      body,
      {
        "Content-Type": "application/json",
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": idempotencyToken,
      },
      target.options.responseTimeoutMs,
      this.closing.signal,
    );
    if (this.closing.signal.aborted) return;
    if (status !== null && status >= 200 && status < 300) {
      this.counters.delivered += batch.length;
      return settle();
    }
    this.counters.failedDeliveries++;
    const delay = target.options.retryDelaysMs[attempt];
    if (delay === undefined) {
      this.counters.gaveUp += batch.length;
      return settle();
    }
    this.after(delay, () => void this.send(target, batch, body, idempotencyToken, attempt + 1));
  }
}
