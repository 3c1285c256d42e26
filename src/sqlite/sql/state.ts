/**
 * The daemon's own state in the file (see own-tables.ts): sightings, holds, the diagnoses queue, the lease and
 * the binding. Times are ISO UTC text (`toISOString()`), compared as text; the lease expiry is epoch ms.
 */
import { OWN_TABLES as t } from "../own-tables.js";

export const sightingsSql = {
  /** :ids a JSON array of realtime call ids. */
  read: `SELECT realtime_call_id, first_gone_at, last_live_at FROM ${t.sightings}
    WHERE realtime_call_id IN (SELECT value FROM json_each(:ids))`,
  save: `INSERT INTO ${t.sightings} (realtime_call_id, first_gone_at, last_live_at, updated_at)
    VALUES (:id, :gone, :live, :now)
    ON CONFLICT (realtime_call_id) DO UPDATE SET first_gone_at = excluded.first_gone_at,
      last_live_at = excluded.last_live_at, updated_at = excluded.updated_at`,
  /** Calls not probed since :before (a week) are long over: forgotten, so the table does not grow with history. */
  prune: `DELETE FROM ${t.sightings} WHERE updated_at < :before`,
  /** The positive control: the last time any probe saw a live session. */
  lastLive: `SELECT max(last_live_at) AS last_live_at FROM ${t.sightings}`,
} as const;

/** Which of :ids (a JSON array, as the listing gives them) are held now. */
export const HELD_AMONG_SQL = `SELECT call_id FROM ${t.holds}
  WHERE call_id IN (SELECT value FROM json_each(:ids)) AND released_at IS NULL`;

export const diagnosesSql = {
  /** Due at :now, oldest first, at most :limit. */
  due: `SELECT call_id, call_sid, account_sid, direction, started_at, provider_ended_at, attempts
    FROM ${t.causes} WHERE cause IS NULL AND due_at <= :now ORDER BY due_at, call_id LIMIT :limit`,
  /** Only while still undiagnosed, so a settled cause is never overwritten. */
  settle: `UPDATE ${t.causes} SET cause = :cause, detail = :detail, due_at = NULL, diagnosed_at = :now,
      attempts = attempts + 1
    WHERE call_id = :callId AND cause IS NULL`,
  retry: `UPDATE ${t.causes} SET due_at = :dueAt, attempts = attempts + 1, last_error = :error
    WHERE call_id = :callId AND cause IS NULL`,
  backlog: `SELECT count(*) AS queued, coalesce(sum(due_at <= :now), 0) AS due
    FROM ${t.causes} WHERE cause IS NULL`,
} as const;

export const leaseSql = {
  read: `SELECT holder, expires_at FROM ${t.leases} WHERE name = :name`,
  insert: `INSERT INTO ${t.leases} (name, holder, expires_at, acquired_at)
    VALUES (:name, :holder, :expiresAt, :now)`,
  /** Renews the lease for its holder, or hands it to :holder (a takeover: a new acquired_at). */
  renew: `UPDATE ${t.leases} SET holder = :holder, expires_at = :expiresAt,
      acquired_at = CASE WHEN holder = :holder THEN acquired_at ELSE :now END
    WHERE name = :name`,
  /** Hands the lease back: expired now, so another replica takes it at once. */
  release: `UPDATE ${t.leases} SET expires_at = :expiresAt WHERE name = :name AND holder = :holder`,
  /** The holder, unless the lease expired before :nowMs. */
  current: `SELECT holder, expires_at FROM ${t.leases} WHERE name = :name AND expires_at >= :nowMs`,
} as const;

export const bindingSql = {
  read: `SELECT calls_table, bound_at FROM ${t.binding}`,
  /** Binds the state to :table unless it is bound already. */
  bind: `INSERT INTO ${t.binding} (singleton, calls_table, bound_at) VALUES (1, :table, :now)
    ON CONFLICT (singleton) DO NOTHING`,
  /** The statement an operator runs after renaming the table: its value is a literal. */
  rebind: (table: string) => `UPDATE ${t.binding} SET calls_table = '${table.replaceAll("'", "''")}'`,
} as const;
