/**
 * What the Event Streams end-to-end tests do alike on a seeded world: a daemon replica with its sink on a free
 * port, a call live at Twilio and active in the table, and reads of its row, its ends and the checks events asked
 * for.
 */

import { freePort } from "../../src/dev/free-port.js";
import { readActions, readCalls, seedCalls } from "../../src/dev/seed.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import type { Replica } from "./replica.js";
import type { SeededWorld } from "./scenario.js";
import { until } from "./wait.js";

export const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** The lines of the checks events asked for. */
export const reportedChecks = (r: Replica) => r.lines().filter((l) => l.msg === "reported ends checked");

export const firstPass = (r: Replica) =>
  until("the first pass", () => r.lines().some((l) => l.msg === "pass finished"));

/**
 * Starts `run` with its sink on a free port (`interval`: RECONCILE_INTERVAL_SECONDS, 600 by default, so that an
 * end within a test is an event's doing). `publicUrl`: what Twilio posts to, default the sink itself.
 */
export async function replicaWithSink(
  world: SeededWorld,
  start: (env: Record<string, string>) => Replica,
  opts: { interval?: number; publicUrl?: (port: number) => string; env?: Record<string, string> } = {},
): Promise<{ r: Replica; port: number; eventsUrl: string }> {
  const port = await freePort();
  const eventsUrl = opts.publicUrl?.(port) ?? `http://127.0.0.1:${port}/twilio/events`;
  const r = start({
    ...world.env,
    RECONCILE_INTERVAL_SECONDS: String(opts.interval ?? 600),
    LOG_LEVEL: "info",
    EVENTS_PORT: String(port),
    EVENTS_HOST: "127.0.0.1",
    EVENTS_URL: eventsUrl,
    ...opts.env,
  });
  return { r, port, eventsUrl };
}

/** A call live at Twilio and active in the table, started 10 minutes ago: a pass leaves it alone. */
export async function liveCall(world: SeededWorld, name: string) {
  const sid = fakeCallSid(name);
  const startedAt = wholeSecond(Date.now() - 600_000);
  world.sim.upsertCall({ sid, status: "in-progress", startTime: startedAt, endTime: null, duration: null });
  await seedCalls(world.db.pool, world.config.calls, [
    { id: name, twilioSid: sid, openaiId: null, status: "active", startedAt, endedAt: null },
  ]);
  return { id: name, sid, startedAt };
}

export const rowOf = async (world: SeededWorld, id: string) =>
  (await readCalls(world.db.pool, world.config.calls, [id]))[0];

/** The row once it is no longer active. */
export const endedRow = (world: SeededWorld, id: string) =>
  until(`${id} ended`, async () => {
    const row = await rowOf(world, id);
    return row?.status !== "active" ? row : undefined;
  });

/** The audit rows of the call's ends. */
export const endsOf = async (world: SeededWorld, id: string) =>
  (await readActions(world.db.pool, world.config.calls)).filter(
    (a) => a.callId === id && a.outcome === "ended",
  );
