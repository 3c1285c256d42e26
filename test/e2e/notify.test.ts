import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifySignature } from "../../src/notify/event.js";
import { runCli } from "../helpers/cli.js";
import { endedBy, type SeededWorld, seededWorld } from "../helpers/scenario.js";

const SECRET = "notify-secret-for-tests";

interface Received {
  body: string;
  valid: boolean;
  eventId: string | undefined;
}

async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let failFirst = 3;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      // A flaky receiver: the first few deliveries fail and must be retried.
      if (failFirst-- > 0) {
        res.writeHead(503).end();
        return;
      }
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
      received.push({
        body,
        valid: verifySignature(body, typeof header === "string" ? header : undefined, SECRET),
        eventId: req.headers[EVENT_ID_HEADER.toLowerCase()] as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/calls`, received };
}

describe("downstream notification of ended calls", () => {
  let world: SeededWorld;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeEach(async () => {
    world = await seededWorld();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await new Promise((r) => receiver.server.close(r));
    await world.close();
  });

  it("pg_notify in the ending transaction and a signed, retried webhook per ended call", async () => {
    const listener = new pg.Client({ connectionString: world.db.url });
    await listener.connect();
    const notified: Record<string, unknown>[] = [];
    let barrierArrived = () => {};
    listener.on("notification", (n) => {
      if (n.channel !== "call_reconciler_ended") return;
      const payload = JSON.parse(n.payload ?? "{}");
      if (payload.barrier === true) barrierArrived();
      else notified.push(payload);
    });
    await listener.query("LISTEN call_reconciler_ended");
    try {
      const r = await runCli(["audit", "--apply"], {
        ...world.env,
        NOTIFY_URL: receiver.url,
        NOTIFY_SECRET: SECRET,
      });
      expect(r.code).toBe(3);
      const actions = await readActions(world.db.pool, world.config.calls);
      const ended = endedBy(world.scenario, false)
        .map((c) => c.row.id)
        .sort();
      expect(actions.map((a) => a.callId).sort()).toEqual(ended);

      // Every ended call: one NOTIFY with its end, delivered on commit. PostgreSQL delivers notifications in
      // commit order, so once one sent now arrives, every one the CLI's transactions sent has too.
      const barrier = new Promise<void>((resolve) => {
        barrierArrived = resolve;
      });
      await listener.query(`SELECT pg_notify('call_reconciler_ended', '{"barrier":true}')`);
      await barrier;
      expect(notified.map((n) => n.callId).sort()).toEqual(ended);
      for (const a of actions) {
        expect(notified.find((n) => n.callId === a.callId)).toMatchObject({
          status: a.newStatus,
          endedAt: a.endedAt.toISOString(),
          source: a.source,
          runId: a.runId,
        });
      }

      // Every ended call: one signed webhook event (the receiver failed the first three: retried).
      expect(receiver.received.every((x) => x.valid)).toBe(true);
      const events = receiver.received.map((x) => JSON.parse(x.body));
      expect(events.map((e) => e.callId).sort()).toEqual(ended);
      for (const e of events) {
        const a = actions.find((x) => x.callId === e.callId);
        expect(e).toMatchObject({
          type: "call.ended",
          status: a?.newStatus,
          endedAt: a?.endedAt.toISOString(),
          source: a?.source,
          runId: a?.runId,
        });
      }
      expect(new Set(receiver.received.map((x) => x.eventId)).size).toBe(ended.length);
      // Nothing for calls that were not ended: a dry run sends nothing.
      receiver.received.length = 0;
      notified.length = 0;
      await runCli(["audit"], { ...world.env, NOTIFY_URL: receiver.url, NOTIFY_SECRET: SECRET });
      expect(receiver.received).toEqual([]);
      expect(notified).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  it("a receiver that is down never blocks or undoes an end", async () => {
    const r = await runCli(["audit", "--apply"], {
      ...world.env,
      NOTIFY_URL: "http://127.0.0.1:9/down",
      NOTIFY_SECRET: SECRET,
      LOG_LEVEL: "warn",
    });
    expect(r.code).toBe(3);
    expect((await readActions(world.db.pool, world.config.calls)).length).toBe(
      endedBy(world.scenario, false).length,
    );
    expect(r.stderr).not.toContain(SECRET);
  });
});
