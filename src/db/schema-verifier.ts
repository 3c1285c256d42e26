/**
 * The checks of a store's tables before it is used, kept apart from the store's reads and writes: the
 * configured calls table and columns, the daemon's own tables, the statuses the status column accepts, and the
 * status words the app's finished rows carry. Each failure is an actionable SchemaMismatchError.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { refuseFinishedActive } from "./finished-active.js";
import { verifyPrivileges } from "./privileges.js";
import { collectSchemaProblems, type SchemaProblems } from "./schema-problems.js";
import type { DaemonTables } from "./sql/tables.js";
import type { PageStatements } from "./sql.js";
import { checkStatusValues, type StatusValuesReport } from "./status-values.js";
import { readStatusWords, type StatusWords } from "./status-words.js";
import { probeCallsTable, probeTables } from "./table-probes.js";

/** What the checks need of the store they check. */
export interface VerifiedStore {
  pool: pg.Pool;
  mapping: CallsTableMapping;
  sql: PageStatements;
  own: DaemonTables;
  statusMap: Readonly<Record<string, string>>;
  activeStatuses: readonly string[];
  /** The listing's $1 (one status, or the list). */
  activeParam: string | readonly string[];
  /**
   * Resolves (and caches, in the store) the column types the listing needs: an unsupported start column, or a
   * `timestamp without time zone` one without CALLS_TIME_ZONE, throws SchemaMismatchError.
   */
  listingTypes: () => Promise<unknown>;
  /** Likewise for the batched end's id, status, end and duration columns. */
  endTypes: () => Promise<unknown>;
}

export class SchemaVerifier {
  constructor(private readonly s: VerifiedStore) {}

  /**
   * The calls table, its columns and its time columns only, with verify's one-line errors: for a reader that
   * neither writes nor needs the daemon's tables (`simulate`).
   */
  async verifyCallsTable(): Promise<void> {
    await probeCallsTable(this.s.pool, this.s.sql, this.s.mapping);
    await this.s.listingTypes();
  }

  /**
   * Checks before the first pass, with actionable errors (SchemaMismatchError): the configured table and
   * columns, the daemon's tables (migrated to the last version), and that the status column accepts every
   * status the daemon may write after STATUS_MAP. Returns what the status check could evaluate, for the logs.
   * `privilegesChecked`: the caller has just checked the privileges itself (doctor), so they are not asked twice.
   * `bindState: false`: an unbound state is left unbound (doctor writes nothing); bound to another table, it
   * still fails.
   */
  async verify(opts: { privilegesChecked?: boolean; bindState?: boolean } = {}): Promise<StatusValuesReport> {
    const { pool, mapping, sql } = this.s;
    // First: without USAGE on a schema the probes below would fail with a bare "permission denied".
    if (opts.privilegesChecked !== true) await verifyPrivileges(pool, mapping);
    await probeTables(pool, sql, this.s.own, mapping, { bind: opts.bindState !== false });
    await this.s.listingTypes();
    await this.s.endTypes();
    const report = await checkStatusValues(pool, mapping, this.s.statusMap, this.s.activeStatuses);
    // After the status check: an active status the column's enum lacks would fail this statement unexplained.
    await refuseFinishedActive(pool, sql, mapping, this.s.activeParam);
    return report;
  }

  /** verify's checks, every problem found rather than the first thrown: for `doctor` and `migrate`. */
  problems(opts: { privilegesChecked?: boolean } = {}): Promise<SchemaProblems> {
    return collectSchemaProblems({
      ...this.s,
      columnTypes: async () => {
        await this.s.listingTypes();
        await this.s.endTypes();
      },
      privilegesChecked: opts.privilegesChecked === true,
    });
  }

  /** The statuses the daemon would write against those the latest finished rows carry. */
  statusWords(opts: { targetsAccepted: boolean }): Promise<StatusWords> {
    return readStatusWords(this.s.pool, this.s.mapping, this.s.statusMap, opts);
  }
}
