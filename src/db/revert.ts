import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import type { CallState, RecordedEnd, RevertBook } from "../model/index.js";
import type { RawTime } from "../time/raw-time.js";
import { readEndColumnTypes, readTimeColumns } from "./column-types.js";
import { readDurationColumn } from "./duration-column.js";
import { SchemaMismatchError } from "./errors.js";
import { missingTables } from "./holds.js";
import { withTransaction } from "./pool.js";
import { buildRevertStatements, type RevertStatements, revertReadSql } from "./sql/revert.js";
import { daemonTables } from "./sql/tables.js";

/** The revert statements, their time-zone parameter, and a text or epoch end column's conversion. */
interface Statements {
  sql: RevertStatements;
  zone: string[];
  /** CALLS_COL_DURATION is set: the lengths are compared and restored. */
  duration: boolean;
  ended: RawTime | null;
}

interface EndRow {
  action_id: string;
  run_id: string;
  call_id: string;
  previous_status: string;
  previous_ended_at: Date | null;
  new_status: string;
  ended_at: Date;
  duration_seconds: number | null;
  previous_duration_seconds: number | null;
  source: string;
  reverted_by: string | null;
  reverted_at: Date | null;
}

const toEnd = (r: EndRow): RecordedEnd => ({
  auditId: r.action_id,
  runId: r.run_id,
  callId: r.call_id,
  previousStatus: r.previous_status,
  previousEndedAt: r.previous_ended_at,
  newStatus: r.new_status,
  endedAt: r.ended_at,
  durationSeconds: r.duration_seconds,
  previousDurationSeconds: r.previous_duration_seconds,
  source: r.source,
  revertedBy: r.reverted_by,
  revertedAt: r.reverted_at,
});

/** The lengths the ends wrote, as the audit kept them (null: that end wrote none). */
const lengths = (ends: readonly RecordedEnd[]) => ends.map((e) => e.durationSeconds);

/** The restore statement's parameters (see RevertStatements.restore); `end` is its $9, if the end column takes one. */
function restoreParams(
  ends: readonly RecordedEnd[],
  revertRunId: string,
  by: string,
  statements: Statements,
  end: readonly unknown[],
): unknown[] {
  return [
    ends.map((e) => e.callId),
    ends.map((e) => e.auditId),
    ends.map((e) => e.newStatus),
    ends.map((e) => e.endedAt),
    ends.map((e) => e.previousStatus),
    revertRunId,
    by,
    ends.map((e) => e.previousEndedAt),
    ...end,
    ...(statements.duration ? [lengths(ends), ends.map((e) => e.previousDurationSeconds)] : []),
  ];
}

