/**
 * Chaos suite: partial failures that must not stall reconciliation, on real PostgreSQL, the Twilio
 * simulator and the built CLI. Each test asserts the final rows one by one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, liveCall, zombie } from "../helpers/chaos-world.js";
import { runCli } from "../helpers/cli.js";
import { startReplica } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";

const logLines = (stderr: string): Record<string, unknown>[] =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));

describe("chaos: nothing stalls reconciliation", () => {
  let w: ChaosWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("15 failing rows first, 30 zombies, 5 behind two 429s: the audit never waits on the breaker they open, and the daemon ends all 35 at their true times", async () => {
    // The failing rows are the oldest: they head the listing, and their failures open the breaker.
    const failing = Array.from({ length: 15 }, (_, i) =>
      zombie(`failing-${i}`, 300 - i, { fault: { kind: "http", status: 500 } }),
    );
    const healthy = Array.from({ length: 30 }, (_, i) => zombie(`zombie-${i}`, 200 - i));
    const limited = Array.from({ length: 5 }, (_, i) =>
      zombie(`limited-${i}`, 100 - i, {
        fault: { kind: "http", status: 429, retryAfterSeconds: 1, times: 2 },
      }),
    );
    const all = [...failing, ...healthy, ...limited];
    w = await chaosWorld(
      all.map((c) => c.row),
      all.map((c) => c.call),
      { env: { TWILIO_CONCURRENCY: "4", BREAKER_HALF_OPEN_SECONDS: "1" } },
    );
    const t0 = Date.now();
    const r = await runCli(["audit", "--apply", "--json"], w.env, 120_000);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout);
    // Every row reached: each zombie ended at its true time, or unverified because the breaker was open.
    const first = await w.rows(all.map((c) => c.row.id));
    const reasons = new Map<string, string>(
      report.calls.map((c: { callId: string; reason?: string }) => [c.callId, c.reason ?? ""]),
    );
    for (const c of [...healthy, ...limited]) {
      const row = first.get(c.row.id);
      if (row?.status === "completed") expect(row.endedAt, c.row.id).toEqual(c.endedAt);
      else expect(reasons.get(c.row.id), c.row.id).toBe("circuit_open");
    }
    for (const c of failing)
      expect(first.get(c.row.id), c.row.id).toMatchObject({ status: "active", endedAt: null });
    expect(report.summary.unverified.server_error).toBe(15);

    // The daemon asks the rows whose check failed after the others, so the failing head cannot keep the breaker
    // open pass after pass: every zombie ends, the failing rows stay active.
    const daemon = startReplica({ ...w.env, RECONCILE_INTERVAL_SECONDS: "1" });
    try {
      await until(
        "every healthy zombie ended",
        async () =>
          [...((await w?.rows([...healthy, ...limited].map((c) => c.row.id)))?.values() ?? [])].every(
            (row) => row.status === "completed",
          ),
        60_000,
      );
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.done;
    }
    const rows = await w.rows(all.map((c) => c.row.id));
    for (const c of [...healthy, ...limited])
      expect(rows.get(c.row.id), c.row.id).toMatchObject({ status: "completed", endedAt: c.endedAt });
    for (const c of failing)
      expect(rows.get(c.row.id), c.row.id).toMatchObject({ status: "active", endedAt: null });
    expect(await w.actions()).toHaveLength(35);
    console.log(
      `chaos/failing-first: audit ${seconds.toFixed(1)} s, ${w.twilio.stats.requests} requests, by status ${JSON.stringify(w.twilio.stats.responsesByStatus)}`,
    );
  });

  it("a provider answering 429 to 30 % of requests: the breaker stays closed and every zombie ends", async () => {
    const zombies = Array.from({ length: 25 }, (_, i) => zombie(`zombie-${i}`, 200 - i));
    const live = Array.from({ length: 25 }, (_, i) => liveCall(`live-${i}`, 150 - i));
    const all = [...zombies, ...live];
    w = await chaosWorld(
      all.map((c) => c.row),
      all.map((c) => c.call),
      { sim: { random429Share: 0.3 }, env: { TWILIO_CONCURRENCY: "4" } },
    );
    const r = await runCli(["audit", "--apply", "--json"], w.env, 120_000);
    expect(r.code).toBe(0);
    expect(logLines(r.stderr).filter((l) => String(l.msg).includes("circuit breaker opened"))).toEqual([]);
    const rows = await w.rows(all.map((c) => c.row.id));
    for (const c of zombies)
      expect(rows.get(c.row.id), c.row.id).toMatchObject({ status: "completed", endedAt: c.endedAt });
    for (const c of live)
      expect(rows.get(c.row.id), c.row.id).toMatchObject({ status: "active", endedAt: null });
    expect(w.twilio.stats.rateLimited).toBeGreaterThan(10);
    console.log(
      `chaos/random-429: ${w.twilio.stats.requests} requests, ${w.twilio.stats.rateLimited} answered 429`,
    );
  });

  it("a row the app holds locked: the others end in seconds; the locked one ends on a later pass", async () => {
    const zombies = Array.from({ length: 12 }, (_, i) => zombie(`zombie-${i}`, 200 - i));
    w = await chaosWorld(
      zombies.map((c) => c.row),
      zombies.map((c) => c.call),
    );
    const locked = zombies[5];
    if (locked === undefined) throw new Error("unreachable");
    const app = await w.db.pool.connect();
    try {
      await app.query("BEGIN");
      await app.query("SELECT 1 FROM calls WHERE call_id = $1 FOR UPDATE", [locked.row.id]);
      const t0 = Date.now();
      const r = await runCli(["audit", "--apply", "--json"], w.env, 60_000);
      const seconds = (Date.now() - t0) / 1000;
      // A zombie is left as it is: exit 1, and the report says why.
      expect(r.code).toBe(1);
      expect(seconds).toBeLessThan(15);
      const report = JSON.parse(r.stdout);
      expect(report.summary).toMatchObject({ ended: 11, locked: 1, writeFailures: 0 });
      expect(report.calls.find((c: { callId: string }) => c.callId === locked.row.id)?.outcome).toBe(
        "locked",
      );
      const rows = await w.rows(zombies.map((c) => c.row.id));
      for (const c of zombies)
        expect(rows.get(c.row.id), c.row.id).toMatchObject(
          c === locked ? { status: "active", endedAt: null } : { status: "completed", endedAt: c.endedAt },
        );
      console.log(`chaos/locked-row: the audit took ${seconds.toFixed(1)} s from start to report`);
    } finally {
      await app.query("ROLLBACK");
      app.release();
    }
    const again = await runCli(["audit", "--apply"], w.env, 60_000);
    expect(again.code).toBe(0);
    expect((await w.rows([locked.row.id])).get(locked.row.id)).toMatchObject({
      status: "completed",
      endedAt: locked.endedAt,
    });
  });

  it("an enum status without no-answer: start-up exits 2 naming it; with STATUS_MAP the row ends mapped", async () => {
    const missed = zombie("missed-1", 100, { status: "no-answer" });
    const done = zombie("done-1", 90);
    const all = [missed, done];
    const toEnum = async (db: ChaosWorld["db"]) => {
      await db.pool.query(
        "CREATE TYPE call_state AS ENUM ('active', 'completed', 'busy', 'canceled', 'failed', 'timeout', 'missed')",
      );
      // The partial index's predicate compares the column with text: rebuilt for the new type, as an operator would.
      await db.pool.query("DROP INDEX calls_active_idx");
      await db.pool.query("ALTER TABLE calls ALTER COLUMN status TYPE call_state USING status::call_state");
      await db.pool.query(
        "CREATE INDEX calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'",
      );
    };
    w = await chaosWorld(
      all.map((c) => c.row),
      all.map((c) => c.call),
      { beforeSeed: toEnum },
    );
    const refused = await runCli(["audit", "--apply"], w.env);
    expect(refused.code).toBe(2);
    // One line for the operator (beside the JSON log lines), no stack trace.
    const said = refused.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^call-reconciler: .*does not accept no-answer.*STATUS_MAP/);
    expect((await w.rows([done.row.id])).get(done.row.id)).toMatchObject({ status: "active" });

    const mapped = await runCli(["audit", "--apply"], { ...w.env, STATUS_MAP: "no-answer:missed" });
    expect(mapped.code).toBe(0);
    const rows = await w.rows(all.map((c) => c.row.id));
    expect(rows.get(missed.row.id)).toMatchObject({ status: "missed", endedAt: missed.endedAt });
    expect(rows.get(done.row.id)).toMatchObject({ status: "completed", endedAt: done.endedAt });
    expect((await w.actions()).find((a) => a.callId === missed.row.id)).toMatchObject({
      newStatus: "missed",
      providerStatus: "no-answer",
    });
  });

  it("wrong credentials: after the first 401 no new request goes to Twilio in that pass", async () => {
    const zombies = Array.from({ length: 20 }, (_, i) => zombie(`zombie-${i}`, 200 - i));
    w = await chaosWorld(
      zombies.map((c) => c.row),
      zombies.map((c) => c.call),
      { env: { TWILIO_CONCURRENCY: "4", TWILIO_AUTH_TOKEN: "not-the-token" } },
    );
    const r = await runCli(["audit", "--apply", "--json"], w.env, 60_000);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).summary.unverified.auth_failed).toBe(20);
    // Requests already on the wire may finish: at most the concurrency cap.
    const rejected = w.twilio.stats.responsesByStatus[401] ?? 0;
    expect(rejected).toBeGreaterThanOrEqual(1);
    expect(rejected).toBeLessThanOrEqual(4);
    expect(w.twilio.stats.requests).toBe(rejected);
    const rows = await w.rows(zombies.map((c) => c.row.id));
    for (const c of zombies) expect(rows.get(c.row.id)).toMatchObject({ status: "active", endedAt: null });
    console.log(
      `chaos/wrong-credentials: ${rejected} request(s) answered 401 at concurrency 4, 20 rows unverified`,
    );
  });

  it("answers that do not fit the row end nothing: another call's SID, another account, an end before the start", async () => {
    const ok = zombie("ok-1", 100);
    const foreign = zombie("foreign-1", 90, { answerAs: { sid: `CA${"e".repeat(32)}` } });
    const otherAccount = zombie("account-1", 80, { answerAs: { accountSid: `AC${"d".repeat(32)}` } });
    // Twilio's own example answers carry 2019 times: an end long before this row started.
    const early = zombie("early-1", 70, {
      startTime: new Date("2019-10-18T17:00:00Z"),
      endTime: new Date("2019-10-18T17:03:00Z"),
    });
    const all = [ok, foreign, otherAccount, early];
    w = await chaosWorld(
      all.map((c) => c.row),
      all.map((c) => c.call),
    );
    const r = await runCli(["audit", "--apply", "--json"], w.env, 60_000);
    expect(r.code).toBe(3);
    const reasons = Object.fromEntries(
      JSON.parse(r.stdout).calls.map((c: { callId: string; reason?: string; outcome: string }) => [
        c.callId,
        c.reason ?? c.outcome,
      ]),
    );
    expect(reasons).toEqual({
      "ok-1": "ended",
      "foreign-1": "answer_mismatch",
      "account-1": "answer_mismatch",
      "early-1": "end_before_start",
    });
    const rows = await w.rows(all.map((c) => c.row.id));
    expect(rows.get("ok-1")).toMatchObject({ status: "completed", endedAt: ok.endedAt });
    for (const c of [foreign, otherAccount, early])
      expect(rows.get(c.row.id), c.row.id).toMatchObject({ status: "active", endedAt: null });
  });
});
