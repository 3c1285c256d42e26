import { createHook } from "node:async_hooks";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import {
  type CallEndedEvent,
  callEndedEvent,
  serialiseEvent,
  signBody,
  verifySignature,
} from "../../src/notify/event.js";
import {
  createWebhookNotifier,
  type NotifyOutcome,
  type WebhookNotifierOptions,
} from "../../src/notify/webhook.js";

const SECRET = "whsec_test_4f9a1c";

type Received = { body: string; headers: IncomingHttpHeaders; valid: boolean; at: number };
/** Answers request n (1-based); may leave `res` unanswered to simulate a receiver that hangs. */
type Handler = (res: ServerResponse, n: number) => void;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A real receiver on 127.0.0.1 that verifies every signature the way a user's endpoint would. */
async function receiver(handler: Handler) {
  const requests: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    // Recorded on arrival (a client that times out may leave before the body is read); filled in at the end.
    const received: Received = { body: "", headers: req.headers, valid: false, at: performance.now() };
    requests.push(received);
    const n = requests.length;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.body = Buffer.concat(chunks).toString("utf8");
      received.valid = verifySignature(
        received.body,
        String(req.headers["x-call-reconciler-signature"]),
        SECRET,
      );
      handler(res, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  closers.push(close);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/calls`, requests, maxInFlight: () => maxInFlight, close };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ids = (requests: Received[]) => requests.map((q) => q.headers["x-call-reconciler-event-id"]);
const answer =
  (status: number, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    void res.writeHead(status, headers).end(status >= 400 ? "nope" : "ok");

const [endedAt, occurredAt] = [new Date("2025-01-02T03:04:05.000Z"), new Date("2025-01-02T03:10:00.000Z")];
const fields = { status: "completed", endedAt, source: "twilio", runId: "run-7", occurredAt } as const;
const event = (i = 1): CallEndedEvent => callEndedEvent({ ...fields, callId: `call-${i}` });

function notifier(url: string, overrides: Partial<WebhookNotifierOptions> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const outcomes: NotifyOutcome[] = [];
  const logger = createLogger("debug", sink);
  const base = { url, secret: SECRET, initialBackoffMs: 5, maxBackoffMs: 20, timeoutMs: 1000, logger };
  const n = createWebhookNotifier({ ...base, onOutcome: (o) => outcomes.push(o), ...overrides });
  const warnings = () => lines.filter((l) => (l.level as number) >= 40);
  return { n, outcomes, warnings, rawLog: () => JSON.stringify(lines) };
}

/** Timers set by the notifier or cockatiel (told by their creation stack) that would keep the process alive. */
function trackTimers() {
  const live = new Map<number, { hasRef(): boolean }>();
  let created = 0;
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === "Timeout" && /notify[\\/]webhook|cockatiel/.test(new Error().stack ?? "")) {
        live.set(id, resource as { hasRef(): boolean });
        created++;
      }
    },
    destroy: (id) => live.delete(id),
  }).enable();
  return {
    /** Polls for up to a second: destroy hooks are emitted asynchronously. */
    async holding() {
      const held = () => [...live.values()].filter((t) => t.hasRef()).length;
      for (let i = 0; i < 50 && held() > 0; i++) await sleep(20);
      hook.disable();
      return held();
    },
    created: () => created,
  };
}

describe("webhook delivery", () => {
  it("delivers once, signed, with the stable body and headers", async () => {
    const r = await receiver(answer(200));
    const { n, outcomes, warnings } = notifier(r.url);
    const e = event();
    n.notify(e);
    expect(n.pending).toBe(1);
    await n.drain(5000);
    expect(outcomes).toEqual(["delivered"]);
    expect(n.pending).toBe(0);
    expect(r.requests).toHaveLength(1);
    const [req] = r.requests as [Received];
    expect(req.valid).toBe(true);
    expect(req.body).toBe(serialiseEvent(e));
    expect(JSON.parse(req.body)).toEqual(e);
    expect(e).toMatchObject({ type: "call.ended", id: "run-7:call-1", endedAt: "2025-01-02T03:04:05.000Z" });
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe("call-reconciler");
    expect(req.headers["x-call-reconciler-event-id"]).toBe("run-7:call-1");
    expect(req.headers["x-call-reconciler-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(warnings()).toEqual([]);
  });

  it("retries 500s and delivers on the third request, same event id every time", async () => {
    const r = await receiver((res, i) => answer(i <= 2 ? 500 : 200)(res));
    const { n, outcomes, warnings } = notifier(r.url);
    n.notify(event());
    await n.drain(5000);
    expect(outcomes).toEqual(["delivered"]);
    expect(r.requests).toHaveLength(3);
    expect(r.requests.every((q) => q.valid)).toBe(true);
    expect(ids(r.requests)).toEqual(Array(3).fill("run-7:call-1"));
    expect(warnings()).toEqual([]);
  });

  it.each([408, 429, 503, 400, 401, 404, 302])(
    "answers %i: retried if 408/429/5xx, else not",
    async (status) => {
      const requests = status === 408 || status === 429 || status >= 500 ? 3 : 1;
      const r = await receiver(answer(status, status === 302 ? { location: "http://127.0.0.1:1/x" } : {}));
      const { n, outcomes, warnings, rawLog } = notifier(r.url, { maxAttempts: 3 });
      n.notify(event());
      await n.drain(5000);
      expect(r.requests).toHaveLength(requests);
      expect(outcomes).toEqual(["failed"]);
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatchObject({ attempts: requests, httpStatus: status });
      expect(rawLog()).not.toContain(SECRET);
    },
  );

  it.each([
    ["a receiver that never answers", /^no answer within 100 ms$/],
    ["network errors (connection refused)", /^network: /],
  ])("retries %s, then fails", async (what, detail) => {
    const r = await receiver(() => {}); // never answers
    if (what.startsWith("network")) await r.close();
    const { n, outcomes, warnings } = notifier(r.url, { timeoutMs: 100, maxAttempts: 3 });
    n.notify(event());
    await n.drain(5000);
    expect(r.requests).toHaveLength(what.startsWith("network") ? 0 : 3);
    expect(outcomes).toEqual(["failed"]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ attempts: 3, detail: expect.stringMatching(detail) });
  });

  it("honours Retry-After as the minimum wait", async () => {
    const r = await receiver((res, i) => answer(i === 1 ? 429 : 200, { "retry-after": "1" })(res));
    const { n, outcomes } = notifier(r.url, { maxBackoffMs: 5000 });
    n.notify(event());
    await n.drain(10_000);
    expect(outcomes).toEqual(["delivered"]);
    expect(r.requests).toHaveLength(2);
    const [first, second] = r.requests as [Received, Received];
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(second.valid).toBe(true); // signed afresh, still valid
  });
});

describe("queueing", () => {
  it("notify returns synchronously even when the receiver is slow; concurrency stays bounded", async () => {
    // A sleep: the receiver's slowness is the point.
    const r = await receiver((res) => void sleep(50).then(() => answer(200)(res)));
    const { n, outcomes } = notifier(r.url);
    for (let i = 0; i <= 100; i++) n.notify(event(i));
    // All queued and nothing settled: notify handed every event on without waiting for a delivery.
    expect(n.pending).toBe(101);
    expect(outcomes).toEqual([]);
    await n.drain(20_000);
    expect(outcomes.filter((o) => o === "delivered")).toHaveLength(101);
    expect(new Set(ids(r.requests)).size).toBe(101);
    expect(r.requests.every((q) => q.valid)).toBe(true);
    expect(r.maxInFlight()).toBeLessThanOrEqual(4);
  });

  it("drops the newest events when the queue is full", async () => {
    const r = await receiver((res) => setTimeout(() => answer(200)(res), 100));
    const { n, outcomes, warnings } = notifier(r.url, { maxQueue: 2, concurrency: 1 });
    for (let i = 1; i <= 5; i++) n.notify(event(i));
    expect(outcomes).toEqual(["dropped", "dropped", "dropped"]); // reported synchronously
    expect(warnings().map((w) => w.eventId)).toEqual(["run-7:call-3", "run-7:call-4", "run-7:call-5"]);
    await n.drain(5000);
    expect(outcomes.filter((o) => o === "delivered")).toHaveLength(2);
    expect(ids(r.requests).sort()).toEqual(["run-7:call-1", "run-7:call-2"]);
  });
});

describe("drain", () => {
  it("resolves at once when idle, else waits for in-flight deliveries to finish", async () => {
    const r = await receiver((res) => setTimeout(() => answer(200)(res), 300));
    const { n, outcomes } = notifier(r.url);
    // Idle: drained before the event loop turns once.
    const turned = new Promise((resolve) => setImmediate(() => resolve("the loop turned")));
    expect(await Promise.race([n.drain(5000).then(() => "drained"), turned])).toBe("drained");
    n.notify(event(1));
    n.notify(event(2));
    const started = performance.now();
    await n.drain(5000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(outcomes).toEqual(["delivered", "delivered"]);
  });

  it("gives up at its timeout: aborts requests, drops what is left, keeps no timer alive", async () => {
    const timers = trackTimers();
    const r = await receiver(() => {}); // never answers
    // Requests that would time out only long after the test's own timeout: waiting for them would hang it.
    const { n, outcomes, warnings } = notifier(r.url, { timeoutMs: 600_000 });
    for (let i = 1; i <= 6; i++) n.notify(event(i)); // 4 in flight, 2 queued
    const started = performance.now();
    await n.drain(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(outcomes).toEqual(Array(6).fill("dropped"));
    expect(n.pending).toBe(0);
    expect(warnings().at(-1)).toMatchObject({ undelivered: 6 });
    n.notify(event(7)); // closed now
    expect(outcomes).toHaveLength(7);
    expect(await timers.holding()).toBe(0);
    expect(r.requests.length).toBeLessThanOrEqual(4);
  });

  it("gives up on an event sleeping in backoff without waiting for the backoff", async () => {
    const timers = trackTimers();
    const r = await receiver(answer(503));
    const { n, outcomes } = notifier(r.url, { initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    n.notify(event());
    while (timers.created() < 2) await sleep(5); // the attempt's timer, then the backoff's
    await n.drain(100);
    expect(outcomes).toEqual(["dropped"]);
    expect(r.requests).toHaveLength(1);
    expect(await timers.holding()).toBe(0); // the 60 s backoff timer is unref'd
  });
});

describe("signature", () => {
  const body = serialiseEvent(event());
  const now = new Date("2025-01-02T03:10:00.000Z");
  const t = Math.floor(now.getTime() / 1000);
  const header = signBody(body, SECRET, t);

  it("verifies a valid signature; rejects tampering, a wrong secret, and timestamps out of tolerance", () => {
    expect(verifySignature(body, header, SECRET, { now })).toBe(true);
    expect(verifySignature(body.replace("completed", "failed"), header, SECRET, { now })).toBe(false);
    expect(verifySignature(body, header, "another-secret", { now })).toBe(false);
    expect(verifySignature(body, header.replace(`t=${t}`, `t=${t + 1}`), SECRET, { now })).toBe(false);

    const at = (secs: number) => new Date(now.getTime() + secs * 1000);
    expect(verifySignature(body, header, SECRET, { now: at(300) })).toBe(true);
    expect(verifySignature(body, header, SECRET, { now: at(301) })).toBe(false);
    expect(verifySignature(body, header, SECRET, { now: at(-301) })).toBe(false);
    expect(verifySignature(body, header, SECRET, { now: at(50), toleranceSeconds: 10 })).toBe(false);
  });

  it("rejects malformed headers and accepts any matching v1 (rotation)", () => {
    for (const bad of [undefined, "", "garbage", `t=${t}`, `v1=${"a".repeat(64)}`, `t=${t},v1=zz`]) {
      expect(verifySignature(body, bad, SECRET, { now })).toBe(false);
    }
    const other = signBody(body, "old-secret", t).split(",")[1];
    expect(verifySignature(body, `${header},${other}`, SECRET, { now })).toBe(true);
    expect(verifySignature(body, `t=${t},${other}`, SECRET, { now })).toBe(false);
  });
});
