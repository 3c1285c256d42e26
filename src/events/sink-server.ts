/**
 * The Event Streams sink: `POST /twilio/events` on a port of its own (never the metrics server's: it faces
 * Twilio, the metrics face the cluster). Each delivery is bounded, verified as Twilio's before it is parsed,
 * read into nudges, de-duplicated and handed on; the answer is quick, since Twilio waits 5 s and retries
 * anything but a 2xx for 4 hours.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../error-message.js";
import { serveHttp } from "../http-serve.js";
import type { Logger } from "../log.js";
import type { CallNudge } from "../model/index.js";
import {
  type BatchRefusal,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_EVENTS,
  type IgnoredReason,
  readEventBatch,
} from "./call-events.js";
import { type BodyRead, readBoundedBody } from "./read-body.js";
import { refusalLog } from "./refusal-log.js";
import { DEFAULT_MAX_SEEN_IDS, seenEvents } from "./seen-events.js";
import { loadSignatureCheck, type SignatureCheck, type SignatureRefusal } from "./signature.js";

export const EVENTS_PATH = "/twilio/events";

export type SinkRefusal =
  | "not_found"
  | "method_not_allowed"
  | "too_large"
  | SignatureRefusal
  | BatchRefusal
  /** The hand-off said it cannot queue now, or did not answer in time: 503, Twilio retries. */
  | "unavailable"
  /** The hand-off threw: 503, Twilio retries. */
  | "failed";

/** What the sink saw, for the daemon's counters. Counts are events, except `refused` (one per request). */
export interface EventSinkObserver {
  received(events: number): void;
  refused(reason: SinkRefusal): void;
  duplicate(events: number): void;
  ignored(reason: IgnoredReason, events: number): void;
  queued(events: number): void;
}

export interface EventSinkLimits {
  /** A larger body is refused (413) without being read to its end. */
  maxBodyBytes: number;
  /** A delivery of more events is refused whole (400). */
  maxEvents: number;
  /** An older event is ignored as stale; also how long an event id is remembered. */
  maxAgeMs: number;
  /** At most this many event ids are remembered for de-duplication. */
  maxSeenIds: number;
  /** A hand-off that has not answered by then is taken as unavailable (503), well within Twilio's 5 s. */
  handoffTimeoutMs: number;
}

export const DEFAULT_SINK_LIMITS: EventSinkLimits = {
  maxBodyBytes: 1024 * 1024,
  maxEvents: DEFAULT_MAX_EVENTS,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  maxSeenIds: DEFAULT_MAX_SEEN_IDS,
  handoffTimeoutMs: 3_000,
};

export interface EventSinkDeps {
  host: string;
  /** 0: any free port (the bound one is in the returned `url`). */
  port: number;
  /** EVENTS_URL: the URL Twilio posts to, exactly as in the sink's destination; signatures are checked against it. */
  publicUrl: string;
  /** The account's auth token, the key Twilio signs with. */
  authToken: string;
  logger: Logger;
  now?: () => Date;
  limits?: Partial<EventSinkLimits>;
  observer: EventSinkObserver;
  /**
   * Takes new nudges (never seen before by this sink) and only queues them: the answer to Twilio waits for
   * it. "unavailable" (or a throw) answers 503, and the same events come again with Twilio's retry.
   */
  onNudges(nudges: CallNudge[]): Promise<"accepted" | "unavailable">;
}

export interface EventSink {
  /** Where the sink listens (http://host:port), not the public URL. */
  url: string;
  close(): Promise<void>;
}

/** Raised when the sink's port cannot be bound: a configuration problem, reported as one line. */
export class EventSinkListenError extends Error {
  override name = "EventSinkListenError";
}

/** How long a refused oversized upload may go on being discarded before its connection is dropped. */
const OVERSIZE_LINGER_MS = 1_000;

const REFUSAL_STATUS: Record<SinkRefusal, number> = {
  not_found: 404,
  method_not_allowed: 405,
  too_large: 413,
  signature_missing: 401,
  body_hash_missing: 403,
  body_hash_mismatch: 403,
  signature_invalid: 403,
  not_json: 400,
  not_a_batch: 400,
  too_many_events: 400,
  unavailable: 503,
  failed: 503,
};

/** Every reason a delivery may be refused for: the counters start at 0 for each. */
export const SINK_REFUSALS = Object.keys(REFUSAL_STATUS) as SinkRefusal[];

