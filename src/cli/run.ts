import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import type { Config } from "../config/config.js";
import { type LoopState, reconcileLoop } from "../daemon/loop.js";
import { reconcileNow } from "../daemon/on-demand.js";
import { PassGate, Progress } from "../daemon/tick.js";
import { errorMessage } from "../error-message.js";
import type { Logger } from "../log.js";
import { SchemaMismatchError, type WriterLease } from "../model/index.js";
import { type Readiness, startHttpServer } from "../server/http.js";
import { isDatabaseConfigError } from "./errors.js";
import { daemonReadiness } from "./readiness.js";
import { reportJson } from "./report.js";
import { type EventsRunning, startEvents } from "./run-events.js";
import { createRuntime } from "./runtime.js";

export interface DaemonOptions {
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
}

/**
 * The daemon: serves metrics and probes while the reconcile loop runs; only a configuration the database
 * contradicts stops it. Wiring only: the loop, its lease and its ticks live in daemon/.
 */
export async function runDaemon(config: Config, logger: Logger, opts: DaemonOptions): Promise<void> {
  const runtime = await createRuntime(config, logger);
  const { signal } = opts;
  // Every in-flight provider request listens on the shutdown signal; their number is bounded by the
  // concurrency caps, so Node's default warning at 11 listeners would only be noise on stderr.
  setMaxListeners(0, signal);
  const intervalMs = config.reconcileIntervalSeconds * 1000;
  // The database is first asked on the first lease check: the daemon may start before it answers.
  const lease = runtime.database.writerLease({
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ttlSeconds: config.leaderLeaseSeconds,
  });
  const state: LoopState = { leader: false, lastTickOkAt: Number.NEGATIVE_INFINITY, lastResult: null };
  const progress = new Progress();
  const deadlineMs = config.passDeadlineSeconds * 1000;
  const log = logger.child({ replica: lease.holder });

  const tickDeps = {
    passDeps: runtime.passDeps,
    lease,
    leaseSeconds: config.leaderLeaseSeconds,
    dryRun: config.dryRun,
    metrics: runtime.metrics,
    activeSummary: () => runtime.store.activeSummary(),
    logger: log,
    intervalMs,
    progress,
    passDeadlineMs: deadlineMs,
  };
  // Timer passes and passes asked for over HTTP, one at a time.
  const gate = new PassGate();

  const server = await startHttpServer(config.metricsHost, config.metricsPort, {
    registry: runtime.metrics.registry,
    readiness: daemonReadiness({ ping: () => runtime.store.ping(), state, intervalMs, logger: log }),
    // The loop sleeps an interval between passes: that is not a stall.
    health: () => health(progress, deadlineMs + intervalMs),
    beforeScrape: () => runtime.metrics.secondsSinceProgress.set(progress.msSince() / 1000),
    zombies: () => zombiesReport(state, lease, config.statusMap),
    zombiesToken: config.zombiesToken,
    reconcile: (request) => reconcileNow({ tickDeps, lease, state, gate, signal }, request),
    reconcileToken: config.reconcileToken,
  });
  let events: EventsRunning | null = null;
  try {
    events = await startEvents(config, runtime, { state, tickDeps, logger: log, signal });
    try {
      await runtime.database.verify();
      const statusWarning = await runtime.database.statusColumnWarning();
      if (statusWarning !== null) log.warn(statusWarning);
      // Warns (once) and sets the gauge when no index serves the listing; every pass asks again.
      await runtime.store.listingIndex();
    } catch (err) {
      if (err instanceof SchemaMismatchError || isDatabaseConfigError(err)) throw err;
      log.warn({ err: errorMessage(err) }, "database not usable yet; passes will retry");
    }
    log.info(
      {
        intervalSeconds: config.reconcileIntervalSeconds,
        dryRun: config.dryRun,
        table: config.calls.table,
        metrics: server.url,
        ...(events === null ? {} : { events: events.url }),
      },
      "call-reconciler started",
    );
    await reconcileLoop(tickDeps, state, signal, gate);
    log.info("shutting down: no new calls taken, in-flight ends finished");
  } finally {
    // The checks events asked for, and a pass asked for over HTTP, stop on the same signal; their ends commit
    // or roll back before the lease goes.
    await events?.close();
    await gate.idle();
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

/**
 * The findings of this leader's last pass; none from a replica that is not (or can no longer count on being)
 * the leader, whose last report is stale: the current leader has the findings.
 */
function zombiesReport(
  state: LoopState,
  lease: WriterLease,
  statusMap: Config["statusMap"],
): { report: unknown } | { unavailable: string } {
  if (!state.leader || lease.remainingMs() <= 0) {
    return { unavailable: "this replica is standing by; the leader has the findings" };
  }
  if (state.lastResult === null) return { unavailable: "no pass has completed yet" };
  return { report: reportJson(state.lastResult, statusMap) };
}

/**
 * Alive while the loop moves: a loop without progress for a whole pass deadline (a database link gone silent,
 * a hung request) is restarted by the orchestrator rather than left holding a lease and row locks.
 */
function health(progress: Progress, boundMs: number): Readiness {
  const stuckMs = progress.msSince();
  return stuckMs > boundMs
    ? {
        ready: false,
        reason: `no progress for ${Math.round(stuckMs / 1000)} s (bound: PASS_DEADLINE_SECONDS + RECONCILE_INTERVAL_SECONDS)`,
      }
    : { ready: true, reason: "ok" };
}
