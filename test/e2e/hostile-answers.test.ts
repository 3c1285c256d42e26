/**
 * Twilio answers no call can give, through the built CLI, a real database and the simulator: a completed call
 * with no end_time and a duration of 10^13 s (start_time + duration is no date), and a 3 MiB status (under the
 * client's 4 MB bound). Taken as they come, the first is an end at no date at all (audit exits 2 on a
 * RangeError, --apply hands Postgres an Invalid Date) and the second is copied whole into every finding: both
 * must be answers no decision is taken on, reported bounded, with nothing ended.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { metricsUrl, startReplica } from "../helpers/replica.js";
import { until } from "../helpers/wait.js";
import { bearer, fetchWith } from "../helpers/zombies.js";

const ACCOUNT = `AC${"5".repeat(32)}`;
const TOKEN = "hostile-token-0123456789";
const ROWS = 3;
const whole = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

const noStack = (r: CliResult) => expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);

interface Finding {
  callId: string;
  decision: string;
  reason?: string;
  outcome: string;
}

describe("audit over hostile Twilio answers (the built CLI, real Postgres, the simulator)", () => {
  let db: FreshDatabase;
  let sim: TwilioSimulator;
  let env: Record<string, string>;
  const ids = (prefix: string) => Array.from({ length: ROWS }, (_, i) => `${prefix}-${i + 1}`);
  const hugeDuration = ids("huge-duration");
  const hugeStatus = ids("huge-status");
  // Younger than the age bound: only Twilio's word could end them.
  const start = whole(Date.now() - 2 * 3600_000);
  const end = whole(Date.now() - 3600_000);

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    env = {
      DATABASE_URL: db.url,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_MAX_RPS: "200",
      LOG_LEVEL: "warn",
    };
    const migrated = await runCli(["migrate", "--with-calls-table"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    // A live call, so that a listing of the live calls has an entry for a fault to rewrite.
    await db.pool.query(
      "INSERT INTO calls (call_id, twilio_call_sid, status, started_at) VALUES ('live', $1, 'active', $2)",
      [fakeCallSid("live"), start],
    );
    sim.upsertCall({
      sid: fakeCallSid("live"),
      status: "in-progress",
      startTime: start,
      endTime: null,
      duration: null,
    });
    for (const id of [...hugeDuration, ...hugeStatus, "control"]) {
      await db.pool.query(
        "INSERT INTO calls (call_id, twilio_call_sid, status, started_at) VALUES ($1, $2, 'active', $3)",
        [id, fakeCallSid(id), start],
      );
      const kind = id.startsWith("huge-duration") ? "huge_duration" : "huge_status";
      sim.upsertCall({
        sid: fakeCallSid(id),
        status: "completed",
        startTime: start,
        endTime: end,
        duration: "3600",
        ...(id === "control" ? {} : { fault: { kind } }),
      });
    }
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  const untouched = async () => {
    const { rows } = await db.pool.query<{ call_id: string; status: string; ended_at: Date | null }>(
      "SELECT call_id, status, ended_at FROM calls WHERE call_id LIKE 'huge-%' ORDER BY call_id",
    );
    expect(rows).toHaveLength(2 * ROWS);
    for (const row of rows) expect(row, row.call_id).toMatchObject({ status: "active", ended_at: null });
    const trail = await db.pool.query(
      "SELECT call_id FROM call_reconciler_actions WHERE call_id LIKE 'huge-%'",
    );
    expect(trail.rows).toEqual([]);
  };

  it("audit --json exits normally, ends nothing, and reports them unverified, malformed, in a bounded report", async () => {
    const r = await runCli(["audit", "--json"], env);
    noStack(r);
    // 1: the control zombie would be ended; nothing was thrown.
    expect(r.code, r.stderr).toBe(1);
    // Three findings of a 3 MiB status each: bounded, the report stays small.
    expect(r.stdout.length).toBeLessThan(100_000);
    const calls = (JSON.parse(r.stdout) as { calls: Finding[] }).calls;
    const of = (id: string) => calls.find((c) => c.callId === id);
    for (const id of hugeDuration)
      expect(of(id), id).toMatchObject({ decision: "unverified", reason: "malformed_response" });
    for (const id of hugeStatus)
      expect(of(id), id).toMatchObject({ decision: "unverified", reason: "unknown_status" });
    expect(of("control")).toMatchObject({ decision: "end", outcome: "would_end" });
    expect(JSON.stringify(of(hugeDuration[0] as string))).toMatch(
      /duration \\"9999999999999\\" is longer than any Twilio call/,
    );
    await untouched();
  });

  it("audit (the table) exits normally and names the reasons", async () => {
    const r = await runCli(["audit"], env);
    noStack(r);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.length).toBeLessThan(100_000);
    for (const id of hugeDuration) {
      const line = r.stdout.split("\n").find((l) => l.startsWith(id));
      expect(line, r.stdout).toMatch(/unverified: malformed_response/);
    }
    for (const id of hugeStatus) {
      const line = r.stdout.split("\n").find((l) => l.startsWith(id));
      expect(line, r.stdout).toMatch(/unverified: unknown_status/);
    }
    await untouched();
  });

  it.each(["huge_duration", "huge_status"] as const)(
    "every answer %s, the live calls listed first (list-diff): audit --apply exits normally and ends nothing",
    async (kind) => {
      sim.setAccountFault({ kind });
      sim.resetStats();
      try {
        const r = await runCli(["audit", "--apply", "--json"], { ...env, TWILIO_STRATEGY: "list-diff" });
        noStack(r);
        // 3: rows left unverified on provider errors, no zombie.
        expect(r.code, r.stderr).toBe(3);
        expect(sim.stats.lists).toBeGreaterThan(0);
        expect(r.stdout.length).toBeLessThan(100_000);
        const calls = (JSON.parse(r.stdout) as { calls: Finding[] }).calls;
        const reason = kind === "huge_duration" ? "malformed_response" : "unknown_status";
        // A call's own huge status is read before any duration.
        const want = (id: string) => (id.startsWith("huge-status") ? "unknown_status" : reason);
        for (const id of [...hugeDuration, ...hugeStatus, "control"])
          expect(
            calls.find((c) => c.callId === id),
            id,
          ).toMatchObject({ decision: "unverified", reason: want(id) });
      } finally {
        sim.setAccountFault(undefined);
      }
      await untouched();
      const { rows } = await db.pool.query("SELECT status, ended_at FROM calls WHERE call_id = 'control'");
      expect(rows).toEqual([{ status: "active", ended_at: null }]);
    },
  );

  it("a DRY_RUN daemon keeps running, and /zombies and POST /reconcile?dry_run=true answer 200", async () => {
    const token = "hostile-endpoints-token-0123456789abcdef";
    const r = startReplica({
      ...env,
      DRY_RUN: "true",
      RECONCILE_INTERVAL_SECONDS: "600",
      LOG_LEVEL: "info",
      ZOMBIES_TOKEN: token,
      RECONCILE_TOKEN: token,
    });
    try {
      const url = await until("the metrics server", () => metricsUrl(r));
      await until("the first pass", () => r.lines().some((l) => l.msg === "pass finished"));
      const zombies = await fetchWith(url, "/zombies", bearer(token));
      expect(zombies.status, zombies.body).toBe(200);
      expect(zombies.body.length).toBeLessThan(100_000);
      const res = await fetch(`${url}/reconcile?dry_run=true`, {
        method: "POST",
        headers: bearer(token),
        signal: AbortSignal.timeout(20_000),
      });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(body.length).toBeLessThan(100_000);
      expect(r.child.exitCode).toBeNull();
    } finally {
      r.child.kill("SIGTERM");
      await r.done;
    }
    await untouched();
  });

  it("audit --apply ends only the control zombie", async () => {
    const r = await runCli(["audit", "--apply", "--json"], env);
    noStack(r);
    // 3: rows are left unverified on provider errors.
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout.length).toBeLessThan(100_000);
    await untouched();
    const { rows } = await db.pool.query("SELECT status, ended_at FROM calls WHERE call_id = 'control'");
    expect(rows).toEqual([{ status: "completed", ended_at: end }]);
  });
});
