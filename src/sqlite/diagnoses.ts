/**
 * The queue of diagnoses on the causes table: filled by the ends themselves (in their transaction), so a
 * restarted daemon or a new leader goes on where the last one stopped. Due times are judged on this host's
 * clock, the one the ends were recorded on.
 */
import type { DiagnosisQueue, DueDiagnosis } from "../model/index.js";
import type { SqliteFile } from "./file.js";
import { diagnosesSql } from "./sql/state.js";

interface DueRow {
  call_id: string;
  call_sid: string | null;
  account_sid: string | null;
  direction: string | null;
  started_at: string | null;
  provider_ended_at: string;
  attempts: number;
}

export class SqliteDiagnosisQueue implements DiagnosisQueue {
  constructor(
    private readonly file: SqliteFile,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async due(limit: number): Promise<DueDiagnosis[]> {
    const now = this.clock().toISOString();
    const rows = (await this.file.read((db) =>
      db.prepare(diagnosesSql.due).all({ now, limit }),
    )) as unknown as DueRow[];
    return rows.map((r) => ({
      callId: r.call_id,
      callSid: r.call_sid ?? "",
      accountSid: r.account_sid ?? "",
      direction: r.direction,
      startedAt: r.started_at === null ? null : new Date(r.started_at),
      providerEndedAt: new Date(r.provider_ended_at),
      attempts: Number(r.attempts),
    }));
  }

  async settle(callId: string, cause: string, detail: unknown): Promise<void> {
    const now = this.clock().toISOString();
    await this.file.write((db) =>
      db.prepare(diagnosesSql.settle).run({ callId, cause, detail: JSON.stringify(detail ?? null), now }),
    );
  }

  async retry(callId: string, dueAt: Date, error: string): Promise<void> {
    await this.file.write((db) =>
      db.prepare(diagnosesSql.retry).run({ callId, dueAt: dueAt.toISOString(), error: error.slice(0, 500) }),
    );
  }

  async backlog(): Promise<{ queued: number; due: number }> {
    const now = this.clock().toISOString();
    const row = (await this.file.read((db) => db.prepare(diagnosesSql.backlog).get({ now }))) as
      | { queued: number; due: number }
      | undefined;
    return { queued: Number(row?.queued ?? 0), due: Number(row?.due ?? 0) };
  }
}
