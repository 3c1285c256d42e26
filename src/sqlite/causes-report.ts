/** `report`'s reads on a SQLite file: the causes of the zombies ended, and a call's audit rows. */
import type { CallAction, CauseRow, CausesBook } from "../model/index.js";
import type { Connection, SqliteFile } from "./file.js";
import { ownTime } from "./own-time.js";
import { explainSchemaError } from "./schema-errors.js";
import { CAUSES_REPORT_SQL } from "./sql/causes-report.js";

interface RawCauseRow {
  call_id: string;
  source: string;
  call_sid: string | null;
  account_sid: string | null;
  direction: string | null;
  provider_status: string | null;
  started_at: string | null;
  provider_ended_at: string;
  ended_here_at: string;
  cause: string | null;
  detail: string | null;
  attempts: number;
  last_error: string | null;
  diagnosed_at: string | null;
  reverted: number;
}

/** JSON text the daemon wrote (detail, evidence); null stays null. */
const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

const causeRow = (r: RawCauseRow): CauseRow => ({
  callId: r.call_id,
  source: r.source,
  callSid: r.call_sid,
  accountSid: r.account_sid,
  direction: r.direction,
  providerStatus: r.provider_status,
  startedAt: ownTime(r.started_at),
  providerEndedAt: ownTime(r.provider_ended_at) as Date,
  endedHereAt: ownTime(r.ended_here_at) as Date,
  cause: r.cause,
  detail: json(r.detail),
  attempts: Number(r.attempts),
  lastError: r.last_error,
  diagnosedAt: ownTime(r.diagnosed_at),
  reverted: Number(r.reverted) === 1,
});

export class SqliteCausesBook implements CausesBook {
  constructor(private readonly file: SqliteFile) {}

  async since(since: Date): Promise<CauseRow[]> {
    const rows = await this.read(
      (db) => db.prepare(CAUSES_REPORT_SQL.since).all(since.toISOString()) as unknown as RawCauseRow[],
    );
    return rows.map(causeRow);
  }

  async of(callId: string): Promise<CauseRow | null> {
    const row = await this.read(
      (db) => db.prepare(CAUSES_REPORT_SQL.one).get(callId) as RawCauseRow | undefined,
    );
    return row === undefined ? null : causeRow(row);
  }

  async actionsOf(callId: string): Promise<CallAction[]> {
    const rows = await this.read(
      (db) =>
        db.prepare(CAUSES_REPORT_SQL.actionsOf).all(callId) as Array<{
          run_id: string;
          previous_status: string;
          new_status: string;
          ended_at: string | null;
          source: string;
          decided_at: string | null;
          outcome: string;
          evidence: string;
        }>,
    );
    return rows.map((r) => ({
      runId: r.run_id,
      previousStatus: r.previous_status,
      newStatus: r.new_status,
      endedAt: ownTime(r.ended_at),
      source: r.source,
      decidedAt: ownTime(r.decided_at),
      outcome: r.outcome,
      evidence: json(r.evidence),
    }));
  }

  private async read<T>(fn: (db: Connection) => T): Promise<T> {
    try {
      return await this.file.read(fn);
    } catch (err) {
      throw explainSchemaError(err);
    }
  }
}
