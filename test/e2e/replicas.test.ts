import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { readActions } from "../../src/dev/seed.js";
import { inCI, promtool, promtoolVersion } from "../helpers/promtool.js";
import { gauge, metricsUrl, type Replica, scrape, seededReplicas } from "../helpers/replica.js";
import { endedBy, mismatches } from "../helpers/scenario.js";
import { until } from "../helpers/wait.js";
import { bearer, fetchWith } from "../helpers/zombies.js";

describe("several replicas on one database", () => {
  const suite = seededReplicas();

  it("exactly one reconciles; when it is SIGKILLed another takes over; every zombie is ended exactly once", async () => {
    // Slow Twilio answers: the first leader is killed in the middle of its work.
    for (const c of suite.world.scenario)
      if (c.twilio && !c.twilio.fault) suite.world.sim.setFault(c.twilio.sid, { kind: "delay", ms: 250 });
    const env = {
      ...suite.world.env,
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "3",
      LOG_LEVEL: "info",
      TWILIO_CONCURRENCY: "2",
    };
    const replicas = [suite.start(env), suite.start(env), suite.start(env)];
    const urls = await until("three metrics servers", () => {
      const u = replicas.map(metricsUrl);
      return u.every((x) => x !== undefined) ? (u as string[]) : undefined;
    });

    const leaderIndex = await until("a leader that has ended a call", async () => {
      if ((await readActions(suite.world.db.pool, suite.world.config.calls)).length === 0) return undefined;
      const i = replicas.findIndex((r) => r.lines().some((l) => l.msg === "became the leader: reconciling"));
      return i >= 0 ? i : undefined;
    });
    // Exactly one leader, as the replicas themselves export it.
    const leaderFlags = await Promise.all(
      urls.map(async (u) => gauge((await scrape(u, "/metrics")).body, "call_reconciler_is_leader")),
    );
    expect(leaderFlags.sort()).toEqual([0, 0, 1]);
    expect(
      replicas.filter((r) => r.lines().some((l) => l.msg === "became the leader: reconciling")),
    ).toHaveLength(1);

    const leader = replicas[leaderIndex] as Replica;
    leader.child.kill("SIGKILL");
    await leader.done;
    const endedBeforeKill = (await readActions(suite.world.db.pool, suite.world.config.calls)).length;
    expect(endedBeforeKill).toBeLessThan(endedBy(suite.world.scenario, true).length);

    const wanted = endedBy(suite.world.scenario, true).length;
    await until(
      "every zombie ended",
      async () => (await readActions(suite.world.db.pool, suite.world.config.calls)).length >= wanted,
      40_000,
    );
    // A sleep: a second leader would show only after the stand-by's next lease attempt, a 1 s interval away.
    await sleep(1500);
    const survivors = replicas.filter((_, i) => i !== leaderIndex);
    const newLeaders = survivors.filter((r) =>
      r.lines().some((l) => l.msg === "became the leader: reconciling"),
    );
    expect(newLeaders).toHaveLength(1);

    for (const r of survivors) r.child.kill("SIGTERM");
    const results = await Promise.all(survivors.map((r) => r.done));
    expect(results.map((r) => r.code)).toEqual([0, 0]);

    const actions = await readActions(suite.world.db.pool, suite.world.config.calls);
    expect(actions).toHaveLength(wanted);
    expect(new Set(actions.map((a) => a.callId)).size).toBe(wanted);
    expect(mismatches(suite.world.scenario, await suite.world.rows(), true, true)).toEqual([]);
  });

  it("serves /metrics, /healthz, /readyz and /zombies from a running daemon", async () => {
    const token = "replica-test-token-0123456789abcdef";
    const replicas = [
      suite.start({
        ...suite.world.env,
        RECONCILE_INTERVAL_SECONDS: "1",
        LOG_LEVEL: "info",
        ZOMBIES_TOKEN: token,
      }),
    ];
    const [r] = replicas as [Replica];
    const url = await until("the metrics server", () => metricsUrl(r));
    await until("a finished pass", () => r.lines().some((l) => l.msg === "pass finished"));

    const metrics = await scrape(url, "/metrics");
    expect(metrics.status).toBe(200);
    const body = metrics.body;
    // The live scrape passes Prometheus' own linter (required under CI, where .ci/run installs promtool).
    if (inCI || promtoolVersion() !== null) {
      const lint = promtool(["check", "metrics"], { input: body });
      expect(lint.status, `promtool check metrics:\n${lint.output}`).toBe(0);
    }
    expect(gauge(body, "call_reconciler_is_leader")).toBe(1);
    expect(body).toMatch(/^call_reconciler_calls_ended_total\{status="completed",source="twilio"\} 21$/m);
    expect(body).toMatch(/^call_reconciler_calls_ended_total\{status="timeout",source="age_bound"\} 1$/m);
    expect(body).toMatch(/^call_reconciler_provider_requests_total\{provider="twilio",outcome="ok"\} \d+$/m);
    expect(body).toMatch(
      /^call_reconciler_provider_requests_total\{provider="twilio",outcome="not_found"\} 2$/m,
    );
    expect(body).toMatch(/^call_reconciler_unverified_calls\{reason="not_found"\} 2$/m);
    expect(body).toMatch(/^call_reconciler_circuit_breaker_state\{provider="twilio"\} 0$/m);
    expect(body).toMatch(/^call_reconciler_passes_total\{result="partial"\} \d+$/m);
    expect(body).toMatch(/^call_reconciler_pass_duration_seconds_count \d+$/m);
    expect(body).toMatch(
      /^call_reconciler_provider_request_duration_seconds_bucket\{le="0\.1",provider="twilio"\} \d+$/m,
    );
    expect(body).toMatch(/^call_reconciler_process_resident_memory_bytes \d+/m);
    expect(gauge(body, "call_reconciler_last_success_timestamp_seconds")).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect(gauge(body, "call_reconciler_active_calls")).toBeGreaterThan(0);
    expect(gauge(body, "call_reconciler_oldest_active_call_age_seconds")).toBeGreaterThan(3600);
    // Never a call id or a SID as a label.
    expect(body).not.toMatch(/call-0\d\d|CA[0-9a-f]{32}|rtc_/);

    expect(await scrape(url, "/healthz")).toEqual({ status: 200, body: "ok\n" });
    expect(await scrape(url, "/readyz")).toEqual({ status: 200, body: "ready (leader)\n" });
    // The findings name calls and SIDs: only for the bearer of ZOMBIES_TOKEN.
    expect((await scrape(url, "/zombies")).status).toBe(401);
    const zombies = await fetchWith(url, "/zombies", bearer(token));
    expect(zombies.status).toBe(200);
    const report = JSON.parse(zombies.body);
    expect(report).toMatchObject({ dryRun: false, summary: { checked: expect.any(Number) } });
    expect(report.calls.some((c: { reason?: string }) => c.reason === "not_found")).toBe(true);
    expect((await scrape(url, "/nope")).status).toBe(404);

    // The database goes away: not ready (with a reason), but still alive.
    await suite.world.db.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    r.child.kill("SIGTERM");
    expect((await r.done).code).toBe(0);
  });
});
