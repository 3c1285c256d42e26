/**
 * Two daemon replicas (`run`) on one SQLite file of the app: the lease is a row in the file, so one of them
 * leads and writes while the other stands by; every call is ended once; when the leader is stopped (SIGTERM),
 * the other takes the lease and ends what comes after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAppFile } from "../../src/dev/app-sqlite.js";
import type { AppCall } from "../../src/dev/app-table.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli } from "../helpers/cli.js";
import { gauge, metricsUrl, type Replica, scrape, startReplica } from "../helpers/replica.js";
import { liveAtTwilio, sqliteDaemonEnv, stopAll } from "../helpers/sqlite-daemon.js";
import { actionRows, asWritten, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const TWILIO_ACCOUNT = { accountSid: `AC${"c".repeat(32)}`, authToken: "sqlite-replicas-token-0123456789" };
const NOW = Math.floor(Date.now() / 1000) * 1000;

interface Zombie {
  row: AppCall;
  end: Date;
  duration: number;
}

const zombie = (name: string, minutesAgo: number): Zombie => {
  const startedAt = new Date(NOW - minutesAgo * 60_000 + 250);
  const duration = 30 + minutesAgo;
  return {
    row: {
      callId: fakeCallSid(`sqlite-replica-${name}`),
      callType: "outbound",
      status: "active",
      startedAt,
      endedAt: null,
      durationSeconds: null,
    },
    end: new Date(Math.floor(startedAt.getTime() / 1000) * 1000 + 2000 + duration * 1000),
    duration,
  };
};

const first = Array.from({ length: 12 }, (_, i) => zombie(`first-${i}`, 20 + i));
const later = Array.from({ length: 4 }, (_, i) => zombie(`later-${i}`, 40 + i));
const live = zombie("live", 15);

const runIds = (r: Replica) =>
  new Set(r.lines().flatMap((l) => (typeof l.runId === "string" ? [l.runId] : [])));
const said = (r: Replica, msg: string) => r.lines().some((l) => l.msg === msg);
const LEADER = "became the leader: reconciling";

describe("two replicas of the daemon on one SQLite file (built CLI, the Twilio simulator)", () => {
  let f: E2eFile;
  let twilio: TwilioSimulator;
  let env: Record<string, string>;
  const running: Replica[] = [];

  const upsert = (z: Zombie) =>
    twilio.upsertCall({
      sid: z.row.callId,
      status: "completed",
      startTime: new Date(z.end.getTime() - z.duration * 1000),
      endTime: z.end,
      duration: String(z.duration),
    });
  const calls = () =>
    new Map(
      f
        .query<{ call_id: string; status: string; ended_at: string | null; duration_seconds: number | null }>(
          "SELECT call_id, status, ended_at, duration_seconds FROM calls",
        )
        .map((r) => [r.call_id, { ...r }]),
    );

  beforeAll(async () => {
    f = e2eFile("sqlite-replicas-e2e-");
    seedAppFile(f.path, [...first.map((z) => z.row), live.row]);
    twilio = await startTwilioSimulator(TWILIO_ACCOUNT);
    for (const z of first) {
      upsert(z);
      // Slow answers: the leader is still at work while the other replica asks for the lease.
      twilio.setFault(z.row.callId, { kind: "delay", ms: 200 });
    }
    liveAtTwilio(twilio, live.row);
    env = sqliteDaemonEnv(f, twilio, TWILIO_ACCOUNT, {
      TWILIO_STRATEGY: "per-call",
      TWILIO_CONCURRENCY: "2",
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "3",
    });
  });
  afterAll(() => stopAll(running, twilio, f));

  it("one leads and writes, the other stands by; each call is ended once; the stand-by takes over from a stopped leader", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);

    const replicas = [startReplica(env, 120_000), startReplica(env, 120_000)];
    running.push(...replicas);
    const leader = await until("a leader", () => replicas.find((r) => said(r, LEADER)));
    const standby = replicas.find((r) => r !== leader) as Replica;
    // The stand-by says so where it is asked, as it said so in its log at start.
    const standbyUrl = await until("the stand-by's metrics server", () => metricsUrl(standby));
    await until("the stand-by ready as a stand-by", async () => {
      const ready = await scrape(standbyUrl, "/readyz");
      return ready.status === 200 && ready.body === "ready (standing by)\n";
    });
    expect(gauge((await scrape(standbyUrl, "/metrics")).body, "call_reconciler_is_leader")).toBe(0);
    await until("every first zombie ended", () => actionRows(f).length >= first.length, 40_000);

    const audits = actionRows(f);
    // A pass logs its run id once its writes are done.
    const leaderRuns = await until("the leader's passes logged", () => {
      const ids = runIds(leader);
      return audits.every((a) => ids.has(a.run_id)) ? ids : undefined;
    });
    const standbyRuns = runIds(standby);
    expect(audits.map((a) => a.call_id).sort()).toEqual(first.map((z) => z.row.callId).sort());
    for (const a of audits) {
      expect(leaderRuns.has(a.run_id), a.call_id).toBe(true);
      expect(standbyRuns.has(a.run_id), a.call_id).toBe(false);
    }
    const rows = calls();
    for (const z of first)
      expect(rows.get(z.row.callId), z.row.callId).toEqual({
        call_id: z.row.callId,
        status: "completed",
        ended_at: asWritten(z.end),
        duration_seconds: z.duration,
      });
    expect(rows.get(live.row.callId)).toMatchObject({ status: "active", ended_at: null });
    expect(said(standby, LEADER)).toBe(false);
    expect(gauge((await scrape(standbyUrl, "/metrics")).body, "call_reconciler_is_leader")).toBe(0);

    // The leader is stopped: it hands the lease back, and the stand-by ends what the app leaves after.
    const standbyBefore = standby.lines().length;
    leader.child.kill("SIGTERM");
    expect((await leader.done).code).toBe(0);
    for (const z of later) upsert(z);
    seedAppFile(
      f.path,
      later.map((z) => z.row),
    );
    await until("the stand-by leads", () => said(standby, LEADER), 20_000);
    // It led only once the leader had stopped.
    expect(
      standby
        .lines()
        .slice(0, standbyBefore)
        .some((l) => l.msg === LEADER),
    ).toBe(false);
    await until("the later zombies ended", () => actionRows(f).length >= first.length + later.length, 40_000);

    const all = actionRows(f);
    expect(new Set(all.map((a) => a.call_id)).size).toBe(all.length);
    const newRuns = await until("the new leader's passes logged", () => {
      const ids = runIds(standby);
      return all.every((a) => ids.has(a.run_id) || leaderRuns.has(a.run_id)) ? ids : undefined;
    });
    for (const a of all.filter((x) => later.some((z) => z.row.callId === x.call_id)))
      expect(newRuns.has(a.run_id) && !leaderRuns.has(a.run_id), a.call_id).toBe(true);
    const lease = f.query<{ holder: string }>("SELECT holder FROM call_reconciler_leases");
    expect(lease).toHaveLength(1);
    const after = calls();
    for (const z of later)
      expect(after.get(z.row.callId), z.row.callId).toEqual({
        call_id: z.row.callId,
        status: "completed",
        ended_at: asWritten(z.end),
        duration_seconds: z.duration,
      });
    expect(after.get(live.row.callId)).toMatchObject({ status: "active", ended_at: null });

    standby.child.kill("SIGTERM");
    expect((await standby.done).code).toBe(0);
  });

  it("audit --apply beside the leading daemon is refused, whatever CALLS_TABLE's spelling; --force writes, marked forced", async () => {
    const extra = zombie("beside", 70);
    const daemon = startReplica(
      { ...env, RECONCILE_INTERVAL_SECONDS: "30", LEADER_LEASE_SECONDS: "60" },
      120_000,
    );
    running.push(daemon);
    await until("the daemon leads", () => said(daemon, LEADER));
    // Known to the file only after the daemon's first pass: its next is 30 s away.
    await until("the daemon's first pass", () => daemon.lines().some((l) => l.msg === "pass finished"));
    upsert(extra);
    seedAppFile(f.path, [extra.row]);
    const [lease] = f.query<{ holder: string }>("SELECT holder FROM call_reconciler_leases");
    for (const table of ["calls", "main.calls", "CALLS"]) {
      const r = await runCli(["audit", "--apply"], { ...env, CALLS_TABLE: table, LOG_LEVEL: "error" });
      expect(r.code, `${table}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split("\n")[0]).toMatch(
        /^call-reconciler: audit --apply: another replica is reconciling/,
      );
      expect(r.stderr).toContain(`held by ${lease?.holder} until `);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(calls().get(extra.row.callId)).toMatchObject({ status: "active", ended_at: null });

    const forced = await runCli(["audit", "--apply", "--force"], { ...env, LOG_LEVEL: "warn" }, 60_000);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain("writing without the lease");
    expect(calls().get(extra.row.callId)).toEqual({
      call_id: extra.row.callId,
      status: "completed",
      ended_at: asWritten(extra.end),
      duration_seconds: extra.duration,
    });
    expect(actionRows(f).filter((a) => a.call_id === extra.row.callId)).toMatchObject([
      { outcome: "ended", forced: 1 },
    ]);
    // The daemon's lease is still its own.
    expect(f.query<{ holder: string }>("SELECT holder FROM call_reconciler_leases")).toEqual([lease]);
    daemon.child.kill("SIGTERM");
    expect((await daemon.done).code).toBe(0);
  });
});
