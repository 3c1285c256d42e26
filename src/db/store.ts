import type pg from "pg";
import { type CallsTableMapping, mapStatus } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/identifiers.js";
import { errorMessage } from "../error-message.js";
import type {
  ActiveCall,
  ActivePage,
  ActiveSummary,
  CallStore,
  EndBatchResult,
  EndRequest,
  PageCursor,
} from "../model/index.js";
import { endError, explainSchemaError, pgCode, SchemaMismatchError } from "./errors.js";
import { withTransaction } from "./pool.js";
import {
  buildEndStatements,
  buildPageStatements,
  COLUMN_TYPES_SQL,
  type ColumnTypes,
  type EndStatements,
  type PageStatements,
  PING_SQL,
  RECORD_REFUSAL_SQL,
  REFUSED_BEFORE_SQL,
} from "./sql.js";
import { checkStatusValues, type StatusValuesReport } from "./status-values.js";

export { pgCode, SchemaMismatchError } from "./errors.js";

export interface StoreOptions {
  /** STATUS_MAP: the provider's status → the value written into the calls table (and the audit row). */
  statusMap?: Readonly<Record<string, string>>;
}

interface ListedRow {
  id: string;
  twilio_sid: string | null;
  openai_id: string | null;
  status: string;
  started_at: Date;
  cursor_started_at: string;
}