/** `revert`: reads the audit trail and restores ended calls, conditionally and in batches (see sql/revert.ts). */
export class RevertStore implements RevertBook {
  private sqlCache: Promise<Statements> | undefined;
  private readonly reads: ReturnType<typeof revertReadSql>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
  ) {
    this.reads = revertReadSql(daemonTables(mapping.daemonSchema));
  }

  /** The audit rows of run `runId`, counted by outcome (empty: no such run in the audit table). */
  async runOutcomes(runId: string): Promise<Record<string, number>> {
    const { rows } = await this.read<{ outcome: string; n: number }>(this.reads.runOutcomes, [runId]);
    return Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
  }

  /** One keyset page of run `runId`'s ends, after the audit row `afterAuditId` ("0" for the first). */
  async runEnds(runId: string, afterAuditId: string, limit: number): Promise<RecordedEnd[]> {
    return (await this.read<EndRow>(this.reads.runEnds, [runId, afterAuditId, limit])).rows.map(toEnd);
  }

  /** The last end recorded for `callId` (its `id::text`), or null. */
  async lastEndOf(callId: string): Promise<RecordedEnd | null> {
    const row = (await this.read<EndRow>(this.reads.callLastEnd, [callId])).rows[0];
    return row === undefined ? null : toEnd(row);
  }

  /** Where each end's call stands now, by audit row id. Reads only. */
  async states(ends: readonly RecordedEnd[]): Promise<Map<string, CallState>> {
    if (ends.length === 0) return new Map();
    return this.statesWith(this.pool, await this.statements(), ends);
  }

  /**
   * Restores, in one statement and one transaction, every call of `ends` still exactly as its end left it and
   * whose end was not reverted yet (holding each, with one audit row per restore under `revertRunId`; `by` is
   * user@host), then reads where every call stands.
   * Returns the audit row ids of the ends restored now, and the states after the statement.
   */
  async restore(
    ends: readonly RecordedEnd[],
    revertRunId: string,
    by: string,
  ): Promise<{ restored: Set<string>; states: Map<string, CallState> }> {
    if (ends.length === 0) return { restored: new Set(), states: new Map() };
    const statements = await this.statements();
    if (statements.ended !== null) return this.restoreRaw(ends, revertRunId, by, statements);
    const params = restoreParams(ends, revertRunId, by, statements, statements.zone);
    try {
      return await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ action_id: string }>(statements.sql.restore, params);
        const restored = new Set(rows.map((r) => r.action_id));
        // A fresh snapshot in the same transaction: what the others are now (locked, changed, gone).
        return { restored, states: await this.statesWith(client, statements, ends) };
      });
    } catch (err) {
      throw missingTables(err);
    }
  }

  /**
   * restore for a text or epoch end column: the daemon, not SQL, tells whether each value is still what the
   * end wrote (see RawTime.wrote); the statement then restores only those, guarded by the exact text read.
   */
  private async restoreRaw(
    ends: readonly RecordedEnd[],
    revertRunId: string,
    by: string,
    statements: Statements,
  ): Promise<{ restored: Set<string>; states: Map<string, CallState> }> {
    try {
      return await withTransaction(this.pool, async (client) => {
        const before = await this.rawStatesWith(client, statements, ends);
        const due = ends.filter((e) => {
          const state = before.get(e.auditId);
          return state?.asWritten === true && state.revertedBy === null;
        });
        let restored = new Set<string>();
        if (due.length > 0) {
          const { rows } = await client.query<{ action_id: string }>(
            statements.sql.restore,
            // $9: the exact text each value was read as, which the restore must still find.
            restoreParams(due, revertRunId, by, statements, [
              due.map((e) => before.get(e.auditId)?.raw ?? null),
            ]),
          );
          restored = new Set(rows.map((r) => r.action_id));
        }
        return { restored, states: await this.statesWith(client, statements, ends) };
      });
    } catch (err) {
      throw missingTables(err);
    }
  }

  private async statesWith(
    db: pg.Pool | pg.PoolClient,
    statements: Statements,
    ends: readonly RecordedEnd[],
  ): Promise<Map<string, CallState>> {
    const states = await this.rawStatesWith(db, statements, ends);
    return new Map([...states].map(([id, { raw: _, ...state }]) => [id, state]));
  }

  /** As statesWith, each with the end column's raw text (null unless the column is text or an epoch number). */
  private async rawStatesWith(
    db: pg.Pool | pg.PoolClient,
    statements: Statements,
    ends: readonly RecordedEnd[],
  ): Promise<Map<string, CallState & { raw: string | null }>> {
    const { rows } = await db.query<{
      action_id: string;
      present: boolean;
      status: string | null;
      ended_at: Date | null;
      ended_raw: string | null;
      as_written: boolean;
      reverted_by: string | null;
    }>(statements.sql.states, [
      ends.map((e) => e.callId),
      ends.map((e) => e.auditId),
      ends.map((e) => e.newStatus),
      ends.map((e) => e.endedAt),
      ...statements.zone,
      ...(statements.duration ? [lengths(ends)] : []),
    ]);
    const { ended } = statements;
    const endOf = new Map(ends.map((e) => [e.auditId, e.endedAt]));
    return new Map(
      rows.map((r) => {
        const raw = r.ended_raw;
        const wrote = endOf.get(r.action_id);
        const asWritten =
          ended === null
            ? r.as_written
            : r.as_written && raw !== null && wrote !== undefined && ended.wrote(raw, wrote);
        return [
          r.action_id,
          {
            present: r.present,
            status: r.status,
            endedAt: ended === null || raw === null ? r.ended_at : validOrNull(ended.parse(raw)),
            asWritten,
            revertedBy: r.reverted_by,
            raw,
          },
        ];
      }),
    );
  }

  private async read<T extends pg.QueryResultRow>(sql: string, params: unknown[]) {
    try {
      return await this.pool.query<T>(sql, params);
    } catch (err) {
      throw missingTables(err);
    }
  }

  /**
   * Built once the id, status and end column types are known (read from the catalog, like the batched end's);
   * `zone` is [CALLS_TIME_ZONE] for a `timestamp without time zone` end column, else []; `duration`: whether
   * CALLS_COL_DURATION is compared and restored (its type read like the end's).
   */
  private statements(): Promise<Statements> {
    this.sqlCache ??= Promise.all([
      readEndColumnTypes(this.pool, this.mapping),
      readTimeColumns(this.pool, this.mapping),
      readDurationColumn(this.pool, this.mapping),
    ]).then(([types, time, duration]) => {
      try {
        const withDuration = duration === null ? {} : { duration: duration.type };
        return {
          sql: buildRevertStatements(this.mapping, { ...types, endedAt: time.endedAt, ...withDuration }),
          zone: time.endedZone,
          duration: duration !== null,
          ended: time.ended,
        };
      } catch (err) {
        throw new SchemaMismatchError(errorMessage(err));
      }
    });
    return this.sqlCache;
  }
}

const validOrNull = (d: Date): Date | null => (Number.isNaN(d.getTime()) ? null : d);
