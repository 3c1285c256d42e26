/**
 * The audit table's refused ends (see RECORD_REFUSAL_SQL): recorded once per call and mapped status, and asked
 * before ending again. Functions of the pool that PgCallStore delegates to.
 */
import type pg from "pg";
import { mapStatus } from "../config/config.js";
import type { EndRequest } from "../model/index.js";
import type { DaemonTables } from "./sql/tables.js";
import { refusalSql } from "./sql.js";

/** True when recorded now; false when the same refusal was recorded before. */
export async function recordRefusal(
  pool: pg.Pool,
  tables: DaemonTables,
  statusMap: Readonly<Record<string, string>>,
  forced: boolean,
  req: EndRequest,
  detail: string,
): Promise<boolean> {
  const { rows } = await pool.query(refusalSql(tables).recordRefusal, [
    req.runId,
    req.call.id,
    req.call.status,
    mapStatus(statusMap, req.newStatus),
    req.newStatus,
    req.endedAt,
    req.source,
    JSON.stringify(req.evidence ?? null),
    req.decidedAt,
    detail,
    forced,
  ]);
  return rows.length === 1;
}

/** The ids of the requests whose (mapped) status was refused for that call before. */
export async function refusedBefore(
  pool: pg.Pool,
  tables: DaemonTables,
  statusMap: Readonly<Record<string, string>>,
  reqs: readonly EndRequest[],
): Promise<Set<string>> {
  if (reqs.length === 0) return new Set();
  const { rows } = await pool.query<{ call_id: string }>(refusalSql(tables).refusedBefore, [
    reqs.map((r) => r.call.id),
    reqs.map((r) => mapStatus(statusMap, r.newStatus)),
  ]);
  return new Set(rows.map((r) => r.call_id));
}
