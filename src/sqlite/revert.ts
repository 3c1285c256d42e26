/**
 * `revert` on a SQLite file: reads the audit trail and restores ended calls. The end column is text (or an
 * epoch number) the daemon reads itself: whether a value is still what the end wrote is decided here, in the
 * write transaction that restores it, and the UPDATE is guarded by the exact text read.
 */
import type { CallsTableMapping } from "../config/config.js";
import type { CallState, RecordedEnd, RevertBook } from "../model/index.js";
import { fallbackShape } from "../time/iso-text.js";
import { epochTime, type RawTime, textTime } from "../time/raw-time.js";
import type { Connection, SqliteFile } from "./file.js";
import { holdIn } from "./holds.js";
import { ownTime } from "./own-time.js";
import { explainSchemaError } from "./schema-errors.js";
import { type CallRowStatements, callRowSql, REVERT_READ_SQL, REVERTED_AUDIT_SQL } from "./sql/revert.js";

interface EndRow {
  action_id: string;
  run_id: string;
  call_id: string;
  previous_status: string;
  previous_ended_at: string | null;
  new_status: string;
  ended_at: string;
  duration_seconds: number | null;
  previous_duration_seconds: number | null;
  source: string;
  reverted_by: string | null;
  reverted_at: string | null;
}

const toEnd = (r: EndRow): RecordedEnd => ({
  auditId: r.action_id,
  runId: r.run_id,
  callId: r.call_id,
  previousStatus: r.previous_status,
  previousEndedAt: ownTime(r.previous_ended_at),
  newStatus: r.new_status,
  endedAt: ownTime(r.ended_at) as Date,
  durationSeconds: r.duration_seconds,
  previousDurationSeconds: r.previous_duration_seconds,
  source: r.source,
  revertedBy: r.reverted_by,
  revertedAt: ownTime(r.reverted_at),
});

/** A call's row as read for revert: null when it is gone. */
interface CallRow {
  status: string;
  endedRaw: string | null;
  duration: number | null;
}

/** Where a call stands, with the end text it was read as (what the restore's guard must still find). */
type RawState = CallState & { raw: string | null };

const validOrNull = (d: Date): Date | null => (Number.isNaN(d.getTime()) ? null : d);

export class SqliteRevertBook implements RevertBook {
  private readonly row: CallRowStatements;
  private readonly text: RawTime;
  private readonly epoch: RawTime | null;

  constructor(
    private readonly file: SqliteFile,
    private readonly mapping: CallsTableMapping,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.row = callRowSql(mapping);
    // parse and wrote read each value in its own shape: the fallback shape is never used to write here.
    this.text = textTime(fallbackShape(mapping.timeZone), mapping.timeZone);
    this.epoch = mapping.epochUnit === undefined ? null : epochTime(mapping.epochUnit);
  }

  async runOutcomes(runId: string): Promise<Record<string, number>> {
    const rows = await this.read(
      (db) => db.prepare(REVERT_READ_SQL.runOutcomes).all(runId) as Array<{ outcome: string; n: number }>,
    );
    return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
  }

  async runEnds(runId: string, afterAuditId: string, limit: number): Promise<RecordedEnd[]> {
    const rows = await this.read(
      (db) => db.prepare(REVERT_READ_SQL.runEnds).all(runId, afterAuditId, limit) as unknown as EndRow[],
    );
    return rows.map(toEnd);
  }

  async lastEndOf(callId: string): Promise<RecordedEnd | null> {
    const row = await this.read(
      (db) => db.prepare(REVERT_READ_SQL.callLastEnd).get(callId) as EndRow | undefined,
    );
    return row === undefined ? null : toEnd(row);
  }

  async states(ends: readonly RecordedEnd[]): Promise<Map<string, CallState>> {
    if (ends.length === 0) return new Map();
    return this.read((db) => withoutRaw(this.statesIn(db, ends)));
  }

