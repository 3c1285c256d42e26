import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/config.js";
import { writeGuard } from "../daemon/leadership.js";
import { Lease } from "../db/lease.js";
import { SchemaMismatchError } from "../db/store.js";
import type { Logger } from "../log.js";
import { recordActive, recordPass } from "../metrics/record-pass.js";
import { passOutcome, runPass, totalUnverified, totalZombies } from "../reconcile/pass.js";
import { startHttpServer } from "../server/http.js";
import { reportJson } from "./report.js";
import { createRuntime } from "./runtime.js";

export interface DaemonOptions {
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
}

/**
 * The daemon: serves metrics and probes, and on every interval renews (or tries to take) the leader lease;
 * the leader runs a pass, the others stand by. A failed pass (database down, provider outage) is logged and
 * the next interval tries again, so the daemon heals by itself; only a configuration the database
 * contradicts stops it.
 */
export async function runDaemon(config: Config, logger: Logger, opts: DaemonOptions): Promise<void> {
  const runtime = createRuntime(config, logger);
  const { signal } = opts;
  // Every in-flight provider request listens on the shutdown signal; their number is bounded by the
  // concurrency caps, so Node's default warning at 11 listeners would only be noise on stderr.
  setMaxListeners(0, signal);
  const intervalMs = config.reconcileIntervalSeconds * 1000;
  const lease = new Lease(runtime.pool, {
    name: `reconcile:${config.calls.table}`,
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ttlSeconds: config.leaderLeaseSeconds,
  });
  const state = { leader: false, lastTickOkAt: Number.NEGATIVE_INFINITY, lastReport: null as unknown };
  const log = logger.child({ replica: lease.holder });

  const server = await startHttpServer(config.metricsHost, config.metricsPort, {
    registry: runtime.metrics.registry,
    readiness: async () => {
      try {
        await runtime.store.ping();
      } catch (err) {
        return {
          ready: false,
          reason: `database unreachable: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
      const age = performance.now() - state.lastTickOkAt;
      if (age > 3 * intervalMs) {
        return {
          ready: false,
          reason: `no completed ${state.leader ? "pass" : "lease check"} for 3 intervals`,
        };
      }
      return { ready: true, reason: state.leader ? "ready (leader)" : "ready (standing by)" };
    },
    zombies: () =>
      state.lastReport !== null
        ? { report: state.lastReport }
        : {
            unavailable: state.leader
              ? "no pass has completed yet"
              : "this replica is standing by; the leader has the findings",
          },
  });
  const passDeps = { ...runtime.passDeps, canWrite: writeGuard(lease, config.leaderLeaseSeconds, log) };
  try {
    try {
      await runtime.store.verifySchema();
    } catch (err) {
      if (err instanceof SchemaMismatchError) throw err;
      log.warn({ err: errorMessage(err) }, "database not usable yet; passes will retry");
    }
    log.info(
      {
        intervalSeconds: config.reconcileIntervalSeconds,
        dryRun: config.dryRun,
        table: config.calls.table,
        metrics: server.url,
      },
      "call-reconciler started",
    );
    while (!signal.aborted) {
      const runId = randomUUID();
      let leader = false;
      let leaseChecked = false;
      try {
        leader = await lease.acquireOrRenew();
        leaseChecked = true;
      } catch (err) {
        // No lease, no pass: for the operator this is a pass that failed on the database.
        lease.drop();
        recordPass(runtime.metrics, null, "failed");
        log.error(
          { runId, outcome: "failed", stage: "lease", err: errorMessage(err) },
          "pass failed; retrying next interval",
        );
      }
      if (leaseChecked && leader !== state.leader)
        log.info(
          { leader },
          leader ? "became the leader: reconciling" : "standing by: another replica leads",
        );
      state.leader = leader;
      runtime.metrics.isLeader.set(leader ? 1 : 0);
      if (!leader) {
        // A stand-by replica is doing its job when it can see the lease: it is ready to take over.
        if (leaseChecked) state.lastTickOkAt = performance.now();
      } else {
        try {
          // A pass can outlast the lease (slow providers, many rows): keep renewing while it runs, so a
          // healthy leader never loses the lease between two writes.
          const heartbeat = setInterval(() => void passDeps.canWrite(), config.leaderLeaseSeconds * 250);
          const r = await runPass(passDeps, { runId, dryRun: config.dryRun, signal }).finally(() =>
            clearInterval(heartbeat),
          );
          recordPass(runtime.metrics, r, passOutcome(r));
          state.lastReport = reportJson(r);
          if (passOutcome(r) !== "failed") state.lastTickOkAt = performance.now();
          await runtime.store.activeSummary().then(
            (summary) => recordActive(runtime.metrics, summary, new Date()),
            (err: unknown) => log.warn({ err: errorMessage(err) }, "could not count the active calls"),
          );
          log.info(
            {
              runId,
              outcome: passOutcome(r),
              checked: r.checked,
              live: r.live,
              zombies: totalZombies(r),
              ended: r.ended,
              alreadyEnded: r.alreadyEnded,
              writeFailures: r.writeFailures,
              unverified: totalUnverified(r),
              unverifiedByReason: r.unverified,
              realtimeHangups: r.realtimeHangups,
              leadershipLost: r.leadershipLost,
              durationMs: r.finishedAt.getTime() - r.startedAt.getTime(),
            },
            "pass finished",
          );
        } catch (err) {
          recordPass(runtime.metrics, null, "failed");
          log.error(
            { runId, outcome: "failed", err: errorMessage(err) },
            "pass failed; retrying next interval",
          );
        }
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
    log.info("shutting down: no new calls taken, in-flight ends finished");
  } finally {
    if (state.leader) {
      await lease.release().then(
        () => log.info("leader lease released"),
        (err: unknown) =>
          log.warn({ err: errorMessage(err) }, "could not release the lease; it expires by itself"),
      );
    }
    runtime.metrics.isLeader.set(0);
    await server.close();
    await runtime.close();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
