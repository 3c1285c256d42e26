/**
 * The PostgreSQL database behind the commands' port: one pool, the calls table's store on it, and the
 * daemon's state in RECONCILER_SCHEMA.
 */
import type { Config } from "../config/config.js";
import type { CausesBook, Database, OpenDatabaseOptions, WriterLease } from "../model/index.js";
import { SchemaMismatchError } from "../model/index.js";
import { checkBinding, describeBinding } from "./binding.js";
import { actionsOf, causeOf, causesSince, pgDiagnosisQueue } from "./causes.js";
import { pgDoctorChecks } from "./doctor-checks.js";
import { pgCode } from "./errors.js";
import { HoldStore } from "./holds.js";
import { Lease, reconcileLeaseName } from "./lease.js";
import { migrate } from "./migrate.js";
import { PgNudgeRelay } from "./nudge-relay.js";
import { connectionSettings, createPool, type PoolOptions } from "./pool.js";
import { verifyPrivileges } from "./privileges.js";
import { RevertStore } from "./revert.js";
import { statusColumnWarning } from "./schema-hints.js";
import { daemonTables } from "./sql/tables.js";
import { PgCallStore } from "./store.js";

/** A PostgreSQL database as the commands use it. */
export interface PgDatabase extends Database {
  readonly kind: "postgresql";
  readonly store: PgCallStore;
  nudgeRelay(): PgNudgeRelay;
}

/** Opens DATABASE_URL (a postgres:// URL): the pool connects on its first query. */
export function openPostgres(config: Config, url: string, opts: OpenDatabaseOptions = {}): PgDatabase {
  const { calls } = config;
  const poolOptions: PoolOptions = {
    max: opts.connections ?? 4,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    ...(opts.readOnly === true ? { readOnly: true } : {}),
    ...(opts.onConnectionLost === undefined ? {} : { onError: opts.onConnectionLost }),
  };
  const pool = createPool(url, poolOptions);
  const relay = new PgNudgeRelay({
    pool,
    clientConfig: connectionSettings(url, poolOptions),
    mapping: calls,
  });
  const tables = daemonTables(calls.daemonSchema);
  const store = new PgCallStore(pool, calls, config.activeStatuses, {
    statusMap: config.statusMap,
    twilioAccount: config.twilio?.accountSid,
    ...(opts.withoutHolds === true ? { withoutHolds: true } : {}),
    ...(opts.onListingIndex === undefined ? {} : { onListingIndex: opts.onListingIndex }),
  });
  const leaseName = () => reconcileLeaseName(pool, calls.table);
  return {
    kind: "postgresql",
    store,
    diagnoses: pgDiagnosisQueue(pool, tables),
    writerLease: ({ holder, ttlSeconds }): WriterLease =>
      new Lease(pool, {
        // Asked of the database on the lease's first request: a daemon may start before the database
        // answers, and must then never lead (never write) on a state that belongs to another calls table.
        name: async () => {
          await checkBinding(pool, calls, { bind: true });
          return leaseName();
        },
        holder,
        ttlSeconds,
        schema: calls.daemonSchema,
      }),
    nudgeRelay: () => relay,
    holds: () => new HoldStore(pool, calls),
    reverts: () => new RevertStore(pool, calls),
    causes: (): CausesBook => ({
      since: (since) => withCausesTable(() => causesSince(pool, tables, since)),
      of: (callId) => withCausesTable(() => causeOf(pool, tables, callId)),
      actionsOf: (callId) => actionsOf(pool, tables, callId),
    }),
    leaseName,
    endedSince: (since) => store.endedSince(since),
    migrate: ({ withCallsTable }) =>
      migrate(pool, { withCallsTable, mapping: calls, activeStatuses: config.activeStatuses }),
    checkBinding: (opts) => checkBinding(pool, calls, opts),
    describeBinding: (binding) => describeBinding(binding, calls.daemonSchema ?? "public"),
    verifyWriter: () => verifyPrivileges(pool, calls),
    verify: async () => {
      await store.schema.verify();
    },
    verifyCallsTable: () => store.schema.verifyCallsTable(),
    statusColumnWarning: () => statusColumnWarning(pool, calls, config.activeStatuses),
    doctorChecks: (opts) => pgDoctorChecks({ pool, store, config }, opts),
    close: async () => {
      await relay.close();
      await pool.end();
    },
  };
}

/** A database without the causes table has not been migrated to this release: one line saying so. */
async function withCausesTable<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (pgCode(err) === "42P01")
      throw new SchemaMismatchError(
        "the daemon's tables are missing or outdated: run `call-reconciler migrate` first",
      );
    throw err;
  }
}