  async restore(
    ends: readonly RecordedEnd[],
    revertRunId: string,
    by: string,
  ): Promise<{ restored: Set<string>; states: Map<string, CallState> }> {
    if (ends.length === 0) return { restored: new Set(), states: new Map() };
    try {
      return await this.file.write((db) => {
        const at = this.now();
        const restored = new Set<string>();
        for (const end of ends) {
          const state = this.statesIn(db, [end]).get(end.auditId);
          // An end writes only where the row had no end time, so only NULL is ever restored.
          if (state?.asWritten !== true || state.revertedBy !== null || end.previousEndedAt !== null)
            continue;
          if (this.restoreOne(db, end, state.raw as string)) {
            this.audit(db, end, revertRunId, by, at);
            holdIn(
              db,
              end.callId,
              { reason: `end reverted (run ${end.runId})`, heldBy: `revert:${by}`, runId: end.runId },
              at,
            );
            restored.add(end.auditId);
          }
        }
        return { restored, states: withoutRaw(this.statesIn(db, ends)) };
      });
    } catch (err) {
      throw explainSchemaError(err, this.mapping);
    }
  }

  /** The conditional UPDATE of one call, guarded by what was just read and checked; true when it changed it. */
  private restoreOne(db: Connection, end: RecordedEnd, raw: string): boolean {
    const withDuration = this.mapping.duration !== undefined && end.durationSeconds !== null;
    const params = withDuration
      ? [end.previousStatus, end.previousDurationSeconds, end.callId, end.newStatus, raw, end.durationSeconds]
      : [end.previousStatus, end.callId, end.newStatus, raw];
    return Number(db.prepare(this.row.restore(withDuration)).run(...params).changes) === 1;
  }

  /** The restore's audit row: what it undid, and the length it put back (when the end wrote one). */
  private audit(db: Connection, end: RecordedEnd, revertRunId: string, by: string, at: Date): void {
    const withDuration = this.mapping.duration !== undefined && end.durationSeconds !== null;
    const evidence = {
      reverted: {
        auditId: Number(end.auditId),
        runId: end.runId,
        status: end.newStatus,
        endedAt: end.endedAt.toISOString(),
        source: end.source,
      },
      by,
    };
    db.prepare(REVERTED_AUDIT_SQL).run(
      revertRunId,
      end.callId,
      end.newStatus,
      end.endedAt.toISOString(),
      end.previousStatus,
      end.source,
      JSON.stringify(evidence),
      at.toISOString(),
      at.toISOString(),
      `revert of run ${end.runId} by ${by}`,
      end.auditId,
      withDuration ? end.durationSeconds : null,
      withDuration ? end.previousDurationSeconds : null,
    );
  }

  private statesIn(db: Connection, ends: readonly RecordedEnd[]): Map<string, RawState> {
    const read = db.prepare(this.row.read);
    const revertOf = db.prepare(REVERT_READ_SQL.revertOf);
    return new Map(
      ends.map((end) => {
        const row = read.get(end.callId) as
          | { status: string; ended_raw: string | null; duration: number | null }
          | undefined;
        const reverted = revertOf.get(end.auditId) as { run_id: string } | undefined;
        const call: CallRow | null =
          row === undefined ? null : { status: row.status, endedRaw: row.ended_raw, duration: row.duration };
        return [end.auditId, this.stateOf(end, call, reverted?.run_id ?? null)];
      }),
    );
  }

  private stateOf(end: RecordedEnd, call: CallRow | null, revertedBy: string | null): RawState {
    if (call === null) {
      return { present: false, status: null, endedAt: null, asWritten: false, revertedBy, raw: null };
    }
    const raw = call.endedRaw;
    const time = raw === null ? null : this.timeOf(raw);
    const lengthAsWritten =
      this.mapping.duration === undefined ||
      end.durationSeconds === null ||
      (call.duration !== null && Number(call.duration) === end.durationSeconds);
    return {
      present: true,
      status: call.status,
      endedAt: raw === null || time === null ? null : validOrNull(time.parse(raw)),
      asWritten:
        call.status === end.newStatus &&
        raw !== null &&
        time?.wrote(raw, end.endedAt) === true &&
        lengthAsWritten,
      revertedBy,
      raw,
    };
  }

  /** How a value of the end column reads: ISO text, or an epoch number when CALLS_EPOCH_UNIT is set. */
  private timeOf(raw: string): RawTime | null {
    if (/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return this.epoch;
    return this.text;
  }

  private async read<T>(fn: (db: Connection) => T): Promise<T> {
    try {
      return await this.file.read(fn);
    } catch (err) {
      throw explainSchemaError(err, this.mapping);
    }
  }
}

const withoutRaw = (states: Map<string, RawState>): Map<string, CallState> =>
  new Map([...states].map(([id, { raw: _, ...state }]) => [id, state]));
