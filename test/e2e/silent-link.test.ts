/**
 * Chaos: the leader's database link goes silent (no FIN, no RST: a failover, a dropped NAT entry).
 * A stand-by must lead within a few lease periods and end the zombies that appear after the silence, and the
 * stuck leader must say so on /healthz (or exit), so that the orchestrator restarts it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { seedCalls } from "../../src/dev/seed.js";
import { type ChaosWorld, chaosWorld, liveCall, zombie } from "../helpers/chaos-world.js";
import { gauge, metricsUrl, type Replica, scrape, startReplica } from "../helpers/replica.js";
import { type SilentProxy, startSilentProxy } from "../helpers/silent-proxy.js";
import { until } from "../helpers/wait.js";

describe("chaos: a leader whose database link goes silent", () => {
  let w: ChaosWorld | undefined;
  let proxy: SilentProxy | undefined;
  let replicas: Replica[] = [];
  afterEach(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await Promise.allSettled(replicas.map((r) => r.done));
    replicas = [];
    await proxy?.close();
    await w?.close();
    w = undefined;
  });

  it("a stand-by leads within a few lease periods and ends zombies found after the silence; the stuck leader fails /healthz", async () => {
    const early = [zombie("early-1", 100), liveCall("live-1", 50)];
    w = await chaosWorld(
      early.map((c) => c.row),
      early.map((c) => c.call),
    );
    proxy = await startSilentProxy(w.env.DATABASE_URL as string);
    const timing = {
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "3",
      PASS_DEADLINE_SECONDS: "5",
      LOG_LEVEL: "info",
    };
    const leader = startReplica({ ...w.env, ...timing, DATABASE_URL: proxy.url });
    replicas.push(leader);
    await until("the first replica to lead and end the early zombie", async () => {
      const url = metricsUrl(leader);
      const rows = await (w as ChaosWorld).rows(["early-1"]);
      return url !== undefined && rows.get("early-1")?.status === "completed";
    });
    const standby = startReplica({ ...w.env, ...timing });
    replicas.push(standby);
    const standbyUrl = await until("the stand-by's metrics server", () => metricsUrl(standby));
    await until(
      "the stand-by to see the lease held",
      async () => (await scrape(standbyUrl, "/readyz")).body === "ready (standing by)\n",
    );
    expect(gauge((await scrape(standbyUrl, "/metrics")).body, "call_reconciler_is_leader")).toBe(0);

    proxy.silence();
    const silencedAt = Date.now();
    // Zombies that appear after the silence: only a new leader can end them.
    const late = Array.from({ length: 4 }, (_, i) => zombie(`late-${i}`, 60 - i));
    for (const c of late) w.twilio.upsertCall(c.call);
    await seedCalls(
      w.db.pool,
      loadConfig(w.env).calls,
      late.map((c) => c.row),
    );

    await until(
      "the stand-by to lead",
      async () => gauge((await scrape(standbyUrl, "/metrics")).body, "call_reconciler_is_leader") === 1,
      30_000,
    );
    const ledAfterMs = Date.now() - silencedAt;
    await until(
      "the late zombies to end",
      async () => {
        const rows = await (w as ChaosWorld).rows(late.map((c) => c.row.id));
        return late.every((c) => rows.get(c.row.id)?.status === "completed");
      },
      20_000,
    );
    const rows = await w.rows([...early, ...late].map((c) => c.row.id));
    for (const c of late)
      expect(rows.get(c.row.id)).toMatchObject({ status: "completed", endedAt: c.endedAt });
    expect(rows.get("live-1")).toMatchObject({ status: "active", endedAt: null });

    // The stuck leader: /healthz answers 503 (or the process is gone) within a minute of the silence.
    const leaderUrl = metricsUrl(leader) as string;
    const unhealthy = await until(
      "the stuck leader's /healthz to fail",
      async () => {
        if (leader.child.exitCode !== null) return "exited";
        const h = await scrape(leaderUrl, "/healthz").catch(() => undefined);
        return h !== undefined && h.status === 503 ? h.body.trim() : undefined;
      },
      60_000,
    );
    const unhealthyAfterMs = Date.now() - silencedAt;
    expect(unhealthyAfterMs).toBeLessThan(60_000);
    console.log(
      `chaos/silent-link: stand-by led after ${(ledAfterMs / 1000).toFixed(1)} s, stuck leader unhealthy after ${(unhealthyAfterMs / 1000).toFixed(1)} s (${unhealthy})`,
    );
  });
});