export async function startEventSink(deps: EventSinkDeps): Promise<EventSink> {
  const limits = { ...DEFAULT_SINK_LIMITS, ...deps.limits };
  const now = deps.now ?? (() => new Date());
  const check = await loadSignatureCheck(deps.authToken, deps.publicUrl);
  const ctx: Context = {
    deps,
    limits,
    now,
    check,
    seen: seenEvents({ maxIds: limits.maxSeenIds, keepMs: limits.maxAgeMs }),
    log: refusalLog(deps.logger, now),
  };
  return serveHttp(
    (req, res) =>
      handle(req, res, ctx).catch((err: unknown) => {
        deps.logger.error({ error: errorMessage(err) }, "Event Streams sink: a delivery failed");
        if (!res.headersSent) answer(res, 500, { error: "internal error" });
        else res.destroy();
      }),
    {
      host: deps.host,
      port: deps.port,
      settings: { host: "EVENTS_HOST", port: "EVENTS_PORT" },
      error: (message) => new EventSinkListenError(message),
      // Twilio sends a batch at once: a slow trickle of headers or body is not Twilio, and must not hold a socket.
      configure: (server) => {
        server.headersTimeout = 10_000;
        server.requestTimeout = 10_000;
        server.keepAliveTimeout = 5_000;
      },
    },
  );
}

interface Context {
  deps: EventSinkDeps;
  limits: EventSinkLimits;
  now: () => Date;
  check: SignatureCheck;
  seen: ReturnType<typeof seenEvents>;
  log: ReturnType<typeof refusalLog>;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const target = req.url ?? "/";
  const refuse = (reason: SinkRefusal, error?: string) => {
    ctx.deps.observer.refused(reason);
    ctx.log.refused(reason, req.socket.remoteAddress, error);
    answer(res, REFUSAL_STATUS[reason], { error: reason });
  };
  if (target.split("?", 1)[0] !== EVENTS_PATH) return refuse("not_found");
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    return refuse("method_not_allowed");
  }
  let read: BodyRead;
  try {
    read = await readBoundedBody(req, ctx.limits.maxBodyBytes);
  } catch {
    // The peer went away mid-body: nobody is left to answer, and nothing was received.
    res.destroy();
    return;
  }
  if ("tooLarge" in read) {
    res.setHeader("Connection", "close");
    res.once("finish", () => {
      req.socket.end();
      setTimeout(() => req.socket.destroy(), OVERSIZE_LINGER_MS).unref();
    });
    return refuse("too_large");
  }
  const signature = req.headers["x-twilio-signature"];
  const unsigned = ctx.check({
    signature: typeof signature === "string" ? signature : undefined,
    target,
    body: read.body,
  });
  if (unsigned !== null) return refuse(unsigned);
  const batch = readEventBatch(read.body, ctx.now(), ctx.limits);
  if ("refused" in batch) return refuse(batch.refused);
  const { observer } = ctx.deps;
  observer.received(batch.received);
  for (const { reason, count } of batch.ignored) observer.ignored(reason, count);
  const claimed = new Set(
    ctx.seen.claim(
      batch.nudges.map((n) => n.eventId),
      ctx.now(),
    ),
  );
  // A nudge is new if its id was claimed now; a second event with the same id in one batch is a duplicate too.
  const fresh = batch.nudges.filter((n) => claimed.delete(n.eventId));
  const duplicates = batch.nudges.length - fresh.length;
  if (duplicates > 0) observer.duplicate(duplicates);
  if (fresh.length > 0) {
    const handed = await handOff(ctx, fresh);
    if (handed !== "accepted") {
      ctx.seen.release(fresh.map((n) => n.eventId));
      return refuse(handed.refusal, handed.error);
    }
    observer.queued(fresh.length);
  }
  answer(res, 200, {
    received: batch.received,
    queued: fresh.length,
    duplicate: duplicates,
    ignored: batch.received - batch.nudges.length,
  });
}

async function handOff(
  ctx: Context,
  nudges: CallNudge[],
): Promise<"accepted" | { refusal: "unavailable" | "failed"; error?: string }> {
  const timeout = new AbortController();
  try {
    const result = await Promise.race([
      ctx.deps.onNudges(nudges),
      sleep(ctx.limits.handoffTimeoutMs, "timed out" as const, { ref: false, signal: timeout.signal }),
    ]);
    if (result === "accepted") return "accepted";
    return result === "timed out"
      ? { refusal: "unavailable", error: `no answer from the hand-off in ${ctx.limits.handoffTimeoutMs} ms` }
      : { refusal: "unavailable" };
  } catch (err) {
    return { refusal: "failed", error: errorMessage(err) };
  } finally {
    timeout.abort();
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
