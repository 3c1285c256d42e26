/**
 * The Event Streams sink on a real HTTP server (port 0), driven with fetch as Twilio would post, each delivery
 * signed by the test's own signer.
 */
import { request } from "node:http";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EventSink,
  type EventSinkLimits,
  EventSinkListenError,
  type EventSinkObserver,
  startEventSink,
} from "../../src/events/sink-server.js";
import { createLogger } from "../../src/log.js";
import type { CallNudge } from "../../src/model/index.js";
import { callEvent, callSid } from "../helpers/call-event.js";
import { signEventBatch } from "../helpers/sign-event-batch.js";

const TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed";
const PUBLIC = "https://reconciler.example.com/twilio/events";
const NOW = new Date("2026-12-06T12:00:00.000Z");

type HandOff = (nudges: CallNudge[]) => Promise<"accepted" | "unavailable">;

interface Harness {
  sink: EventSink;
  handed: CallNudge[][];
  seen: string[];
  logs: Array<Record<string, unknown>>;
  logText: () => string;
  setHandOff(f: HandOff): void;
}

const sinks: EventSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

async function start(limits: Partial<EventSinkLimits> = {}, port = 0): Promise<Harness> {
  const handed: CallNudge[][] = [];
  const seen: string[] = [];
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(
        ...String(chunk)
          .split("\n")
          .filter((l) => l.trim() !== ""),
      );
      done();
    },
  });
  const observer: EventSinkObserver = {
    received: (n) => seen.push(`received ${n}`),
    refused: (reason) => seen.push(`refused ${reason}`),
    duplicate: (n) => seen.push(`duplicate ${n}`),
    ignored: (reason, n) => seen.push(`ignored ${reason} ${n}`),
    queued: (n) => seen.push(`queued ${n}`),
  };
  let handOff: HandOff = async (nudges) => {
    handed.push(nudges);
    return "accepted";
  };
  const sink = await startEventSink({
    host: "127.0.0.1",
    port,
    publicUrl: PUBLIC,
    authToken: TOKEN,
    logger: createLogger("info", out),
    now: () => NOW,
    limits,
    observer,
    onNudges: (nudges) => handOff(nudges),
  });
  sinks.push(sink);
  return {
    sink,
    handed,
    seen,
    get logs() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join("\n"),
    setHandOff(f) {
      handOff = f;
    },
  };
}

interface PostOptions {
  token?: string;
  signedFor?: string;
  unsigned?: boolean;
  /** The body sent, when it differs from the one signed. */
  sent?: string;
  path?: string;
  method?: string;
}

