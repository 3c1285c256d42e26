/**
 * Event Streams beside the app's SQLite file: the built CLI (`run`) on the file as the app's Python code creates
 * it, the Twilio simulator delivering signed batches. SQLite has no relay between replicas: a stand-by refuses
 * a batch (503) so that Twilio delivers it again, and the replica that leads ends the call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAppFile } from "../../src/dev/app-sqlite.js";
import { type AppCall, pythonIsoformat } from "../../src/dev/app-table.js";
import { freePort } from "../../src/dev/free-port.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli } from "../helpers/cli.js";
import { type Replica, startReplica } from "../helpers/replica.js";
import { liveAtTwilio, sqliteDaemonEnv, stopAll } from "../helpers/sqlite-daemon.js";
import { actionRows, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const TWILIO_ACCOUNT = { accountSid: `AC${"e".repeat(32)}`, authToken: "sqlite-events-token-0123456789ab" };
const NOW = Math.floor(Date.now() / 1000) * 1000;

const call = (name: string): AppCall => ({
  callId: fakeCallSid(`sqlite-events-${name}`),
  callType: "outbound",
  status: "active",
  startedAt: new Date(NOW - 10 * 60_000),
  endedAt: null,
  durationSeconds: null,
});
const first = call("first");
const second = call("second");

describe("Event Streams on the app's SQLite file", () => {
  let f: E2eFile;
  let twilio: TwilioSimulator;
  let env: Record<string, string>;
  const running: Replica[] = [];

  const rowOf = (c: AppCall) =>
    f.query<{ status: string; ended_at: string | null; duration_seconds: number | null }>(
      "SELECT status, ended_at, duration_seconds FROM calls WHERE call_id = ?",
      c.callId,
    )[0];
  const replica = async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/twilio/events`;
    const r = startReplica(
      { ...env, EVENTS_PORT: String(port), EVENTS_HOST: "127.0.0.1", EVENTS_URL: url },
      120_000,
    );
    running.push(r);
    return { r, url };
  };

  beforeAll(async () => {
    f = e2eFile("sqlite-events-e2e-");
    seedAppFile(f.path, [first, second]);
    twilio = await startTwilioSimulator(TWILIO_ACCOUNT);
    for (const c of [first, second]) liveAtTwilio(twilio, c);
    env = sqliteDaemonEnv(f, twilio, TWILIO_ACCOUNT, { RECONCILE_INTERVAL_SECONDS: "600" });
  });
  afterAll(() => stopAll(running, twilio, f));

  it("the leader ends a reported call in seconds, in the app's own format; a stand-by refuses, for Twilio to retry", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const leader = await replica();
    await until("the first pass", () => leader.r.lines().some((l) => l.msg === "pass finished"));
    twilio.addEventSink({ url: leader.url });

    const endTime = new Date(NOW - 60_000);
    twilio.endCall(first.callId, { endTime, duration: "540" });
    await until("the reported call ended", () => rowOf(first)?.status !== "active");
    // As the app's Python writes a time (no other end in the file shows a fraction to copy).
    expect(rowOf(first)).toEqual({
      status: "completed",
      ended_at: pythonIsoformat(endTime),
      duration_seconds: 540,
    });
    expect(actionRows(f).filter((a) => a.call_id === first.callId)).toHaveLength(1);

    const standby = await replica();
    await until("standing by", () =>
      standby.r.lines().some((l) => l.msg === "standing by: another replica leads"),
    );
    twilio.addEventSink({ url: standby.url, retryDelaysMs: [60_000] });
    twilio.endCall(second.callId, { endTime });
    await until("the stand-by's refusal", () => twilio.eventStats.failedDeliveries >= 1);
    expect(rowOf(second)?.status).toBe("active");
    expect(
      standby.r.lines().some((l) => l.msg === "reported ends checked"),
      "a stand-by checks nothing",
    ).toBe(false);
  });
});
