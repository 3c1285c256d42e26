/** The realtime sightings in the daemon's own table: what probes saw of each call, for the next pass. */
import type { Sighting } from "../model/index.js";
import type { SqliteFile } from "./file.js";
import { sightingsSql } from "./sql/state.js";

/** Sightings not updated for this long are of calls long over: forgotten. */
const KEEP_MS = 7 * 86_400_000;

const dateOrNull = (v: string | null) => (v === null ? null : new Date(v));
const isoOrNull = (d: Date | null) => (d === null ? null : d.toISOString());

export async function readSightings(
  file: SqliteFile,
  realtimeIds: readonly string[],
): Promise<Map<string, Sighting>> {
  if (realtimeIds.length === 0) return new Map();
  const rows = (await file.read((db) =>
    db.prepare(sightingsSql.read).all({ ids: JSON.stringify(realtimeIds) }),
  )) as Array<{ realtime_call_id: string; first_gone_at: string | null; last_live_at: string | null }>;
  return new Map(
    rows.map((r) => [
      r.realtime_call_id,
      { firstGoneAt: dateOrNull(r.first_gone_at), lastLiveAt: dateOrNull(r.last_live_at) },
    ]),
  );
}

export async function saveSightings(
  file: SqliteFile,
  sightings: ReadonlyMap<string, Sighting>,
  now: Date,
): Promise<void> {
  if (sightings.size === 0) return;
  await file.write((db) => {
    const save = db.prepare(sightingsSql.save);
    for (const [id, s] of sightings)
      save.run({ id, gone: isoOrNull(s.firstGoneAt), live: isoOrNull(s.lastLiveAt), now: now.toISOString() });
  });
}

/** The last live sighting of any call; the week-old ones are pruned first, in the same transaction. */
export async function lastLiveSighting(file: SqliteFile, now: Date): Promise<Date | null> {
  const row = await file.write((db) => {
    db.prepare(sightingsSql.prune).run({ before: new Date(now.getTime() - KEEP_MS).toISOString() });
    return db.prepare(sightingsSql.lastLive).get() as { last_live_at: string | null } | undefined;
  });
  return dateOrNull(row?.last_live_at ?? null);
}
