/**
 * The calls table of a typical small voice-AI app, exactly as its Python code creates it: text ISO times
 * (`datetime.utcnow().isoformat()`: naive UTC), one id column for both providers (Twilio's Call SID for
 * outbound calls, OpenAI's realtime call id for inbound ones), a duration column and its own status words.
 * The demo's second scenario and the tests reconcile it as it is, without changing it.
 */
import type pg from "pg";
import { withTransaction } from "../db/pool.js";
import { formatIso } from "../time/iso-text.js";

/** The app's own DDL, its own index included (which does not serve the daemon's listing). */
export const APP_CALLS_TABLE_SQL = `CREATE TABLE calls (
  call_id TEXT PRIMARY KEY,
  call_type TEXT NOT NULL,
  caller_number TEXT, callee_number TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  duration_seconds REAL,
  status TEXT NOT NULL,
  recording_path TEXT, transcript_path TEXT, has_audio BOOLEAN DEFAULT FALSE, has_transcript BOOLEAN DEFAULT FALSE,
  metadata TEXT);
CREATE INDEX idx_calls_started_at ON calls(started_at)`;

/** How the app's table is mapped, as it is: the settings an operator exports. */
export const APP_TABLE_SETTINGS: Readonly<Record<string, string>> = {
  CALLS_TABLE: "calls",
  CALLS_COL_ID: "call_id",
  CALLS_COL_TWILIO_SID: "call_id",
  CALLS_COL_OPENAI_ID: "call_id",
  CALLS_COL_STATUS: "status",
  CALLS_COL_STARTED_AT: "started_at",
  CALLS_COL_ENDED_AT: "ended_at",
  CALLS_COL_DURATION: "duration_seconds",
  CALLS_TIME_ZONE: "UTC",
  // The app says `cancelled`, and has no busy or no-answer status: a call that never connected failed.
  STATUS_MAP: "canceled:cancelled,busy:failed,no-answer:failed",
};

/** The index that serves the daemon's listing on this table (what `doctor` advises). */
export const APP_LISTING_INDEX_SQL =
  "CREATE INDEX calls_active_idx ON calls (started_at, call_id) WHERE status = 'active'";

/**
 * `datetime.isoformat()` of a naive UTC datetime: `YYYY-MM-DDTHH:MM:SS.ffffff`, the fraction left out when
 * the microseconds are 0 (a JavaScript Date has milliseconds: the last three digits are 0). Written by the
 * daemon's own formatter of text times, in the shape Python uses for that instant.
 */
export function pythonIsoformat(d: Date): string {
  const fraction = d.getUTCMilliseconds() === 0 ? 0 : 6;
  return formatIso(d, { separator: "T", fraction, seconds: true, offset: { kind: "none" } }, "UTC");
}

export interface AppCall {
  callId: string;
  callType: "inbound" | "outbound";
  status: string;
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number | null;
}

/**
 * A row's values as the app writes them (text times in its own format), in the order of the INSERT both seeds
 * use: call_id, call_type, started_at, ended_at, duration_seconds, status (the two numbers are fixed).
 */
export function appRowValues(c: AppCall): [string, string, string, string | null, number | null, string] {
  return [
    c.callId,
    c.callType,
    pythonIsoformat(c.startedAt),
    c.endedAt === null ? null : pythonIsoformat(c.endedAt),
    c.durationSeconds,
    c.status,
  ];
}

/** Inserts rows as the app writes them (text times in its own format), in one transaction. */
export async function seedAppCalls(pool: pg.Pool, calls: readonly AppCall[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    for (const c of calls) {
      await client.query(
        `INSERT INTO calls (call_id, call_type, caller_number, callee_number, started_at, ended_at,
           duration_seconds, status)
         VALUES ($1, $2, '+15005550006', '+15005550001', $3, $4, $5, $6)`,
        appRowValues(c),
      );
    }
  });
}

export interface StoredAppCall {
  callId: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number | null;
}

/** The rows as the app would read them back: its own text, untouched by any conversion. */
export async function readAppCalls(pool: pg.Pool, ids: readonly string[]): Promise<StoredAppCall[]> {
  const { rows } = await pool.query<{
    call_id: string;
    status: string;
    started_at: string;
    ended_at: string | null;
    duration_seconds: number | null;
  }>(
    "SELECT call_id, status, started_at, ended_at, duration_seconds FROM calls WHERE call_id = ANY($1) ORDER BY call_id",
    [ids],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationSeconds: r.duration_seconds,
  }));
}