export class PgCallStore implements CallStore {
  private readonly sql: PageStatements;
  /** The listing's $1: the one active status, or the list of them. */
  private readonly activeParam: string | readonly string[];
  private readonly statusMap: Readonly<Record<string, string>>;
  private endSqlCache: Promise<EndStatements> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
    private readonly activeStatuses: readonly string[],
    opts: StoreOptions = {},
  ) {
    this.sql = buildPageStatements(mapping, { oneActiveStatus: activeStatuses.length === 1 });
    this.activeParam = activeStatuses.length === 1 ? (activeStatuses[0] as string) : activeStatuses;
    this.statusMap = opts.statusMap ?? {};
  }

  async listActivePage(
    cursor: PageCursor | null,
    startedAtOrBefore: Date,
    limit: number,
  ): Promise<ActivePage> {
    const result =
      cursor === null
        ? await this.pool.query<ListedRow>(this.sql.firstActivePage, [
            this.activeParam,
            startedAtOrBefore,
            limit,
          ])
        : await this.pool.query<ListedRow>(this.sql.nextActivePage, [
            this.activeParam,
            startedAtOrBefore,
            limit,
            cursor.startedAt,
            cursor.id,
          ]);
    const rows = result.rows.map(
      (r): ActiveCall => ({
        id: r.id,
        twilioSid: blankToNull(r.twilio_sid),
        openaiId: blankToNull(r.openai_id),
        status: r.status,
        startedAt: r.started_at,
      }),
    );
    const last = result.rows[result.rows.length - 1];
    const next =
      last !== undefined && rows.length === limit ? { startedAt: last.cursor_started_at, id: last.id } : null;
    return { rows, next };
  }

  async endCall(req: EndRequest): Promise<"ended" | "not_active" | "locked"> {
    // A batch of one ended something iff it ended this call; comparing sizes rather than `has(req.call.id)`
    // also holds for an id not spelled canonically ('007' for bigint 7, an upper-case uuid).
    const { ended, locked } = await this.endCalls([req]);
    return ended.size === 1 ? "ended" : locked.size === 1 ? "locked" : "not_active";
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<EndBatchResult> {
    if (reqs.length === 0) return { ended: new Set(), locked: new Set() };
    const sql = await this.endSql();
    const ids = reqs.map((r) => r.call.id);
    const params = [
      ids,
      reqs.map((r) => mapStatus(this.statusMap, r.newStatus)),
      reqs.map((r) => r.endedAt),
      reqs.map((r) => r.source),
      // `?? null`: an absent evidence is recorded as JSON null, not refused by the NOT NULL column.
      reqs.map((r) => JSON.stringify(r.evidence ?? null)),
      this.activeStatuses,
      reqs.map((r) => r.runId),
      reqs.map((r) => r.decidedAt),
      reqs.map((r) => r.newStatus),
    ];
    // The NOTIFYs are sent by the statement itself, so they reach listeners only if this transaction commits.
    try {
      return await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ call_id: string }>(sql.endCalls, params);
        const ended = new Set(rows.map((r) => r.call_id));
        // Every distinct id ended: nothing was skipped, no need to ask.
        if (ended.size >= new Set(ids).size) return { ended, locked: new Set<string>() };
        // Skipped rows are still active (after our own updates, which this statement sees). Asked in the
        // same transaction but with a fresh snapshot: a row a webhook ended meanwhile is not reported locked.
        const still = await client.query<{ call_id: string }>(sql.stillActive, [ids, this.activeStatuses]);
        return { ended, locked: new Set(still.rows.map((r) => r.call_id).filter((id) => !ended.has(id))) };
      });
    } catch (err) {
      throw endError(err);
    }
  }

  async recordRefusal(req: EndRequest, detail: string): Promise<boolean> {
    const { rows } = await this.pool.query(RECORD_REFUSAL_SQL, [
      req.runId,
      req.call.id,
      req.call.status,
      mapStatus(this.statusMap, req.newStatus),
      req.newStatus,
      req.endedAt,
      req.source,
      JSON.stringify(req.evidence ?? null),
      req.decidedAt,
      detail,
    ]);
    return rows.length === 1;
  }

  async refusedBefore(reqs: readonly EndRequest[]): Promise<Set<string>> {
    if (reqs.length === 0) return new Set();
    const { rows } = await this.pool.query<{ call_id: string }>(REFUSED_BEFORE_SQL, [
      reqs.map((r) => r.call.id),
      reqs.map((r) => mapStatus(this.statusMap, r.newStatus)),
    ]);
    return new Set(rows.map((r) => r.call_id));
  }

  /**
   * The batched end's statements, once the id and status column types are known: read from the catalog on
   * first use and kept for the store's life (a failed lookup is retried on the next call).
   */
  private endSql(): Promise<EndStatements> {
    if (this.endSqlCache === undefined) {
      const pending = this.columnTypes().then((types) => {
        try {
          return buildEndStatements(this.mapping, types);
        } catch (err) {
          throw new SchemaMismatchError(errorMessage(err));
        }
      });
      this.endSqlCache = pending;
      pending.catch(() => {
        if (this.endSqlCache === pending) this.endSqlCache = undefined;
      });
    }
    return this.endSqlCache;
  }

  private async columnTypes(): Promise<ColumnTypes> {
    const m = this.mapping;
    let rows: { name: string; type: string }[];
    try {
      ({ rows } = await this.pool.query<{ name: string; type: string }>(COLUMN_TYPES_SQL, [
        quoteQualifiedIdentifier(m.table),
        [m.id, m.status],
      ]));
    } catch (err) {
      throw explainSchemaError(err, m);
    }
    const typeOf = (column: string, setting: string): string => {
      const row = rows.find((r) => r.name === column);
      if (row === undefined) {
        throw new SchemaMismatchError(`${setting}: table ${m.table} has no column ${column}`);
      }
      return row.type;
    };
    return { id: typeOf(m.id, "CALLS_COL_ID"), status: typeOf(m.status, "CALLS_COL_STATUS") };
  }

  /** Readiness probe: does the database answer? */
  async ping(): Promise<void> {
    await this.pool.query(PING_SQL);
  }

  async activeSummary(): Promise<ActiveSummary> {
    const { rows } = await this.pool.query<{ active: string; oldest_started_at: Date | null }>(
      this.sql.activeSummary,
      [this.activeStatuses],
    );
    const row = rows[0];
    return { active: Number(row?.active ?? 0), oldestStartedAt: row?.oldest_started_at ?? null };
  }

  /**
   * Checks before the first pass, with actionable errors (SchemaMismatchError): the configured table and
   * columns, the daemon's tables (migrated to the last version), and that the status column accepts every
   * status the daemon may write after STATUS_MAP. Returns what the status check could read, for the logs.
   */
  async verifySchema(): Promise<StatusValuesReport> {
    try {
      await this.pool.query(this.sql.probeCallsTable);
    } catch (err) {
      throw explainSchemaError(err, this.mapping);
    }
    try {
      await this.pool.query(this.sql.probeActionsTable);
    } catch (err) {
      const code = pgCode(err);
      if (code === "42P01" || code === "42703") {
        throw new SchemaMismatchError(
          "the daemon's tables (call_reconciler_actions, call_reconciler_leases) are missing or outdated: run `call-reconciler migrate` first",
        );
      }
      throw err;
    }
    // Resolves (and caches) the column types the batched end casts to; an unsupported type fails here.
    await this.endSql();
    return checkStatusValues(this.pool, this.mapping, this.statusMap, this.activeStatuses);
  }
}

function blankToNull(v: string | null): string | null {
  return v === null || v.trim() === "" ? null : v.trim();
}
