import { afterEach, describe, expect, it } from "vitest";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { type CallbackCause, type CauseOptions, withCause } from "../../src/sim/twilio-sim-causes.js";
import { runCli } from "../helpers/cli.js";
import { activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";

const START = whole(Date.now() - 3 * 3600_000);
const END = whole(START.getTime() + 180_000);
const TOKENED = "https://api.example.org/twilio/status?token=s3cr3t-token";

type Zombie = [
  id: string,
  cause: CallbackCause | null,
  opts: CauseOptions,
  expected: Record<string, unknown>,
];

const ZOMBIES: Zombie[] = [
  ["ack-1", "acknowledged", { statusCallback: TOKENED }, { cause: "callback_acknowledged" }],
  ["ack-2", "acknowledged", { statusCallback: TOKENED }, { cause: "callback_acknowledged" }],
  [
    "fail-500",
    "failed",
    { failure: "http_500" },
    { cause: "callback_failed", detail: { responseCode: 500 } },
  ],
  [
    "fail-timeout",
    "failed",
    { failure: "timeout" },
    { cause: "callback_failed", detail: { errorCode: "11200" } },
  ],
  [
    "none",
    "not_requested",
    {},
    { cause: "callback_not_requested", detail: { reason: "no_status_callback_url" } },
  ],
  [
    "no-completed",
    "not_requested",
    { notRequested: "completed_not_subscribed" },
    { cause: "callback_not_requested", detail: { reason: "completed_not_in_events" } },
  ],
  ["inbound", "inbound_no_callback", {}, { cause: "callback_not_requested", direction: "inbound" }],
];

function ended(id: string): SimTwilioCall {
  return {
    sid: sid(id),
    status: "completed",
    startTime: START,
    endTime: END,
    duration: String((END.getTime() - START.getTime()) / 1000),
  };
}

async function world(): Promise<Matrix> {
  const rows = [...ZOMBIES.map(([id]) => id), "live"].map((id) => activeRow(id, START, { sid: sid(id) }));
  const m = await startMatrix(rows, {}, { diagnoses: true });
  for (const [id, cause, opts] of ZOMBIES)
    m.twilio.upsertCall(cause === null ? ended(id) : withCause(ended(id), cause, opts));
  m.twilio.upsertCall({
    sid: sid("live"),
    status: "in-progress",
    startTime: START,
    endTime: null,
    duration: null,
  });
  return m;
}

const causes = async (m: Matrix) =>
  new Map(
    (
      await m.db.pool.query<{
        call_id: string;
        cause: string | null;
        direction: string | null;
        detail: unknown;
      }>("SELECT call_id, cause, direction, detail FROM call_reconciler_causes")
    ).rows.map((r) => [r.call_id, r]),
  );

describe("each zombie's cause, read from Twilio's records after its end (real Postgres, the simulator)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("ends first, then diagnoses every cause within two requests a zombie, keeping no token or number", async () => {
    m = await world();
    const r = await m.pass();
    expect(r.ended).toBe(ZOMBIES.length);
    const found = await causes(m);
    for (const [id, , , expected] of ZOMBIES) expect(found.get(id), id).toMatchObject(expected);
    expect(found.has("live")).toBe(false);
    const { events, notifications } = m.twilio.stats;
    expect(events).toBe(ZOMBIES.length);
    // Acknowledged callbacks settle on their events alone.
    expect(notifications).toBe(ZOMBIES.length - 2);
    expect(r.diagnoses.requests).toBe(events + notifications);
    const stored = JSON.stringify([...found.values()]);
    expect(stored).not.toMatch(/s3cr3t|token|\+1500555|Internal Server Error/);
    expect(found.get("ack-1")?.detail).toMatchObject({
      endpoint: { scheme: "https", host: "api.example.org", path: "/twilio/status" },
      responseCode: 200,
    });
    expect(await m.metrics.registry.getSingleMetricAsString("call_reconciler_zombie_causes_total")).toMatch(
      /call_reconciler_zombie_causes_total\{cause="callback_acknowledged"\} [1-9]/,
    );
    // Settled: the next pass asks nothing more.
    await m.pass();
    expect(m.twilio.stats.events).toBe(events);
  });

  it("report counts each cause exactly, says what to fix, and tells one call's story", async () => {
    m = await world();
    await m.pass();
    const env = { DATABASE_URL: m.db.url };
    const json = await runCli(["report", "--json"], env);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({
      zombies: ZOMBIES.length,
      byCause: { callback_acknowledged: 2, callback_failed: 2, callback_not_requested: 3 },
      byDirection: { "outbound-api": { completed: 6 }, inbound: { completed: 1 } },
      lifetimeSeconds: { max: expect.any(Number) },
    });
    expect(
      summary.byEndpoint.find((g: { cause: string }) => g.cause === "callback_acknowledged"),
    ).toMatchObject({
      cause: "callback_acknowledged",
      endpoint: "POST https://api.example.org/twilio/status",
      calls: 2,
      responseCode: 200,
    });
    const text = await runCli(["report"], env);
    expect(text.stdout).toMatch(
      /Twilio delivered `completed` for 2 of 7 calls to POST https:\/\/api.example.org\/twilio\/status and got 200 in about \d+ ms, but the rows stayed active: that handler acknowledges the end without ending the call\./,
    );
    expect(text.stdout).toMatch(/got 500 \(Twilio error 15003\): that endpoint fails/);
    expect(text.stdout).toMatch(/created without a StatusCallback/);
    expect(text.stdout).not.toMatch(/s3cr3t|\+1500555/);
    const story = await runCli(["report", "--call", "fail-500"], env);
    expect(story.code).toBe(0);
    expect(story.stdout).toMatch(/cause callback_failed/);
    expect(story.stdout).toMatch(
      /Twilio sent completed to POST https:\/\/app.example.com\/twilio\/status: the app answered 500/,
    );
    expect(story.stdout).toMatch(/the daemon ended the row .*active → completed/);
    expect((await runCli(["report", "--call", "nobody"], env)).code).toBe(1);
    const bad = await runCli(["report", "--since", "last week"], env);
    expect([bad.code, bad.stderr.trim().split("\n")]).toEqual([
      2,
      [expect.stringMatching(/--since "last week" is not 7d/)],
    ]);
  });

  it("a token in the callback URL's path is stored and reported as :redacted, its path's shape kept", async () => {
    const secret = "sk_live_abc123DEF456ghi789jkl";
    const hook = `https://api.example.org/twilio/${secret}/status`;
    const ids = ["path-ack", "path-fail"];
    m = await startMatrix(
      ids.map((id) => activeRow(id, START, { sid: sid(id) })),
      {},
      { diagnoses: true },
    );
    m.twilio.upsertCall(withCause(ended("path-ack"), "acknowledged", { statusCallback: hook }));
    m.twilio.upsertCall(
      withCause(ended("path-fail"), "failed", { statusCallback: hook, failure: "http_500" }),
    );
    expect((await m.pass()).ended).toBe(2);
    const found = await causes(m);
    const endpoint = { scheme: "https", host: "api.example.org", path: "/twilio/:redacted/status" };
    expect(found.get("path-ack")).toMatchObject({ cause: "callback_acknowledged", detail: { endpoint } });
    expect(found.get("path-fail")).toMatchObject({ cause: "callback_failed", detail: { endpoint } });
    expect(JSON.stringify([...found.values()])).not.toContain(secret);

    const env = { DATABASE_URL: m.db.url };
    const outputs = await Promise.all([
      runCli(["report", "--json"], env),
      runCli(["report"], env),
      runCli(["report", "--call", "path-ack"], env),
      runCli(["report", "--call", "path-fail"], env),
    ]);
    for (const out of outputs) {
      expect(out.code).toBe(0);
      expect(out.stdout).toContain("https://api.example.org/twilio/:redacted/status");
      expect(out.stdout + out.stderr).not.toContain(secret);
    }

    // A row written before paths were redacted is reported redacted all the same.
    await m.db.pool.query(
      `UPDATE call_reconciler_causes SET detail = jsonb_set(detail, '{endpoint,path}', to_jsonb($1::text))
        WHERE call_id = 'path-ack'`,
      [`/twilio/${secret}/status`],
    );
    for (const args of [["report", "--json"], ["report"], ["report", "--call", "path-ack"]]) {
      const out = await runCli(args, env);
      expect(out.stdout).toContain("https://api.example.org/twilio/:redacted/status");
      expect(out.stdout).not.toContain(secret);
    }
  });

  it("a dry run queues nothing; a budget too small for one zombie asks nothing", async () => {
    m = await world();
    await m.pass({ dryRun: true });
    expect((await causes(m)).size).toBe(0);
    if (m.deps.diagnosis) m.deps.diagnosis.maxRequests = 3;
    const r = await m.pass();
    expect(r.ended).toBe(ZOMBIES.length);
    // Three requests: one zombie with both reads at most, never a third started.
    expect(r.diagnoses.requests).toBeLessThanOrEqual(3);
    expect([...(await causes(m)).values()].filter((c) => c.cause !== null).length).toBeGreaterThanOrEqual(1);
  });

  it("unknown: a call that ended longer ago than Twilio keeps its records is settled without asking", async () => {
    const started = whole(Date.now() - 31 * 86_400_000);
    const endedAt = whole(started.getTime() + 60_000);
    m = await startMatrix([activeRow("old", started, { sid: sid("old") })], {}, { diagnoses: true });
    m.twilio.upsertCall({
      sid: sid("old"),
      status: "completed",
      startTime: started,
      endTime: endedAt,
      duration: "60",
    });
    const r = await m.pass();
    expect(r.ended).toBe(1);
    expect((await causes(m)).get("old")).toMatchObject({
      cause: "unknown",
      detail: { reason: "records_expired" },
    });
    expect(m.twilio.stats.events).toBe(0);
    expect(r.diagnoses).toMatchObject({ requests: 0, settled: { unknown: 1 } });
  });

  it("records that cannot be read are asked again later, never settled as a cause", async () => {
    m = await world();
    const call = withCause(ended("ack-1"), "acknowledged");
    m.twilio.upsertCall({
      ...call,
      records: { ...(call.records as object), fault: { kind: "http", status: 503 } } as never,
    });
    await m.pass();
    const { rows } = await m.db.pool.query<{
      cause: string | null;
      attempts: number;
      last_error: string;
      due_at: Date;
    }>("SELECT cause, attempts, last_error, due_at FROM call_reconciler_causes WHERE call_id = 'ack-1'");
    expect(rows[0]).toMatchObject({
      cause: null,
      attempts: 1,
      last_error: expect.stringMatching(/events: HTTP 503/),
    });
    expect(rows[0]?.due_at.getTime()).toBeGreaterThan(Date.now());
    // The others were not held up by it.
    expect([...(await causes(m)).values()].filter((c) => c.cause !== null)).toHaveLength(ZOMBIES.length - 1);
  });
});
