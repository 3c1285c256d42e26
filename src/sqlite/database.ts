/**
 * The app's SQLite file behind the commands' port: one connection, the calls table's store on it, and the
 * daemon's state in the same file (see own-tables.ts). For one host: a file on a network file system is
 * refused (same-host.ts), and several replicas on this host share the lease row in the file.
 */
import { statusColumnMessage } from "../config/column-settings.js";
import type { Config } from "../config/config.js";
import type { DatabaseTarget } from "../config/config-types.js";
import {
  type Database,
  type OpenDatabaseOptions,
  SchemaMismatchError,
  type StateBinding,
} from "../model/index.js";
import { checkBinding } from "./binding.js";
import { createCallsTableIfMissing } from "./calls-table-create.js";
import { SqliteCausesBook } from "./causes-report.js";
import { SqliteDiagnosisQueue } from "./diagnoses.js";
import { fileFinding } from "./doctor.js";
import { sqliteDoctorChecks } from "./doctor-checks.js";
import { SqliteFile } from "./file.js";
import { SqliteHoldBook } from "./holds.js";
import { SqliteLease, writersLeaseName } from "./lease.js";
import { LATEST_SQLITE_MIGRATION, migrateOwnTables, setJournalMode } from "./migrate.js";
import { SqliteRevertBook } from "./revert.js";
import { sharedFileProblem } from "./same-host.js";
import { explainSchemaError } from "./schema-errors.js";
import { activeParams } from "./sql/calls.js";
import { OWN_VERSION_SQL, statusColumnSampleSql } from "./sql/status-column.js";
import { SqliteCallStore } from "./store.js";

type SqliteTarget = Extract<DatabaseTarget, { kind: "sqlite" }>;

export interface SqliteDatabase extends Database {
  readonly kind: "sqlite";
  readonly store: SqliteCallStore;
  readonly file: SqliteFile;
}

/**
 * Opens DATABASE_URL's file (on first use: a missing file fails the first read with one line). Only
 * `createFile` (`migrate --with-calls-table`, the demo) creates a missing file.
 */
export async function openSqlite(
  config: Config,
  target: SqliteTarget,
  opts: OpenDatabaseOptions = {},
): Promise<SqliteDatabase> {
  const problem = await sharedFileProblem(target.path);
  if (problem !== null) throw new SchemaMismatchError(problem);
  const { calls } = config;
  const file = new SqliteFile(target.path, {
    busyTimeoutMs: target.busyTimeoutMs,
    ...(opts.createFile === true ? { create: true } : {}),
    ...(opts.readOnly === true ? { readOnly: true } : {}),
  });
  const store = new SqliteCallStore(file, calls, config.activeStatuses, {
    statusMap: config.statusMap,
    twilioAccount: config.twilio?.accountSid,
    ...(opts.withoutHolds === true ? { withoutHolds: true } : {}),
    ...(opts.onListingIndex === undefined ? {} : { onListingIndex: opts.onListingIndex }),
  });
  const explained = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw explainSchemaError(err, calls);
    }
  };
  const verifyWriter = async () => {
    const finding = await fileFinding(target.path, target.busyTimeoutMs);
    if (finding.state === "fail") throw new SchemaMismatchError(`DATABASE_URL: ${finding.detail}`);
  };
  const verifyOwnTables = () =>
    explained(async () => {
      const row = (await file.read((db) => db.prepare(OWN_VERSION_SQL).get())) as { version: number | null };
      if (Number(row.version ?? 0) < LATEST_SQLITE_MIGRATION) {
        throw new SchemaMismatchError(
          "the daemon's tables in the SQLite file are older than this release: run `call-reconciler migrate` first",
        );
      }
    });
  const leaseName = () => explained(() => writersLeaseName(file, calls));
  const database: SqliteDatabase = {
    kind: "sqlite",
    file,
    store,
    diagnoses: new SqliteDiagnosisQueue(file),
    writerLease: ({ holder, ttlSeconds }) =>
      // The binding is checked (and an unbound state bound) before the lease's first request, as on
      // PostgreSQL: a writer never leads on the state of another calls table.
      new SqliteLease(file, calls, {
        holder,
        ttlSeconds,
        beforeFirstRequest: async () => {
          await explained(() => checkBinding(file, calls, { bind: true }));
        },
      }),
    // No relay: SQLite has no message between connections (its hooks see only their own connection's
    // writes), and the file serves replicas on one host only: an event reaches the leader by the next pass.
    nudgeRelay: () => null,
    holds: () => new SqliteHoldBook(file, calls),
    reverts: () => new SqliteRevertBook(file, calls),
    causes: () => new SqliteCausesBook(file),
    leaseName,
    endedSince: (since) => store.endedSince(since),
    migrate: async ({ withCallsTable }) => {
      const applied = await migrateOwnTables(file);
      const created = withCallsTable
        ? await createCallsTableIfMissing(file, { mapping: calls, activeStatuses: config.activeStatuses })
        : null;
      if (target.journalMode !== undefined) await setJournalMode(file, target.journalMode);
      return {
        applied,
        schema: "main",
        schemaCreated: false,
        callsTable: created?.callsTable ?? null,
        listingIndexCreated: created?.listingIndexCreated ?? null,
      };
    },
    checkBinding: (o) => explained(() => checkBinding(file, calls, o)),
    describeBinding: (b: StateBinding) =>
      b.boundAt === null
        ? `the daemon's state in ${target.path} is not bound yet: the first run, audit, hold or revert binds it to ${b.table.name}`
        : `the daemon's state in ${target.path} belongs to table ${b.table.name} (since ${b.boundAt.toISOString()})`,
    verifyWriter,
    verify: async () => {
      await verifyWriter();
      await store.shape();
      await verifyOwnTables();
      await database.checkBinding({ bind: true });
    },
    verifyCallsTable: async () => {
      await store.shape();
    },
    statusColumnWarning: async () => {
      await store.shape();
      const row = (await file.read((db) =>
        db
          .prepare(statusColumnSampleSql(calls, config.activeStatuses.length))
          .get(activeParams(config.activeStatuses)),
      )) as { any_rows: number; any_active: number; seen: string };
      if (Number(row.any_rows) === 0 || Number(row.any_active) === 1) return null;
      return statusColumnMessage(calls, config.activeStatuses, JSON.parse(row.seen) as string[]);
    },
    doctorChecks: (o) => sqliteDoctorChecks({ config, target, file, store, database, verifyOwnTables }, o),
    close: async () => file.close(),
  };
  return database;
}
