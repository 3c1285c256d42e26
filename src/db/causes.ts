/**
 * The store's side of the causes table (sql/causes.ts): recorded with every end, in its transaction; the
 * diagnoses due, settled or put off; read back for `report`.
 */
import type pg from "pg";
import {
  type CallAction,
  type CauseRow,
  type DiagnosisQueue,
  type DueDiagnosis,
  type EndRequest,
  type NewCauseRow,
  newCauseRow,
} from "../model/index.js";
import { causesSql } from "./sql/causes.js";
import type { DaemonTables } from "./sql/tables.js";

/**
 * Records the cause rows of the calls just ended (`ended`: their ids as the end statement returned them), in
 * the ending transaction `client`. A Twilio end waits for its diagnosis; any other end's cause is its source.
 */
export async function recordCauses(
  client: pg.PoolClient,
  tables: DaemonTables,
  reqs: readonly EndRequest[],
  ended: ReadonlySet<string>,
  configuredAccount: string | null,
): Promise<void> {
  const seen = new Set<string>();
  const rows = reqs.filter((r) => ended.has(r.call.id) && !seen.has(r.call.id) && seen.add(r.call.id));
  if (rows.length === 0) return;
  const causes = rows.map((r) => newCauseRow(r, configuredAccount));
  const column = <T>(f: (c: NewCauseRow) => T) => causes.map(f);
  await client.query(causesSql(tables).record, [
    column((c) => c.callId),
    column((c) => c.runId),
    column((c) => c.source),
    column((c) => c.callSid),
    column((c) => c.accountSid),
    column((c) => c.direction),
    column((c) => c.providerStatus),
    column((c) => c.startedAt),
    column((c) => c.providerEndedAt),
    column((c) => c.endedHereAt),
    column((c) => c.cause),
    column((c) => c.dueAt),
  ]);
}

export async function dueDiagnoses(
  pool: pg.Pool,
  tables: DaemonTables,
  limit: number,
): Promise<DueDiagnosis[]> {
  const { rows } = await pool.query<{
    call_id: string;
    call_sid: string | null;
    account_sid: string | null;
    direction: string | null;
    started_at: Date | null;
    provider_ended_at: Date;
    attempts: number;
  }>(causesSql(tables).due, [limit]);
  return rows.map((r) => ({
    callId: r.call_id,
    callSid: r.call_sid ?? "",
    accountSid: r.account_sid ?? "",
    direction: r.direction,
    startedAt: r.started_at,
    providerEndedAt: r.provider_ended_at,
    attempts: r.attempts,
  }));
}

export async function settleDiagnosis(
  pool: pg.Pool,
  tables: DaemonTables,
  callId: string,
  cause: string,
  detail: unknown,
): Promise<void> {
  await pool.query(causesSql(tables).settle, [callId, cause, JSON.stringify(detail)]);
}

export async function retryDiagnosis(
  pool: pg.Pool,
  tables: DaemonTables,
  callId: string,
  dueAt: Date,
  error: string,
): Promise<void> {
  await pool.query(causesSql(tables).retry, [callId, dueAt, error.slice(0, 500)]);
}

export async function diagnosisBacklog(
  pool: pg.Pool,
  tables: DaemonTables,
): Promise<{ queued: number; due: number }> {
  const { rows } = await pool.query<{ queued: string; due: string }>(causesSql(tables).backlog);
  return { queued: Number(rows[0]?.queued ?? 0), due: Number(rows[0]?.due ?? 0) };
}

type RawCauseRow = {
  call_id: string;
  source: string;
  call_sid: string | null;
  account_sid: string | null;
  direction: string | null;
  provider_status: string | null;
  started_at: Date | null;
  provider_ended_at: Date;
  ended_here_at: Date;
  cause: string | null;
  detail: unknown;
  attempts: number;
  last_error: string | null;
  diagnosed_at: Date | null;
  reverted: boolean;
};

const causeRow = (r: RawCauseRow): CauseRow => ({
  callId: r.call_id,
  source: r.source,
  callSid: r.call_sid,
  accountSid: r.account_sid,
  direction: r.direction,
  providerStatus: r.provider_status,
  startedAt: r.started_at,
  providerEndedAt: r.provider_ended_at,
  endedHereAt: r.ended_here_at,
  cause: r.cause,
  detail: r.detail,
  attempts: r.attempts,
  lastError: r.last_error,
  diagnosedAt: r.diagnosed_at,
  reverted: r.reverted,
});

export async function causesSince(pool: pg.Pool, tables: DaemonTables, since: Date): Promise<CauseRow[]> {
  const { rows } = await pool.query<RawCauseRow>(causesSql(tables).since, [since]);
  return rows.map(causeRow);
}

export async function causeOf(pool: pg.Pool, tables: DaemonTables, callId: string): Promise<CauseRow | null> {
  const { rows } = await pool.query<RawCauseRow>(causesSql(tables).one, [callId]);
  return rows[0] ? causeRow(rows[0]) : null;
}

/** The queue of diagnoses on the causes table. */
export function pgDiagnosisQueue(pool: pg.Pool, tables: DaemonTables): DiagnosisQueue {
  return {
    due: (limit) => dueDiagnoses(pool, tables, limit),
    settle: (callId, cause, detail) => settleDiagnosis(pool, tables, callId, cause, detail),
    retry: (callId, dueAt, error) => retryDiagnosis(pool, tables, callId, dueAt, error),
    backlog: () => diagnosisBacklog(pool, tables),
  };
}

export async function actionsOf(pool: pg.Pool, tables: DaemonTables, callId: string): Promise<CallAction[]> {
  const { rows } = await pool.query<{
    run_id: string;
    previous_status: string;
    new_status: string;
    ended_at: Date | null;
    source: string;
    decided_at: Date | null;
    outcome: string;
    evidence: unknown;
  }>(causesSql(tables).actionsOf, [callId]);
  return rows.map((r) => ({
    runId: r.run_id,
    previousStatus: r.previous_status,
    newStatus: r.new_status,
    endedAt: r.ended_at,
    source: r.source,
    decidedAt: r.decided_at,
    outcome: r.outcome,
    evidence: r.evidence,
  }));
}
