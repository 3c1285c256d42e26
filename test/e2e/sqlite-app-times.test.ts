/**
 * The other ways a Python app writes its times into the SQLite file: `isoformat()` of an aware UTC datetime
 * (`+00:00`, no CALLS_TIME_ZONE needed), of a naive local one (CALLS_TIME_ZONE names the zone), and `str()` of a
 * datetime (a space between date and time: sqlite3's own adapter). A Twilio end and a realtime end at the session
 * cap are written back by the built CLI in exactly the rows' shape; the live rows and the history are left as
 * they were.
 */
import { afterAll, describe, expect, it } from "vitest";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { formatIso, type IsoShape } from "../../src/time/iso-text.js";
import { runCli } from "../helpers/cli.js";
import { actionRows, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = `AC${"d".repeat(32)}`;
const TOKEN = "sqlite-times-token-0123456789";
const OPENAI_KEY = "sk-sqlite-times-0123456789";
const CAP_SECONDS = 3600;
const NOW = Date.now();
const stamped = (minutesAgo: number) => new Date(Math.floor((NOW - minutesAgo * 60_000) / 1000) * 1000 + 417);

const micro = (offset: IsoShape["offset"], separator: "T" | " " = "T"): IsoShape => ({
  separator,
  fraction: 6,
  seconds: true,
  offset,
});

const cases: Array<{ name: string; shape: IsoShape; zone: string | undefined }> = [
  {
    name: "aware UTC (isoformat, +00:00)",
    shape: micro({ kind: "numeric", minutes: 0, style: "colon" }),
    zone: undefined,
  },
  {
    name: "naive local time (isoformat, Europe/Paris)",
    shape: micro({ kind: "none" }),
    zone: "Europe/Paris",
  },
  { name: "str() of a naive UTC datetime (a space)", shape: micro({ kind: "none" }, " "), zone: "UTC" },
];

describe.each(cases)("the app's SQLite file with its times written as $name", ({ name, shape, zone }) => {
  const text = (d: Date) => formatIso(d, shape, zone);
  const zombieSid = fakeCallSid(`sqlite-times-${name}-zombie`);
  const liveSid = fakeCallSid(`sqlite-times-${name}-live`);
  const doneSid = fakeCallSid(`sqlite-times-${name}-done`);
  const goneRtc = `rtc_sqlite_times_${cases.findIndex((c) => c.name === name)}`;
  const zombieStart = stamped(30);
  const twilioEnd = new Date(Math.floor(zombieStart.getTime() / 1000) * 1000 + 95_000);
  const rtcStart = stamped(200);
  let f: E2eFile | undefined;
  let twilio: TwilioSimulator | undefined;
  let openai: OpenAISimulator | undefined;
  afterAll(async () => {
    await twilio?.close();
    await openai?.close();
    f?.remove();
  });

  it("ends a Twilio zombie and a gone realtime call in the rows' own shape", async () => {
    f = e2eFile("sqlite-times-e2e-");
    const file = f;
    const insert = (
      id: string,
      started: Date,
      status = "active",
      ended: Date | null = null,
      duration: number | null = null,
    ) =>
      file.exec(
        "INSERT INTO calls (call_id, call_type, started_at, ended_at, duration_seconds, status) VALUES (?, 'outbound', ?, ?, ?, ?)",
        id,
        text(started),
        ended === null ? null : text(ended),
        duration,
        status,
      );
    insert(zombieSid, zombieStart);
    insert(liveSid, stamped(20));
    insert(goneRtc, rtcStart);
    insert(doneSid, stamped(300), "completed", stamped(298), 120);
    const rows = () =>
      new Map(
        file
          .query<Record<string, unknown> & { call_id: string }>("SELECT * FROM calls")
          .map((r) => [r.call_id, { ...r }]),
      );
    const before = rows();

    twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    openai = await startOpenAISimulator({ apiKey: OPENAI_KEY });
    twilio.upsertCall({
      sid: zombieSid,
      status: "completed",
      startTime: new Date(twilioEnd.getTime() - 93_000),
      endTime: twilioEnd,
      duration: "93",
    });
    twilio.upsertCall({
      sid: liveSid,
      status: "in-progress",
      startTime: stamped(20),
      endTime: null,
      duration: null,
    });
    openai.upsertSession({ callId: goneRtc, live: false });
    const env: Record<string, string> = {
      ...file.env,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_STRATEGY: "per-call",
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_MAX_SESSION_SECONDS: String(CAP_SECONDS),
      RECONCILE_INTERVAL_SECONDS: "1",
      DIAGNOSIS_REQUEST_SHARE: "0",
    };
    if (zone === undefined) delete env.CALLS_TIME_ZONE;
    else env.CALLS_TIME_ZONE = zone;

    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const first = await runCli(["audit", "--apply", "--json"], env, 60_000);
    expect(first.stderr, first.stderr).not.toMatch(/^\s+at /m);
    expect(JSON.parse(first.stdout).summary).toMatchObject({
      checked: 3,
      live: 1,
      ended: 1,
      unverified: { absence_unconfirmed: 1 },
    });
    expect(rows().get(zombieSid)).toEqual({
      ...before.get(zombieSid),
      status: "completed",
      ended_at: text(twilioEnd),
      duration_seconds: 93,
    });

    await until("the realtime call's first absence is a pass interval old", () => {
      const [s] = file.query<{ first_gone_at: string | null }>(
        "SELECT first_gone_at FROM call_reconciler_sightings WHERE realtime_call_id = ?",
        goneRtc,
      );
      return s?.first_gone_at != null && Date.now() >= Date.parse(s.first_gone_at) + 1000;
    });
    const second = await runCli(["audit", "--apply", "--json"], env, 60_000);
    expect(JSON.parse(second.stdout).summary).toMatchObject({ checked: 2, live: 1, ended: 1 });
    const after = rows();
    expect(after.get(goneRtc)).toEqual({
      ...before.get(goneRtc),
      status: "completed",
      ended_at: text(new Date(rtcStart.getTime() + CAP_SECONDS * 1000)),
      duration_seconds: CAP_SECONDS,
    });
    expect(after.get(liveSid)).toEqual(before.get(liveSid));
    expect(after.get(doneSid)).toEqual(before.get(doneSid));
    // The audit trail keeps the instants, in UTC, whatever the app's shape.
    expect(actionRows(file).map((a) => [a.call_id, a.ended_at])).toEqual([
      [zombieSid, twilioEnd.toISOString()],
      [goneRtc, new Date(rtcStart.getTime() + CAP_SECONDS * 1000).toISOString()],
    ]);
  });
});
