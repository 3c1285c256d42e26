import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import type { StartShares } from "../model/index.js";
import { buildStartSharesSql } from "./sql.js";

/** The fractions 1/parts … (parts − 1)/parts: the cuts between `parts` equal shares. */
const fractions = (parts: number): number[] => Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);

/** See CallStore.activeStartShares. `startedZone`: [CALLS_TIME_ZONE] for a naive start column, else []. */
export async function readStartShares(
  pool: pg.Pool,
  mapping: CallsTableMapping,
  activeStatuses: readonly string[],
  startedZone: readonly string[],
  parts: number,
): Promise<Map<string | null, StartShares>> {
  if (!Number.isInteger(parts) || parts < 2) return new Map();
  const sql = buildStartSharesSql(mapping, { startedInZone: startedZone.length > 0 });
  const { rows } = await pool.query<{ account: string | null; rows: string; cuts: Date[] | null }>(sql, [
    activeStatuses,
    fractions(parts),
    ...startedZone,
  ]);
  return new Map(rows.map((r) => [r.account, { rows: Number(r.rows), cuts: r.cuts ?? [] }]));
}
