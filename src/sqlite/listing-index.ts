/**
 * Whether an index serves the listing of active calls, as SQLite's planner plans the first page: usable only
 * when that index reads active rows alone (partial, or led by the status column). On a file of years of calls,
 * a listing without one reads the history (the app's own `started_at` index, or the whole table).
 */
import type { CallsTableMapping } from "../config/config-types.js";
import type { ListingIndex } from "../model/index.js";
import type { Connection } from "./file.js";
import type { ListingContext } from "./listing.js";
import {
  createListingIndexSql,
  INDEX_LEADING_SQL,
  INDEX_LIST_SQL,
  INDEX_NAMES_SQL,
} from "./sql/listing-index.js";

const USED_INDEX = /USING (?:COVERING )?INDEX (\S+)/;

export function inspectListingIndex(
  db: Connection,
  m: CallsTableMapping,
  activeStatuses: readonly string[],
  ctx: ListingContext,
): ListingIndex {
  const table = ctx.shape.name;
  // Read the index list first: that statement checks the schema is current (another connection may have created
  // the index since this one last read it). EXPLAIN alone plans on the cached schema and would miss the index.
  const indexes = db.prepare(INDEX_LIST_SQL).all({ table }) as Array<{ name: string; partial: number }>;
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN ${ctx.sql.firstPagePlan}`)
    .all({ ...ctx.active, cutoff: ctx.shape.started.format(new Date()), limit: 500 }) as Array<{
    detail: string;
  }>;
  const used = new Set(plan.flatMap((p) => USED_INDEX.exec(p.detail)?.[1] ?? []));
  const serving = indexes.find(
    (i) =>
      used.has(i.name) && (Number(i.partial) === 1 || leadingColumn(db, i.name) === m.status.toLowerCase()),
  );
  const taken = new Set(
    (db.prepare(INDEX_NAMES_SQL).all() as Array<{ name: string }>)
      .map((r) => r.name.toLowerCase())
      .filter((n) => n !== serving?.name.toLowerCase()),
  );
  return {
    usable: serving !== undefined,
    index: serving?.name ?? null,
    statement: listingIndexStatement(m, table, activeStatuses, taken),
  };
}

/**
 * The statement creating the partial index the listing needs, under a name no other index of the file has
 * (`taken`, lower case): what doctor advises, and what `migrate --with-calls-table` runs on a new table.
 */
export function listingIndexStatement(
  m: CallsTableMapping,
  table: string,
  activeStatuses: readonly string[],
  taken: ReadonlySet<string>,
): string {
  return createListingIndexSql({
    index: freeName(`call_reconciler_${table}_active_idx`, taken),
    table,
    started: m.startedAt,
    id: m.id,
    status: m.status,
    activeStatuses,
  });
}

function leadingColumn(db: Connection, index: string): string | null {
  const row = db.prepare(INDEX_LEADING_SQL).get({ index }) as { name: string | null } | undefined;
  return row?.name?.toLowerCase() ?? null;
}

/** `name`, or with a number when another index of the file already has it (SQLite names ignore case). */
function freeName(name: string, taken: ReadonlySet<string>): string {
  let n = 0;
  while (taken.has(`${name}${n === 0 ? "" : n}`.toLowerCase())) n++;
  return `${name}${n === 0 ? "" : n}`;
}
