import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/config.js";
import { SchemaMismatchError } from "../db/store.js";
import type { Logger } from "../log.js";
import { recordPass } from "../metrics/record-pass.js";
import { passOutcome, runPass, totalUnverified, totalZombies } from "../reconcile/pass.js";
import { createRuntime } from "./runtime.js";

export interface DaemonOptions {
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
}

/**
 * The reconcile loop. A failed pass (database down, provider outage) is logged and the next interval tries
 * again, so the daemon heals by itself; only a configuration the database contradicts stops it.
 */
export async function runDaemon(config: Config, logger: Logger, opts: DaemonOptions): Promise<void> {
  const runtime = createRuntime(config, logger);
  const { signal } = opts;
  // Every in-flight provider request listens on the shutdown signal; their number is bounded by the
  // concurrency caps, so Node's default warning at 11 listeners would only be noise on stderr.
  setMaxListeners(0, signal);
  try {
    try {
      await runtime.store.verifySchema();
    } catch (err) {
      if (err instanceof SchemaMismatchError) throw err;
      logger.warn({ err: errorMessage(err) }, "database not usable yet; passes will retry");
    }
    logger.info(
      { intervalSeconds: config.reconcileIntervalSeconds, dryRun: config.dryRun, table: config.calls.table },
      "call-reconciler started",
    );
    while (!signal.aborted) {
      const runId = randomUUID();
      try {
        const r = await runPass(runtime.passDeps, { runId, dryRun: config.dryRun, signal });
        recordPass(runtime.metrics, r, passOutcome(r));
        logger.info(
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
            durationMs: r.finishedAt.getTime() - r.startedAt.getTime(),
          },
          "pass finished",
        );
      } catch (err) {
        recordPass(runtime.metrics, null, "failed");
        logger.error(
          { runId, outcome: "failed", err: errorMessage(err) },
          "pass failed; retrying next interval",
        );
      }
      await sleep(config.reconcileIntervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
    }
    logger.info("shutting down: no new calls taken, in-flight ends finished");
  } finally {
    await runtime.close();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
