import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import type { StartShares } from "../model/index.js";
import type { RawTime } from "../time/raw-time.js";
import { buildStartSharesSql } from "./sql.js";

/** The fractions 1/parts … (parts − 1)/parts: the cuts between `parts` equal shares. */
const fractions = (parts: number): number[] => Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);

/**
 * See CallStore.activeStartShares. `zone`: [CALLS_TIME_ZONE] for a naive start column, else []; `started`: a
 * text or epoch start column's conversion (its cuts are read raw and parsed here; one that names no time is
 * left out, which only makes a share bigger).
 */
export async function readStartShares(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  activeStatuses: readonly string[],
  time: { zone: readonly string[]; started: RawTime | null },
  parts: number,
): Promise<Map<string | null, StartShares>> {
  if (!Number.isInteger(parts) || parts < 2) return new Map();
  const { zone, started } = time;
  const sql = buildStartSharesSql(mapping, { startedInZone: zone.length > 0, startedRaw: started !== null });
  const { rows } = await pool.query<{ account: string | null; rows: string; cuts: (Date | string)[] | null }>(
    sql,
    [activeStatuses, fractions(parts), ...zone],
  );
  const cutsOf = (cuts: (Date | string)[]): Date[] =>
    cuts
      .map((c) => (typeof c === "string" ? (started?.parse(c) ?? new Date(Number.NaN)) : c))
      .filter((c) => !Number.isNaN(c.getTime()));
  return new Map(rows.map((r) => [r.account, { rows: Number(r.rows), cuts: cutsOf(r.cuts ?? []) }]));
}
