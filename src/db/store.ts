import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/identifiers.js";
import { errorMessage } from "../error-message.js";
import {
  type ActiveCall,
  type ActivePage,
  type ActiveSummary,
  type CallStore,
  type EndRequest,
  type PageCursor,
  RowRefusedError,
} from "../model/index.js";
import { withTransaction } from "./pool.js";
import { buildStatements, COLUMN_TYPES_SQL, type ColumnTypes, PING_SQL, type Statements } from "./sql.js";

/** Raised with a message an operator can act on when the configured table does not match the database. */
export class SchemaMismatchError extends Error {
  override name = "SchemaMismatchError";
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
  private readonly sql: Statements;
  /** The listing's $1: the one active status, or the list of them. */
  private readonly activeParam: string | readonly string[];
  private endCallsSqlCache: Promise<string> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
    private readonly activeStatuses: readonly string[],
  ) {
    this.sql = buildStatements(mapping, { oneActiveStatus: activeStatuses.length === 1 });
    this.activeParam = activeStatuses.length === 1 ? (activeStatuses[0] as string) : activeStatuses;
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

  async endCall(req: EndRequest): Promise<boolean> {
    // A batch of one ended something iff it ended this call; comparing sizes rather than `has(req.call.id)`
    // also holds for an id not spelled canonically ('007' for bigint 7, an upper-case uuid).
    return (await this.endCalls([req])).size === 1;
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<Set<string>> {
    if (reqs.length === 0) return new Set();
    const sql = await this.endCallsSql();
    const params = [
      reqs.map((r) => r.call.id),
      reqs.map((r) => r.newStatus),
      reqs.map((r) => r.endedAt),
      reqs.map((r) => r.source),
      // `?? null`: an absent evidence is recorded as JSON null, not refused by the NOT NULL column.
      reqs.map((r) => JSON.stringify(r.evidence ?? null)),
      this.activeStatuses,
      reqs.map((r) => r.runId),
      reqs.map((r) => r.decidedAt),
    ];
    // The NOTIFYs are sent by the statement itself, so they reach listeners only if this transaction commits.
    try {
      const { rows } = await withTransaction(this.pool, (client) =>
        client.query<{ call_id: string }>(sql, params),
      );
      return new Set(rows.map((r) => r.call_id));
    } catch (err) {
      throw refusedOrAsIs(err);
    }
  }

  /**
   * The batched end, once the id and status column types are known: read from the catalog on first use and
   * kept for the store's life (a failed lookup is retried on the next call).
   */
  private endCallsSql(): Promise<string> {
    if (this.endCallsSqlCache === undefined) {
      const pending = this.columnTypes().then((types) => {
        try {
          return this.sql.endCalls(types);
        } catch (err) {
          throw new SchemaMismatchError(errorMessage(err));
        }
      });
      this.endCallsSqlCache = pending;
      pending.catch(() => {
        if (this.endCallsSqlCache === pending) this.endCallsSqlCache = undefined;
      });
    }
    return this.endCallsSqlCache;
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

  /** Checks the configured table, columns and the audit table before the first pass, with actionable errors. */
  async verifySchema(): Promise<void> {
    try {
      await this.pool.query(this.sql.probeCallsTable);
    } catch (err) {
      throw explainSchemaError(err, this.mapping);
    }
    try {
      await this.pool.query(this.sql.probeActionsTable);
    } catch (err) {
      if (pgCode(err) === "42P01") {
        throw new SchemaMismatchError(
          "the daemon's tables (call_reconciler_actions, call_reconciler_leases) are missing or outdated: run `call-reconciler migrate` first",
        );
      }
      throw err;
    }
    // Resolves (and caches) the column types the batched end casts to; an unsupported type fails here.
    await this.endCallsSql();
  }
}

function explainSchemaError(err: unknown, m: CallsTableMapping): Error {
  const code = pgCode(err);
  const message = errorMessage(err);
  if (code === "42P01") {
    return new SchemaMismatchError(`CALLS_TABLE: table ${m.table} does not exist (${message})`);
  }
  if (code === "42703") {
    return new SchemaMismatchError(`a CALLS_COL_* setting names a column that ${m.table} lacks: ${message}`);
  }
  return err instanceof Error ? err : new Error(message);
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation) are about the values written,
 * not the database: RowRefusedError lets the pass tell them from a lost connection or a timeout.
 */
function refusedOrAsIs(err: unknown): unknown {
  const code = pgCode(err);
  return code !== undefined && (code.startsWith("22") || code.startsWith("23"))
    ? new RowRefusedError(errorMessage(err), code, { cause: err })
    : err;
}

export function pgCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}

function blankToNull(v: string | null): string | null {
  return v === null || v.trim() === "" ? null : v.trim();
}
