import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import type { RawTime } from "../time/raw-time.js";
import { activeStartsSql } from "./sql/time-values.js";

/** See PgCallStore.unparseableStarts. */
export async function readUnparseableStarts(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  activeStatuses: readonly string[],
  started: RawTime,
): Promise<{ count: number; example: string | null }> {
  const { rows } = await pool.query<{ v: string | null }>(activeStartsSql(mapping), [activeStatuses]);
  const bad = rows.filter((r) => Number.isNaN(started.parse(r.v).getTime()));
  return { count: bad.length, example: bad.length === 0 ? null : (bad[0]?.v ?? "NULL") };
}

/** The summary's oldest start: a raw column's text parsed (null when it names no time: a gauge shows none). */
export function oldestStart(oldest: Date | string | null, started: RawTime | null): Date | null {
  if (typeof oldest !== "string" || started === null) return oldest instanceof Date ? oldest : null;
  const at = started.parse(oldest);
  return Number.isNaN(at.getTime()) ? null : at;
}
