import type pg from "pg";
import { type Config, ConfigError } from "../config/config.js";
import { createPool } from "../db/pool.js";
import { PgCallStore } from "../db/store.js";
import type { Logger } from "../log.js";
import { createTwilioProbe } from "../providers/twilio.js";
import type { Probes } from "../reconcile/evidence-gathering.js";
import type { PassDeps } from "../reconcile/pass.js";

export interface Runtime {
  pool: pg.Pool;
  store: PgCallStore;
  passDeps: PassDeps;
  close(): Promise<void>;
}

export function requireDatabaseUrl(config: Config): string {
  if (config.databaseUrl === undefined) {
    throw new ConfigError("DATABASE_URL is required (postgres://user:password@host:5432/db)");
  }
  return config.databaseUrl;
}

/** Wires the adapters around the pure core from one validated config. */
export function createRuntime(
  config: Config,
  logger: Logger,
  opts: { twilioKeepAlive?: boolean } = {},
): Runtime {
  const pool = createPool(requireDatabaseUrl(config), {
    onError: (err) =>
      logger.warn({ err: err.message }, "database connection lost; the next query reconnects"),
  });
  const store = new PgCallStore(pool, config.calls, config.activeStatuses);
  const probes: Probes = {
    twilio:
      config.twilio === null
        ? null
        : createTwilioProbe({
            credentials: config.twilio,
            baseUrl: config.twilioApiBaseUrl,
            timeoutMs: config.providerTimeoutMs,
            keepAlive: opts.twilioKeepAlive ?? true,
          }),
  };
  if (probes.twilio === null) {
    logger.warn(
      "Twilio is not configured (TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN): rows with a SID stay unverified",
    );
  }
  return {
    pool,
    store,
    passDeps: {
      store,
      probes,
      policy: {
        minCallAgeSeconds: config.minCallAgeSeconds,
        maxCallDurationSeconds: config.maxCallDurationSeconds,
        absenceConfirmSeconds: config.reconcileIntervalSeconds,
      },
      clock: () => new Date(),
      logger,
      pageSize: config.dbPageSize,
      concurrency: config.twilioConcurrency,
    },
    close: () => pool.end(),
  };
}
