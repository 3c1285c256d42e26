/**
 * Realtime sightings: per realtime call id, when the current streak of "gone" answers began (NULL: the last
 * answer was live or an error) and when a probe last saw it live. In the daemon's own table, so that a new
 * leader or a restarted daemon continues from them instead of reusing, or starting over, a memory.
 */
import type { DaemonTables } from "./tables.js";

export const sightingsSql = (t: DaemonTables) => ({
  read: `SELECT realtime_call_id, first_gone_at, last_live_at FROM ${t.sightings}
    WHERE realtime_call_id = ANY($1::text[])`,
  save: `INSERT INTO ${t.sightings} (realtime_call_id, first_gone_at, last_live_at, updated_at)
    SELECT id, gone, live, statement_timestamp()
      FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS s(id, gone, live)
    ON CONFLICT (realtime_call_id) DO UPDATE SET
      first_gone_at = EXCLUDED.first_gone_at,
      last_live_at = EXCLUDED.last_live_at,
      updated_at = EXCLUDED.updated_at`,
  /** The positive control: the last time any probe under this key saw a live session. */
  lastLive: `SELECT max(last_live_at) AS last_live_at FROM ${t.sightings}`,
  /** Calls not probed for a week are long over: forgotten, so the table does not grow with history. */
  prune: `DELETE FROM ${t.sightings} WHERE updated_at < statement_timestamp() - interval '7 days'`,
});
