/**
 * The store's realtime sightings (see sql/sightings.ts): read, saved and pruned in the daemon's own table.
 * Functions of the pool that PgCallStore delegates to.
 */
import type pg from "pg";
import type { Sighting } from "../model/index.js";
import type { DaemonTables } from "./sql/tables.js";
import { sightingsSql } from "./sql.js";

export async function readSightings(
  pool: pg.Pool,
  tables: DaemonTables,
  realtimeIds: readonly string[],
): Promise<Map<string, Sighting>> {
  if (realtimeIds.length === 0) return new Map();
  const { rows } = await pool.query<{
    realtime_call_id: string;
    first_gone_at: Date | null;
    last_live_at: Date | null;
  }>(sightingsSql(tables).read, [realtimeIds]);
  return new Map(
    rows.map((r) => [r.realtime_call_id, { firstGoneAt: r.first_gone_at, lastLiveAt: r.last_live_at }]),
  );
}

export async function saveSightings(
  pool: pg.Pool,
  tables: DaemonTables,
  sightings: ReadonlyMap<string, Sighting>,
): Promise<void> {
  if (sightings.size === 0) return;
  const entries = [...sightings];
  await pool.query(sightingsSql(tables).save, [
    entries.map(([id]) => id),
    entries.map(([, s]) => s.firstGoneAt),
    entries.map(([, s]) => s.lastLiveAt),
  ]);
}

export async function lastLiveSighting(pool: pg.Pool, tables: DaemonTables): Promise<Date | null> {
  const sql = sightingsSql(tables);
  await pool.query(sql.prune);
  const { rows } = await pool.query<{ last_live_at: Date | null }>(sql.lastLive);
  return rows[0]?.last_live_at ?? null;
}
