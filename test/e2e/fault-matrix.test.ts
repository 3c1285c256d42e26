import { afterEach, describe, expect, it } from "vitest";
import type { SeedCall } from "../../src/dev/seed.js";
import { passOutcome } from "../../src/reconcile/pass.js";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { activeRow, type Matrix, rtc, sid, startMatrix, whole } from "../helpers/matrix.js";

const NOW = Date.now();
const START = whole(NOW - 2 * 3600_000);
const END = whole(NOW - 3600_000);
const completed = (name: string, extra: Partial<SimTwilioCall> = {}): SimTwilioCall => ({
  sid: sid(name),
  status: "completed",
  startTime: START,
  endTime: END,
  duration: "3600",
  ...extra,
});
const inProgress = (name: string, extra: Partial<SimTwilioCall> = {}): SimTwilioCall => ({
  sid: sid(name),
  status: "in-progress",
  startTime: START,
  endTime: null,
  duration: null,
  ...extra,
});

type Want = { untouched: true } | { status: string; endedAt: Date | "first-sighting"; source: string };
interface Case {
  name: string;
  row: SeedCall;
  twilio?: SimTwilioCall;
  realtime?: { live: boolean; fault?: Parameters<Matrix["openai"]["setFault"]>[1] };
  want: Want;
}

const keep: Want = { untouched: true };
const byTwilio = (status: string, endedAt: Date): Want => ({ status, endedAt, source: "twilio" });

const CASES: Case[] = [
  {
    name: "t-completed",
    row: activeRow("t-completed", START, { sid: sid("t-completed") }),
    twilio: completed("t-completed"),
    want: byTwilio("completed", END),
  },
  {
    name: "t-live",
    row: activeRow("t-live", START, { sid: sid("t-live") }),
    twilio: inProgress("t-live"),
    want: keep,
  },
  {
    name: "t-live-after-500",
    row: activeRow("t-live-after-500", START, { sid: sid("t-live-after-500") }),
    twilio: inProgress("t-live-after-500", { fault: { kind: "http", status: 500, times: 1 } }),
    want: keep,
  },
  { name: "t-404", row: activeRow("t-404", START, { sid: sid("t-404") }), want: keep },
  {
    name: "t-429-retry-after",
    row: activeRow("t-429-retry-after", START, { sid: sid("t-429-retry-after") }),
    twilio: completed("t-429-retry-after", {
      fault: { kind: "http", status: 429, retryAfterSeconds: 1, times: 1 },
    }),
    want: byTwilio("completed", END),
  },
  {
    name: "t-500-burst",
    row: activeRow("t-500-burst", START, { sid: sid("t-500-burst") }),
    twilio: completed("t-500-burst", { fault: { kind: "http", status: 500, times: 2 } }),
    want: byTwilio("completed", END),
  },
  {
    name: "t-503-always",
    row: activeRow("t-503-always", START, { sid: sid("t-503-always") }),
    twilio: completed("t-503-always", { fault: { kind: "http", status: 503 } }),
    want: keep,
  },
  {
    name: "t-slow",
    row: activeRow("t-slow", START, { sid: sid("t-slow") }),
    twilio: completed("t-slow", { fault: { kind: "delay", ms: 1500 } }),
    want: keep,
  },
  {
    name: "t-malformed",
    row: activeRow("t-malformed", START, { sid: sid("t-malformed") }),
    twilio: completed("t-malformed", { fault: { kind: "malformed" } }),
    want: keep,
  },
  {
    name: "t-unknown-status",
    row: activeRow("t-unknown-status", START, { sid: sid("t-unknown-status") }),
    twilio: completed("t-unknown-status", { status: "on-hold" }),
    want: keep,
  },
  {
    name: "t-busy",
    row: activeRow("t-busy", START, { sid: sid("t-busy") }),
    twilio: completed("t-busy", {
      status: "busy",
      startTime: null,
      endTime: null,
      duration: null,
      dateCreated: START,
      dateUpdated: whole(START.getTime() + 20_000),
    }),
    want: byTwilio("busy", whole(START.getTime() + 20_000)),
  },
  {
    name: "t-end-time-missing",
    row: activeRow("t-end-time-missing", START, { sid: sid("t-end-time-missing") }),
    twilio: completed("t-end-time-missing", { endTime: null, duration: "42", omitKeys: ["end_time"] }),
    want: byTwilio("completed", whole(START.getTime() + 42_000)),
  },
  {
    name: "o-live",
    row: activeRow("o-live", START, { rtc: rtc("o-live") }),
    realtime: { live: true },
    want: keep,
  },
  {
    name: "o-gone",
    // Younger than OpenAI's 60-minute session cap, so the first sighting is what bounds its end.
    row: activeRow("o-gone", whole(NOW - 30 * 60_000), { rtc: rtc("o-gone") }),
    want: { status: "completed", endedAt: "first-sighting", source: "openai" },
  },
  {
    name: "o-500",
    row: activeRow("o-500", START, { rtc: rtc("o-500") }),
    realtime: { live: false, fault: { kind: "http", status: 500 } },
    want: keep,
  },
  {
    name: "o-flap",
    row: activeRow("o-flap", START, { rtc: rtc("o-flap") }),
    realtime: { live: false },
    want: keep,
  },
  {
    // The socket opens and no event ever comes: the 101 alone is the live signal, not a timeout.
    name: "o-silent",
    row: activeRow("o-silent", START, { rtc: rtc("o-silent") }),
    realtime: { live: true, fault: { kind: "silent" } },
    want: keep,
  },
  {
    name: "m-completed-rtc-live",
    row: activeRow("m-completed-rtc-live", START, {
      sid: sid("m-completed-rtc-live"),
      rtc: rtc("m-completed-rtc-live"),
    }),
    twilio: completed("m-completed-rtc-live"),
    realtime: { live: true },
    want: byTwilio("completed", END),
  },
  {
    name: "m-live-rtc-gone",
    row: activeRow("m-live-rtc-gone", START, { sid: sid("m-live-rtc-gone"), rtc: rtc("m-live-rtc-gone") }),
    twilio: inProgress("m-live-rtc-gone"),
    want: keep,
  },
  {
    name: "m-404-rtc-gone",
    row: activeRow("m-404-rtc-gone", START, { sid: sid("m-404-rtc-gone"), rtc: rtc("m-404-rtc-gone") }),
    want: keep,
  },
  {
    name: "age-bound",
    row: activeRow("age-bound", whole(NOW - 30 * 3600_000), {}),
    want: { status: "timeout", endedAt: whole(NOW - 6 * 3600_000), source: "age_bound" },
  },
];