/** Posts `body` to the sink as Twilio does: the signed URL's query string, and its signature in the header. */
async function post(h: Harness, body: string, o: PostOptions = {}) {
  const signed = signEventBatch(o.token ?? TOKEN, o.signedFor ?? PUBLIC, body);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (o.unsigned !== true) headers["X-Twilio-Signature"] = signed.signature;
  const res = await fetch(`${h.sink.url}${o.path ?? "/twilio/events"}${new URL(signed.url).search}`, {
    method: o.method ?? "POST",
    headers,
    body: (o.method ?? "POST") === "POST" ? (o.sent ?? body) : null,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const batch = (...events: unknown[]) => JSON.stringify(events);

describe("the Event Streams sink", () => {
  it("a signed batch is answered 200 and its terminal events are handed on as nudges", async () => {
    const h = await start();
    const res = await post(
      h,
      batch(
        callEvent({ id: "EV1", callSid: callSid(1) }),
        callEvent({ id: "EV2", callSid: callSid(2), callStatus: "no-answer", responseCode: 500 }),
      ),
    );
    expect(res).toEqual({ status: 200, body: { received: 2, queued: 2, duplicate: 0, ignored: 0 } });
    expect(h.handed).toEqual([
      [
        expect.objectContaining({
          eventId: "EV1",
          callSid: callSid(1),
          callStatus: "completed",
          eventAt: NOW,
        }),
        expect.objectContaining({ eventId: "EV2", callSid: callSid(2), appResponseCode: 500 }),
      ],
    ]);
    expect(h.seen).toEqual(["received 2", "queued 2"]);
  });

  it.each([
    ["unsigned", 401, "signature_missing", { unsigned: true }],
    ["signed with another token", 403, "signature_invalid", { token: "0".repeat(32) }],
    [
      "signed for another URL",
      403,
      "signature_invalid",
      { signedFor: "https://other.example.com/twilio/events" },
    ],
    [
      "altered after signing",
      403,
      "body_hash_mismatch",
      { sent: batch(callEvent({ id: "EV1", callSid: callSid(9) })) },
    ],
  ] as const)("a delivery %s is refused %s (%s) and nudges nothing", async (_what, status, reason, opts) => {
    const h = await start();
    const res = await post(h, batch(callEvent({ id: "EV1" })), opts);
    expect(res).toEqual({ status, body: { error: reason } });
    expect(h.handed).toEqual([]);
    expect(h.seen).toEqual([`refused ${reason}`]);
  });

  it("a delivery without bodySHA256 in its query is refused 403", async () => {
    const h = await start();
    const body = batch(callEvent());
    const { signature } = signEventBatch(TOKEN, PUBLIC, body);
    const res = await fetch(`${h.sink.url}/twilio/events`, {
      method: "POST",
      headers: { "X-Twilio-Signature": signature },
      body,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "body_hash_missing" });
    expect(h.handed).toEqual([]);
  });

  it("the signature is checked before the body is parsed: an unsigned non-JSON body is a 401, not a 400", async () => {
    const h = await start();
    expect((await post(h, "not json", { unsigned: true })).status).toBe(401);
    expect(h.seen).toEqual(["refused signature_missing"]);
  });

  it.each([
    ["not JSON", "[{", "not_json"],
    ["not an array", JSON.stringify(callEvent()), "not_a_batch"],
    [
      "too many events",
      batch(callEvent(), callEvent({ id: "EV2" }), callEvent({ id: "EV3" })),
      "too_many_events",
    ],
  ])("a signed delivery %s is refused 400", async (_what, body, reason) => {
    const h = await start({ maxEvents: 2 });
    expect(await post(h, body)).toEqual({ status: 400, body: { error: reason } });
    expect(h.handed).toEqual([]);
    expect(h.seen).toEqual([`refused ${reason}`]);
  });

  it.each([
    ["POST /twilio/event", 404, "not_found", { path: "/twilio/event" }],
    ["POST /", 404, "not_found", { path: "/" }],
    ["POST /twilio/events/", 404, "not_found", { path: "/twilio/events/" }],
    ["GET /twilio/events", 405, "method_not_allowed", { method: "GET" }],
    ["PUT /twilio/events", 405, "method_not_allowed", { method: "PUT" }],
  ] as const)("%s is answered %s (%s)", async (_what, status, reason, opts) => {
    const h = await start();
    expect(await post(h, batch(callEvent()), opts)).toEqual({ status, body: { error: reason } });
    expect(h.handed).toEqual([]);
  });

  it("405 says which method is allowed", async () => {
    const h = await start();
    const res = await fetch(`${h.sink.url}/twilio/events`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("a body declared larger than the bound is refused 413 before any of it is read", async () => {
    const h = await start({ maxBodyBytes: 1024 });
    // The body is never finished: only an answer given without reading it all can arrive.
    const status = await postUnfinished(h, { "Content-Length": String(10 * 1024 * 1024) }, Buffer.alloc(16));
    expect(status).toBe(413);
    expect(h.seen).toEqual(["refused too_large"]);
  });

  it("an undeclared body is refused 413 once the bytes read pass the bound", async () => {
    const h = await start({ maxBodyBytes: 1024 });
    const status = await postUnfinished(h, { "Transfer-Encoding": "chunked" }, Buffer.alloc(2048, "["));
    expect(status).toBe(413);
    expect(h.seen).toEqual(["refused too_large"]);
    expect(h.handed).toEqual([]);
  });

  it("a body of exactly the bound is read", async () => {
    const body = batch(callEvent());
    const h = await start({ maxBodyBytes: Buffer.byteLength(body) });
    expect((await post(h, body)).status).toBe(200);
    expect(h.handed).toHaveLength(1);
  });

  it("an event id delivered twice nudges once; the second delivery is still answered 200", async () => {
    const h = await start();
    const first = await post(h, batch(callEvent({ id: "EV1", callSid: callSid(1) })));
    const second = await post(
      h,
      batch(callEvent({ id: "EV1", callSid: callSid(1) }), callEvent({ id: "EV2", callSid: callSid(2) })),
    );
    expect(first.status).toBe(200);
    expect(second).toEqual({ status: 200, body: { received: 2, queued: 1, duplicate: 1, ignored: 0 } });
    expect(h.handed.map((b) => b.map((n) => n.eventId))).toEqual([["EV1"], ["EV2"]]);
    expect(h.seen).toEqual(["received 1", "queued 1", "received 2", "duplicate 1", "queued 1"]);
  });

  it("a delivery of nothing but duplicates does not call the hand-off", async () => {
    const h = await start();
    const body = batch(callEvent({ id: "EV1" }));
    await post(h, body);
    expect((await post(h, body)).status).toBe(200);
    expect(h.handed).toHaveLength(1);
  });

  it("stale and non-terminal events are ignored, counted, and answered 200", async () => {
    const h = await start();
    const res = await post(
      h,
      batch(
        callEvent({ id: "EV1", time: "2026-12-05T12:00:00Z" }),
        callEvent({
          id: "EV2",
          callStatus: "ringing",
          type: "com.twilio.voice.status-callback.call.ringing",
        }),
        callEvent({ id: "EV3", callStatus: "in-progress" }),
      ),
    );
    expect(res).toEqual({ status: 200, body: { received: 3, queued: 0, duplicate: 0, ignored: 3 } });
    expect(h.handed).toEqual([]);
    expect(h.seen).toEqual(["received 3", "ignored not_terminal 2", "ignored stale 1"]);
  });

  it("a hand-off that cannot queue is answered 503, and Twilio's retry of the same events is nudged", async () => {
    const h = await start();
    h.setHandOff(async () => "unavailable");
    const body = batch(callEvent({ id: "EV1" }));
    expect((await post(h, body)).status).toBe(503);
    h.setHandOff(async (nudges) => {
      h.handed.push(nudges);
      return "accepted";
    });
    expect((await post(h, body)).status).toBe(200);
    expect(h.handed.map((b) => b.map((n) => n.eventId))).toEqual([["EV1"]]);
    expect(h.seen).toEqual(["received 1", "refused unavailable", "received 1", "queued 1"]);
  });

  it("a hand-off that throws is answered 503, logged in one line, and the sink keeps serving", async () => {
    const h = await start();
    h.setHandOff(async () => {
      throw new Error("relay down");
    });
    expect((await post(h, batch(callEvent({ id: "EV1" })))).status).toBe(503);
    h.setHandOff(async (nudges) => {
      h.handed.push(nudges);
      return "accepted";
    });
    expect((await post(h, batch(callEvent({ id: "EV1" })))).status).toBe(200);
    expect(h.handed).toHaveLength(1);
    const failures = h.logs.filter((l) => l.reason === "failed");
    expect(failures).toEqual([expect.objectContaining({ level: 40, error: "relay down" })]);
  });

  it("a hand-off that throws without a promise is answered 503 too", async () => {
    const h = await start();
    h.setHandOff(() => {
      throw new Error("sync");
    });
    expect((await post(h, batch(callEvent()))).status).toBe(503);
    expect(h.seen).toContain("refused failed");
  });

  it("a hand-off that does not answer in time is answered 503", async () => {
    const h = await start({ handoffTimeoutMs: 20 });
    h.setHandOff(() => new Promise(() => {}));
    expect((await post(h, batch(callEvent()))).status).toBe(503);
    expect(h.seen).toEqual(["received 1", "refused unavailable"]);
  });

  it("never logs the auth token nor the body; a refusal line names its reason and the peer", async () => {
    const h = await start();
    const marker = "BODY-MARKER-7f3a";
    const body = batch({ ...callEvent(), note: marker });
    await post(h, body);
    await post(h, body, { unsigned: true });
    await post(h, body, { token: "1".repeat(32) });
    await post(h, "[{", { unsigned: false });
    h.setHandOff(async () => {
      throw new Error("relay down");
    });
    await post(h, batch(callEvent({ id: "EV9" }), { note: marker }));
    expect(h.logs.length).toBeGreaterThanOrEqual(4);
    expect(h.logText()).not.toContain(TOKEN);
    expect(h.logText()).not.toContain(marker);
    expect(h.logs).toContainEqual(
      expect.objectContaining({ level: 40, reason: "signature_missing", remoteAddress: "127.0.0.1" }),
    );
  });

  it("a peer that goes away mid-body leaves the sink serving", async () => {
    const h = await start();
    await new Promise<void>((resolve) => {
      const req = request(`${h.sink.url}/twilio/events`, {
        method: "POST",
        headers: { "Content-Length": "100" },
      });
      req.on("error", () => resolve());
      req.write("[", () => req.destroy());
    });
    expect((await post(h, batch(callEvent()))).status).toBe(200);
    expect(h.handed).toHaveLength(1);
  });

  it("a port already taken is an error naming it", async () => {
    const h = await start();
    const port = Number(new URL(h.sink.url).port);
    const taken = start({}, port);
    await expect(taken).rejects.toBeInstanceOf(EventSinkListenError);
    await expect(taken).rejects.toThrow(`EVENTS_PORT: 127.0.0.1:${port} is already in use`);
  });

  it("close() stops it listening, with a kept-alive connection open", async () => {
    const h = await start();
    expect((await post(h, batch(callEvent()))).status).toBe(200);
    await h.sink.close();
    await expect(fetch(`${h.sink.url}/twilio/events`, { method: "POST", body: "[]" })).rejects.toThrow();
  });
});

/** Sends headers and `chunk` but never ends the body; resolves with the status of whatever answer arrives. */
function postUnfinished(h: Harness, headers: Record<string, string>, chunk: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.sink.url}/twilio/events?bodySHA256=00`, {
      method: "POST",
      headers: { "X-Twilio-Signature": "x", ...headers },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    req.write(chunk);
  });
}
