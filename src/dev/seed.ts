import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { withTransaction } from "../db/pool.js";
import { buildSeedStatements } from "./seed-sql.js";

export interface SeedCall {
  id: string;
  twilioSid: string | null;
  openaiId: string | null;
  status: string;
  startedAt: Date;
  endedAt: Date | null;
  /** Only written when the mapping has an account column (CALLS_COL_TWILIO_ACCOUNT). */
  twilioAccount?: string | null;
}

/** Inserts rows into the app's calls table, in one transaction (demo, tests, benchmark). */
export async function seedCalls(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  calls: readonly SeedCall[],
): Promise<void> {
  const { insertCall, insertFields } = buildSeedStatements(mapping);
  await withTransaction(pool, async (client) => {
    for (const c of calls) {
      const values = insertFields.map(
        (fields) => fields.map((f) => c[f] ?? null).find((v) => v !== null) ?? null,
      );
      await client.query(insertCall, values);
    }
  });
}

export interface StoredCall {
  id: string;
  status: string;
  startedAt: Date;
  endedAt: Date | null;
}

export interface StoredAction {
  id: string;
  runId: string;
  callId: string;
  previousStatus: string;
  /** What the calls table was given (after STATUS_MAP). */
  newStatus: string;
  /** What the provider said (before STATUS_MAP). */
  providerStatus: string | null;
  endedAt: Date;
  source: string;
  evidence: unknown;
  decidedAt: Date;
  /** `ended`, or `refused`: the table refused this end (recorded once; `detail` says why). */
  outcome: "ended" | "refused";
  detail: string | null;
}

/** Reads rows back by id (demo and tests check what a pass wrote). */
export async function readCalls(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  ids: readonly string[],
): Promise<StoredCall[]> {
  const { rows } = await pool.query<{ id: string; status: string; started_at: Date; ended_at: Date | null }>(
    buildSeedStatements(mapping).callsByIds,
    [ids],
  );
  return rows.map((r) => ({ id: r.id, status: r.status, startedAt: r.started_at, endedAt: r.ended_at }));
}

export async function readActions(pool: pg.Pool, mapping: CallsTableMapping): Promise<StoredAction[]> {
  const { rows } = await pool.query(buildSeedStatements(mapping).listActions);
  return rows.map((r) => ({
    id: r.id,
    runId: r.run_id,
    callId: r.call_id,
    previousStatus: r.previous_status,
    newStatus: r.new_status,
    providerStatus: r.provider_status,
    endedAt: r.ended_at,
    source: r.source,
    evidence: r.evidence,
    decidedAt: r.decided_at,
    outcome: r.outcome,
    detail: r.detail,
  }));
}
