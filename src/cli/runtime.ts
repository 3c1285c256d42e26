import type { Config } from "../config/config.js";
import { mapStatus } from "../config/status-map.js";
import { type FoundBy, passRecord } from "../daemon/pass-record.js";
import type { Logger } from "../log.js";
import { createMetrics, type Metrics, startEndedCounters } from "../metrics/metrics.js";
import {
  type CallStore,
  type CommandStore,
  type Database,
  type DiagnosisQueue,
  END_STATUSES,
} from "../model/index.js";
import { createWebhookNotifier, type WebhookNotifier } from "../notify/webhook.js";
import { guardProviders, type RawProviders, rawProviders } from "../providers/guarded.js";
import type { PassDeps, PassRecord } from "../reconcile/pass.js";
import { passSettings } from "../reconcile/pass-settings.js";
import { RowBackoff } from "../reconcile/row-backoff.js";
import { openDatabase } from "./database.js";
import { watchListingIndex } from "./listing-index-report.js";
import { terminalText } from "./terminal-text.js";

export interface Runtime {
  database: Database;
  store: CommandStore;
  metrics: Metrics;
  passDeps: PassDeps;
  /** The record step for ends found another way than the periodic pass (an Event Streams event). */
  recordFor(found: FoundBy): PassRecord;
  close(): Promise<void>;
}

const NOTIFY_DRAIN_MS = 3_000;

/**
 * The pass's dependencies as the daemon wires them, from one config: the demo, the tests' fault matrix and the
 * benchmark use the same wiring, so what they measure is what runs.
 */
export function passDepsFor(
  config: Config,
  parts: {
    store: CallStore;
    metrics: Metrics;
    logger: Logger;
    raw: RawProviders;
    diagnoses?: DiagnosisQueue;
    /** The downstream webhook, told of each end after the metrics; none in the bench. */
    notifier?: WebhookNotifier | null;
  },
): PassDeps {
  const diagnosisRequests = diagnosisBudget(config);
  const backoff = new RowBackoff();
  return {
    ...passSettings(config, parts.logger, {
      capDisproved: () => parts.metrics.realtimeSessionCapDisproved.set(1),
      datesOnlyAccounts: (accounts) => parts.metrics.twilioListByDate.set(accounts),
    }),
    ...(parts.diagnoses !== undefined && diagnosisRequests >= 2
      ? {
          diagnosis: {
            queue: parts.diagnoses,
            maxRequests: diagnosisRequests,
            onSettled: (cause: string) => parts.metrics.zombieCauses.inc({ cause }),
          },
        }
      : {}),
    store: parts.store,
    probes: guardProviders(config, parts.raw, parts.metrics, parts.logger, () => backoff.recovered()),
    record: passRecord(parts.metrics, config.statusMap, parts.notifier ?? null),
    backoff,
    logger: parts.logger,
  };
}

/**
 * Requests a pass may spend on diagnoses: DIAGNOSIS_REQUEST_SHARE of what the configured account may be asked
 * in one interval. 10 % by default: the diagnosis is for a person reading a report later, the ends are what
 * protect billing and limits now, so they keep nine tenths; at the default 10 req/s and 60 s, 60 requests a
 * pass, 30 to 60 zombies diagnosed.
 */
export function diagnosisBudget(config: Config): number {
  return Math.floor(config.diagnosisRequestShare * config.twilioMaxRps * config.reconcileIntervalSeconds);
}

/** How the runtime says what it found missing at start-up: the daemon's default is its JSON log. */
export type StartupWarn = (message: string) => void;

/**
 * A one-shot command's start-up warnings: one plain line each on stderr. Its answer is read by a person, and
 * a JSON log line above it reads as noise; LOG_LEVEL above warn still silences them.
 */
export function plainWarnings(logger: Logger, stderr: NodeJS.WritableStream): StartupWarn {
  return (message) => {
    if (logger.isLevelEnabled("warn")) stderr.write(`call-reconciler: warning: ${terminalText(message)}\n`);
  };
}

/** Wires the adapters around the pure core from one validated config. */
export async function createRuntime(
  config: Config,
  logger: Logger,
  opts: { twilioKeepAlive?: boolean; warn?: StartupWarn } = {},
): Promise<Runtime> {
  const warn = opts.warn ?? ((message: string) => logger.warn(message));
  const metrics = createMetrics();
  const database = await openDatabase(config, {
    onConnectionLost: (err) =>
      logger.warn({ err: err.message }, "database connection lost; the next query reconnects"),
    onListingIndex: watchListingIndex(metrics, logger, config.calls.table),
  });
  startEndedCounters(
    metrics,
    END_STATUSES.map((s) => mapStatus(config.statusMap, s)),
  );
  const { store } = database;
  const raw = rawProviders(config, opts);
  // A table without a Call SID column (CALLS_COL_TWILIO_SID set empty) has no row for Twilio to judge.
  if (raw.twilio === null && config.calls.twilioSid !== null) {
    warn(
      "Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN unset): rows with a Call SID stay unverified",
    );
  }
  if (raw.openai === null || config.openaiProbe === "off") {
    logger.info("OpenAI realtime probe is off (OPENAI_API_KEY unset or OPENAI_PROBE=off)");
  }
  const notifier =
    config.notify === null
      ? null
      : createWebhookNotifier({
          url: config.notify.url,
          secret: config.notify.secret,
          logger,
          onOutcome: (outcome) => metrics.notifications.inc({ outcome }),
        });
  return {
    database,
    store,
    metrics,
    passDeps: passDepsFor(config, {
      store,
      metrics,
      logger,
      raw,
      diagnoses: database.diagnoses,
      notifier,
    }),
    recordFor: (found) => passRecord(metrics, config.statusMap, notifier, found),
    close: async () => {
      // Ends are committed already; give their webhooks a moment, then let the audit table speak for them.
      await notifier?.drain(NOTIFY_DRAIN_MS);
      await database.close();
    },
  };
}