describe("fault matrix (real Postgres, both simulators, the daemon's own policies)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("ends exactly the confirmed zombies with the provider's end time, whatever the providers throw at it", async () => {
    m = await startMatrix(
      CASES.map((c) => c.row),
      // Its realtime rows probe every fault, young calls included: the opt-in early probing, under its guards.
      { HANGUP_ORPHANED_REALTIME: "true", BREAKER_MIN_THROUGHPUT: "3.4", OPENAI_PROBE: "early" },
    );
    for (const c of CASES) {
      if (c.twilio) m.twilio.upsertCall(c.twilio);
      if (c.realtime) {
        m.openai.upsertSession({ callId: c.row.openaiId ?? "", live: c.realtime.live });
        if (c.realtime.fault) m.openai.setFault(c.row.openaiId ?? "", c.realtime.fault);
      }
    }
    const firstPassStart = new Date();
    const first = await m.pass();
    const firstPassEnd = new Date();
    expect(first.unverified).toMatchObject({
      absence_unconfirmed: 2,
      not_found: 2,
      server_error: 2,
      timeout: 1,
      malformed_response: 1,
      unknown_status: 1,
    });
    // The flapping session comes back: the chain of absences is broken, it must not be ended.
    m.openai.setLive(rtc("o-flap"), true);
    // The second pass, one interval later.
    m.clockOffsetMs = (m.config.reconcileIntervalSeconds + 1) * 1000;
    const second = await m.pass();
    expect(second.zombies.openai).toBe(1);

    const rows = await m.rows(CASES.map((c) => c.row.id));
    const problems: string[] = [];
    for (const c of CASES) {
      const row = rows.get(c.row.id);
      if ("untouched" in c.want) {
        if (row?.status !== "active" || row.endedAt !== null)
          problems.push(`${c.name}: touched (${row?.status})`);
        continue;
      }
      if (row?.status !== c.want.status)
        problems.push(`${c.name}: status ${row?.status}, want ${c.want.status}`);
      if (c.want.endedAt === "first-sighting") {
        const t = row?.endedAt?.getTime() ?? 0;
        if (t < firstPassStart.getTime() || t > firstPassEnd.getTime())
          problems.push(`${c.name}: ended_at ${row?.endedAt?.toISOString()} not at the first sighting`);
      } else if (row?.endedAt?.getTime() !== c.want.endedAt.getTime()) {
        problems.push(
          `${c.name}: ended_at ${row?.endedAt?.toISOString()}, want ${c.want.endedAt.toISOString()}`,
        );
      }
    }
    expect(problems).toEqual([]);

    // One audit row per ended call, with its source, and a third pass adds none.
    const ended = CASES.filter((c) => !("untouched" in c.want));
    const actions = await m.actions();
    expect(actions.map((a) => `${a.callId}:${a.source}`).sort()).toEqual(
      ended.map((c) => `${c.row.id}:${(c.want as { source: string }).source}`).sort(),
    );
    await m.pass();
    expect((await m.actions()).length).toBe(actions.length);

    // The orphaned realtime session of the completed phone call was hung up; the probe never spoke.
    expect(m.openai.getSession(rtc("m-completed-rtc-live"))?.live).toBe(false);
    expect(first.realtimeHangups.hung_up).toBe(1);
    expect(m.openai.stats.clientFramesReceived).toBe(0);
    const hangups = await m.metrics.registry.getSingleMetricAsString(
      "call_reconciler_realtime_hangups_total",
    );
    expect(hangups).toContain('call_reconciler_realtime_hangups_total{outcome="hung_up"} 1');
  });

  it("wrong credentials: not retried, the provider is stopped for the pass with one line naming the variable", async () => {
    const rows = Array.from({ length: 12 }, (_, i) =>
      activeRow(`w-${i}`, START, { sid: sid(`w-${i}`), rtc: null }),
    );
    const realtimeRows = Array.from({ length: 6 }, (_, i) =>
      activeRow(`wr-${i}`, START, { rtc: rtc(`wr-${i}`) }),
    );
    m = await startMatrix([...rows, ...realtimeRows], {
      TWILIO_AUTH_TOKEN: "wrong",
      OPENAI_API_KEY: "sk-wrong",
      TWILIO_CONCURRENCY: "2",
      OPENAI_CONCURRENCY: "2",
    });
    for (const r of rows) m.twilio.upsertCall(completed(r.id));
    const result = await m.pass();
    expect(result.unverified).toEqual({ auth_failed: 18 });
    // At most the rows already in flight (the pass checks 2 + 2 at once) when the first 401 came back; none
    // retried, and none after.
    expect(m.twilio.stats.requests).toBeLessThanOrEqual(4);
    expect(m.openai.stats.handshakes).toBeLessThanOrEqual(4);
    const errors = m.logs.filter((l) => l.level === 50).map((l) => String(l.msg));
    expect(errors.filter((e) => e.includes("TWILIO_AUTH_TOKEN"))).toHaveLength(1);
    expect(errors.filter((e) => e.includes("OPENAI_API_KEY"))).toHaveLength(1);
    expect(await m.actions()).toEqual([]);
  });

  it("a 500/503 burst opens the breaker (rows unverified, pass partial), then half-open → closed and the zombies end", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => activeRow(`b-${i}`, START, { sid: sid(`b-${i}`) }));
    m = await startMatrix(rows, {
      BREAKER_MIN_THROUGHPUT: "0.1",
      BREAKER_HALF_OPEN_SECONDS: "0.5",
      PROVIDER_MAX_ATTEMPTS: "1",
      TWILIO_CONCURRENCY: "1",
    });
    for (const r of rows) m.twilio.upsertCall(completed(r.id));
    m.twilio.setAccountFault({ kind: "http", status: 503 });
    const first = await m.pass();
    expect(first.ended).toBe(0);
    // Three failures open it; one more request may already hold the single slot when it does. The rows that
    // meet it are unverified at once, never sent: the pass does not wait for the half-open trial.
    const failed = m.twilio.stats.requests;
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(failed).toBeLessThanOrEqual(4);
    expect(first.unverified).toEqual({ server_error: failed, circuit_open: 10 - failed });
    expect(
      await m.metrics.registry.getSingleMetricAsString("call_reconciler_circuit_breaker_state"),
    ).toContain('call_reconciler_circuit_breaker_state{provider="twilio"} 2');

    m.twilio.setAccountFault(undefined);
    // A sleep: the breaker's half-open delay (0.5 s) must pass in real time; the pass does real I/O.
    await new Promise((r) => setTimeout(r, 520));
    // Past the row backoff (30 s) of the rows that failed, so that they are asked again too.
    m.clockOffsetMs = 31_000;
    const second = await m.pass();
    expect(second.ended).toBe(10);
    expect(
      await m.metrics.registry.getSingleMetricAsString("call_reconciler_circuit_breaker_state"),
    ).toContain('call_reconciler_circuit_breaker_state{provider="twilio"} 0');
    const transitions = m.logs
      .filter((l) => l.provider === "twilio" && typeof l.breaker === "string")
      .map((l) => l.breaker);
    // The next pass's first request, past the half-open delay, is the trial: it succeeds and closes it.
    expect(transitions).toEqual(["open", "half-open", "closed"]);
    expect((await m.actions()).length).toBe(10);
  });

  it("a provider that is fully down (connection refused) ends nothing but the age bound", async () => {
    const rows = [
      ...Array.from({ length: 5 }, (_, i) => activeRow(`d-${i}`, START, { sid: sid(`d-${i}`) })),
      activeRow("d-ancient", whole(NOW - 25 * 3600_000), { sid: sid("d-ancient") }),
    ];
    m = await startMatrix(rows, { TWILIO_API_BASE_URL: "http://127.0.0.1:9" });
    const r = await m.pass();
    expect(r.ended).toBe(1);
    expect((await m.actions()).map((a) => `${a.callId}:${a.source}`)).toEqual(["d-ancient:age_bound"]);
    expect(Object.keys(r.unverified).every((k) => k === "network" || k === "circuit_open")).toBe(true);
  });

  it("at TWILIO_MAX_RPS = N against a provider that answers 429 above N req/s, the daemon causes no 429", async () => {
    const N = 20;
    const rows = Array.from({ length: 3 * N }, (_, i) => activeRow(`r-${i}`, START, { sid: sid(`r-${i}`) }));
    m = await startMatrix(rows, { TWILIO_MAX_RPS: String(N), TWILIO_CONCURRENCY: "8" }, { twilioMaxRps: N });
    for (const r of rows) m.twilio.upsertCall(completed(r.id));
    const result = await m.pass();
    expect(result.ended).toBe(3 * N);
    expect(m.twilio.stats.rateLimited).toBe(0);
    expect(m.twilio.stats.maxRequestsInOneSecond).toBeLessThanOrEqual(N);
  });

  it("the simulator's limit is real: above it, 429s come back and Retry-After retries still end every call", async () => {
    const N = 10;
    const rows = Array.from({ length: 30 }, (_, i) => activeRow(`x-${i}`, START, { sid: sid(`x-${i}`) }));
    m = await startMatrix(
      rows,
      {
        TWILIO_MAX_RPS: "200",
        TWILIO_CONCURRENCY: "8",
        PROVIDER_MAX_ATTEMPTS: "5",
        BREAKER_MIN_THROUGHPUT: "34",
      },
      { twilioMaxRps: N },
    );
    for (const r of rows) m.twilio.upsertCall(completed(r.id));
    const result = await m.pass();
    expect(m.twilio.stats.rateLimited).toBeGreaterThan(0);
    expect(result.ended).toBe(30);
  });

  it("a row the calls table refuses does not hold up the rest of its batch", async () => {
    const rows = ["ok-1", "ok-2", "refused", "ok-3"].map((id) => activeRow(id, START, { sid: sid(id) }));
    m = await startMatrix(rows);
    for (const r of rows) m.twilio.upsertCall(completed(r.id, r.id === "refused" ? { status: "busy" } : {}));
    // The app's own rule: it has no 'busy' status. The batch statement fails as a whole on that row.
    await m.db.pool.query("ALTER TABLE calls ADD CONSTRAINT app_statuses CHECK (status <> 'busy')");
    const r = await m.pass();
    expect(r.ended).toBe(3);
    // Refused for the first time: recorded once, and this pass is partial for it.
    expect(r).toMatchObject({ refused: 1, refusedNew: 1, writeFailures: 0, databaseLost: false });
    expect(passOutcome(r)).toBe("partial");
    const stored = await m.rows(rows.map((x) => x.id));
    expect(stored.get("refused")).toMatchObject({ status: "active", endedAt: null });
    for (const id of ["ok-1", "ok-2", "ok-3"])
      expect(stored.get(id)).toMatchObject({ status: "completed", endedAt: END });
    const actions = await m.actions();
    expect(
      actions
        .filter((a) => a.outcome === "ended")
        .map((a) => a.callId)
        .sort(),
    ).toEqual(["ok-1", "ok-2", "ok-3"]);
    expect(actions.filter((a) => a.outcome === "refused")).toMatchObject([
      { callId: "refused", newStatus: "busy", providerStatus: "busy", endedAt: END },
    ]);

    // The next pass counts it again, writes no second audit row, and is not partial for a known refusal.
    const again = await m.pass();
    expect(again).toMatchObject({ refused: 1, refusedNew: 0, writeFailures: 0 });
    expect(passOutcome(again)).toBe("success");
    expect((await m.actions()).length).toBe(actions.length);
  });
});
