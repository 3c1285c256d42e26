/**
 * The demo's last step: the daemon with Event Streams. A call live at Twilio and active in the table; the daemon
 * starts with a pass interval of 5 minutes, passes once, and waits; the call ends at Twilio, whose event reaches
 * the sink a second later, and the row is ended seconds after the call, with Twilio's end time, long before the
 * next pass.
 */
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { type CallsTableMapping, loadConfig } from "../config/config.js";
import { freePort } from "../dev/free-port.js";
import { readCalls, seedCalls } from "../dev/seed.js";
import { createLogger } from "../log.js";
import { fakeCallSid } from "../sim/demo-scenario.js";
import type { DemoSimulators } from "../sim/demo-simulators.js";
import type { Say } from "./demo-steps.js";
import { runDaemon } from "./run.js";

const INTERVAL_SECONDS = 300;
/** Twilio's own delivery takes about this long; the simulator waits as much before it posts. */
const DELIVERY_DELAY_MS = 1_000;
const WAIT_MS = 20_000;

/** The daemon's log lines, kept to be read (not printed): the demo says what they show in words. */
class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString("utf8").split("\n"))
      if (line.startsWith("{")) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  said(msg: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.msg === msg);
  }
}

/** True when the row was ended by the event's check with Twilio's end time. */
export async function eventStreamsStep(
  say: Say,
  parts: { databaseUrl: string; pool: pg.Pool; mapping: CallsTableMapping; sims: DemoSimulators },
): Promise<boolean> {
  const { pool, mapping, sims } = parts;
  const port = await freePort();
  const eventsUrl = `http://127.0.0.1:${port}/twilio/events`;
  say(
    `\n$ EVENTS_PORT=${port} EVENTS_URL=${eventsUrl} RECONCILE_INTERVAL_SECONDS=${INTERVAL_SECONDS} call-reconciler run`,
  );
  say("  # with Event Streams: Twilio's ends reach the daemon as they happen; the pass is the resync");
  const config = loadConfig({
    DATABASE_URL: parts.databaseUrl,
    ...sims.env,
    RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: "0",
    EVENTS_PORT: String(port),
    EVENTS_HOST: "127.0.0.1",
    EVENTS_URL: eventsUrl,
    LOG_LEVEL: "info",
  });
  const log = new LogLines();
  const stop = new AbortController();
  const daemon = runDaemon(config, createLogger("info", log), { signal: stop.signal });
  try {
    const callId = "demo-event-1";
    const sid = fakeCallSid(callId);
    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 240_000);
    sims.twilio.upsertCall({
      sid,
      status: "in-progress",
      startTime: startedAt,
      endTime: null,
      duration: null,
    });
    await seedCalls(pool, mapping, [
      { id: callId, twilioSid: sid, openaiId: null, status: "active", startedAt, endedAt: null },
    ]);
    if ((await until(() => log.said("pass finished"))) === undefined) return false;
    say(`the daemon's first pass found call ${callId} live; its next pass is in ${INTERVAL_SECONDS} s`);
    // `call-reconciler events setup` creates this sink at Twilio; here the simulator is told directly.
    sims.twilio.addEventSink({ url: eventsUrl, deliveryDelayMs: DELIVERY_DELAY_MS });
    const endTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    sims.twilio.endCall(sid, { endTime, appResponseCode: 200 });
    say(
      `Twilio ends the call at ${endTime.toISOString()}; the app's webhook is lost; Twilio's event follows ${DELIVERY_DELAY_MS / 1000} s later`,
    );
    const row = await until(async () => {
      const [now] = await readCalls(pool, mapping, [callId]);
      return now !== undefined && now.status !== "active" ? now : undefined;
    });
    if (row === undefined) {
      say("the row was not ended in time");
      return false;
    }
    const after = (Date.now() - endTime.getTime()) / 1000;
    const exact = row.endedAt?.getTime() === endTime.getTime();
    say(
      `row ${callId}: ${row.status}, ended_at ${row.endedAt?.toISOString()} (${exact ? "Twilio's end time, exactly" : "NOT Twilio's end time"}), ended ${after.toFixed(1)} s after the call, before any pass`,
    );
    const check = await until(() => log.said("reported ends checked"));
    if (check !== undefined)
      say(
        `the check the event asked for: ${check.checked} call asked about, ${check.ended} ended; the cause, from what the app answered (${check.causesFromEvents} settled): the handler acknowledged the end without applying it`,
      );
    return exact;
  } finally {
    stop.abort();
    await daemon;
  }
}

async function until<T>(look: () => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const found = await look();
    if (found !== undefined) return found;
    await sleep(50);
  }
  return undefined;
}
