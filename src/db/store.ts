import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import type { ActiveCall, EndSource } from "../reconcile/types.js";
import { withTransaction } from "./pool.js";
import { buildStatements, ENDED_CHANNEL, NOTIFY_SQL, PING_SQL, type Statements } from "./sql.js";

/** Where the next keyset page starts: the last row of the previous page, exact to the microsecond. */
export interface PageCursor {
  startedAt: string;
  id: string;
}

export interface ActivePage {
  rows: ActiveCall[];
  next: PageCursor | null;
}

export interface EndRequest {
  call: ActiveCall;
  newStatus: string;
  endedAt: Date;
  source: EndSource;
  runId: string;
  evidence: unknown;
  decidedAt: Date;
}

export interface ActiveSummary {
  active: number;
  oldestStartedAt: Date | null;
}

/** The daemon's whole view of the database. Tests hand in the real implementation on a real Postgres. */
export interface CallStore {
  listActivePage(cursor: PageCursor | null, startedAtOrBefore: Date, limit: number): Promise<ActivePage>;
  /** True when this call was ended now; false when it was no longer active (a webhook won the race). */
  endCall(req: EndRequest): Promise<boolean>;
  activeSummary(): Promise<ActiveSummary>;
}

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

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
    private readonly activeStatuses: readonly string[],
  ) {
    this.sql = buildStatements(mapping);
  }

  async listActivePage(
    cursor: PageCursor | null,
    startedAtOrBefore: Date,
    limit: number,
  ): Promise<ActivePage> {
    const result =
      cursor === null
        ? await this.pool.query<ListedRow>(this.sql.firstActivePage, [
            this.activeStatuses,
            startedAtOrBefore,
            limit,
          ])
        : await this.pool.query<ListedRow>(this.sql.nextActivePage, [
            this.activeStatuses,
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
    return withTransaction(this.pool, async (client) => {
      const ended = await client.query(this.sql.endCall, [
        req.call.id,
        this.activeStatuses,
        req.newStatus,
        req.endedAt,
        req.runId,
        req.source,
        JSON.stringify(req.evidence),
        req.decidedAt,
      ]);
      if (ended.rowCount !== 1) return false;
      // Delivered to LISTENers only if this transaction commits: never for an end that did not happen.
      const payload = {
        callId: req.call.id,
        status: req.newStatus,
        endedAt: req.endedAt.toISOString(),
        source: req.source,
        runId: req.runId,
      };
      await client.query(NOTIFY_SQL, [ENDED_CHANNEL, JSON.stringify(payload)]);
      return true;
    });
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
  }
}

function explainSchemaError(err: unknown, m: CallsTableMapping): Error {
  const code = pgCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === "42P01") {
    return new SchemaMismatchError(`CALLS_TABLE: table ${m.table} does not exist (${message})`);
  }
  if (code === "42703") {
    return new SchemaMismatchError(`a CALLS_COL_* setting names a column that ${m.table} lacks: ${message}`);
  }
  return err instanceof Error ? err : new Error(message);
}

export function pgCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}

function blankToNull(v: string | null): string | null {
  return v === null || v.trim() === "" ? null : v.trim();
}
