import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { SchemaMismatchError } from "./errors.js";
import { FINISHED_ACTIVE_LIMIT, type PageStatements } from "./sql.js";

/**
 * Refuses an active status that the table's finished rows (those with an end time) carry: such a status is an
 * end status of the app, so every finished row with it would look like a zombie and the age bound would end it
 * again, over its true end. `activeParam`: the listing's $1 (one status, or the list).
 */
export async function refuseFinishedActive(
  pool: pg.Pool,
  sql: Pick<PageStatements, "finishedActive">,
  mapping: CallsTableMapping,
  activeParam: string | readonly string[],
): Promise<void> {
  const { rows } = await pool.query<{ status: string; n: number }>(sql.finishedActive, [activeParam]);
  if (rows.length === 0) return;
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  const names = rows.map((r) => JSON.stringify(r.status));
  const named = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  const count = total >= FINISHED_ACTIVE_LIMIT ? `at least ${FINISHED_ACTIVE_LIMIT}` : String(total);
  throw new SchemaMismatchError(
    `ACTIVE_STATUSES includes ${named}, which ${count} finished rows (with an end time in ${mapping.endedAt}, CALLS_COL_ENDED_AT) carry: remove ${names.length === 1 ? "it" : "them"} from ACTIVE_STATUSES`,
  );
}
