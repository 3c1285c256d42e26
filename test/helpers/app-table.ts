/**
 * A calls table shaped like a real app's (more columns than the daemon reads, an index on the start column
 * only), and the mapping that matches it. The default mapping does not: it names Twilio and OpenAI columns
 * this table lacks.
 */
import type pg from "pg";

export const APP_TABLE_SQL = `CREATE TABLE calls (call_id text PRIMARY KEY, call_type text NOT NULL,
  caller_number text, callee_number text, openai_call_id text,
  started_at timestamptz NOT NULL, ended_at timestamptz, duration_seconds real,
  status text NOT NULL, recording_path text, transcript_path text,
  has_audio boolean DEFAULT false, has_transcript boolean DEFAULT false, metadata text);
  CREATE INDEX idx_calls_started_at ON calls (started_at)`;

/** The app's call id is Twilio's Call SID. */
export const APP_MAPPING = { CALLS_COL_TWILIO_SID: "call_id" } as const;

/** One row per status: finished ones (an end time) for every status but `active`. */
export async function seedAppRows(pool: pg.Pool, statuses: readonly string[]): Promise<void> {
  let n = 0;
  for (const status of statuses) {
    n++;
    await pool.query(
      `INSERT INTO calls (call_id, call_type, status, started_at, ended_at)
       VALUES ($1, 'inbound', $2, now() - make_interval(hours => $3), CASE WHEN $2 = 'active' THEN NULL ELSE now() END)`,
      [`CA${String(n).padStart(32, "0")}`, status, n],
    );
  }
}

/** The index names of the calls table, for before/after comparisons. */
export async function indexesOfCalls(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'calls' ORDER BY 1",
  );
  return rows.map((r) => r.name);
}
