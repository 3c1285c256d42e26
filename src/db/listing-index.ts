/**
 * Whether an index serves the listing of active calls, and the statement that creates one. On a table of
 * millions of ended calls, a listing without one reads the whole table, on the app's own database.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import type { ListingIndex } from "../model/index.js";
import type { RawTime } from "../time/raw-time.js";
import { withTransaction } from "./pool.js";
import {
  buildPageStatements,
  createListingIndexSql,
  type ListingIndexParts,
  PREFER_INDEXES_SQL,
  QUOTE_FOR_DDL_SQL,
  RESET_PREFER_INDEXES_SQL,
  TABLE_INDEXES_SQL,
} from "./sql.js";

export interface ListingTable {
  mapping: CallsTableMapping;
  activeStatuses: readonly string[];
  /** [CALLS_TIME_ZONE] for a `timestamp without time zone` start column, else [] (see readTimeColumns). */
  startedZone?: readonly string[];
  /** A text or epoch start column's conversion: the listing compares its cutoff in the column's format. */
  started?: RawTime | null;
}

interface IndexRow {
  name: string;
  partial: boolean;
  valid: boolean;
  leading: string | null;
}

/**
 * Asks the planner which index the first page of the listing would use if it could avoid a table scan, and
 * counts that index only if it reads active rows alone: a partial index (its predicate is implied by the
 * listing's status condition, or the planner could not have used it) or one led by the status column (the
 * `(status, started_at, id)` index older releases created). `client` must be inside a transaction.
 */
export async function inspectListingIndex(
  client: pg.ClientBase,
  t: ListingTable,
): Promise<ListingIndex & { parts: ListingIndexParts }> {
  const { mapping: m, activeStatuses } = t;
  const zone = t.startedZone ?? [];
  const raw = t.started ?? null;
  const one = activeStatuses.length === 1;
  // The plan of the calls table's own read: the holds probe is the daemon's table, and may not exist yet.
  const sql = buildPageStatements(m, {
    oneActiveStatus: one,
    startedInZone: zone.length > 0,
    startedRaw: raw !== null,
    withoutHolds: true,
  });
  const params = [
    one ? activeStatuses[0] : activeStatuses,
    raw?.format(new Date()) ?? new Date(),
    500,
    ...zone,
  ];
  const { rows: indexes } = await client.query<IndexRow>(TABLE_INDEXES_SQL, [
    quoteQualifiedIdentifier(m.table),
  ]);
  await client.query(PREFER_INDEXES_SQL);
  const { rows: plan } = await client.query<{ "QUERY PLAN": unknown }>(
    `EXPLAIN (FORMAT JSON) ${sql.firstActivePage}`,
    params,
  );
  await client.query(RESET_PREFER_INDEXES_SQL);
  const used = new Set<string>();
  collectIndexNames(plan[0]?.["QUERY PLAN"], used);
  const serving = indexes.find((i) => used.has(i.name) && i.valid && (i.partial || i.leading === m.status));
  // The name of the index that serves the listing is not taken: the statement is then the one it answers to.
  const others = indexes.filter((i) => i !== serving);
  const parts = await quotedParts(client, t, freeName(m.table, others));
  return {
    usable: serving !== undefined,
    index: serving?.name ?? null,
    statement: createListingIndexSql(parts, { concurrently: true }),
    parts,
  };
}

/** inspectListingIndex in a transaction of its own (SET LOCAL must not outlive it). */
export function readListingIndex(pool: pg.Pool, t: ListingTable): Promise<ListingIndex> {
  return withTransaction(pool, async (client) => {
    const { parts: _, ...found } = await inspectListingIndex(client, t);
    return found;
  });
}

/**
 * `migrate --with-calls-table`, on the calls table it has just created: creates the partial index unless an
 * index already serves the listing. Not CONCURRENTLY: it runs in the migration's transaction, on a new, empty
 * table (an existing table is never indexed by migrate). Returns the name created, or null.
 */
export async function ensureListingIndex(client: pg.ClientBase, t: ListingTable): Promise<string | null> {
  const found = await inspectListingIndex(client, t);
  if (found.usable) return null;
  await client.query(createListingIndexSql(found.parts, { concurrently: false }));
  return found.parts.index;
}

/** `<table>_active_idx`, or with a number when an index of this table already has that name. */
function freeName(table: string, indexes: readonly IndexRow[]): string {
  const bare = (table.split(".").pop() ?? table).slice(0, 48);
  const taken = new Set(indexes.map((i) => i.name));
  let n = 0;
  while (taken.has(`${bare}_active_idx${n === 0 ? "" : n}`)) n++;
  return `${bare}_active_idx${n === 0 ? "" : n}`;
}

async function quotedParts(
  client: pg.ClientBase,
  t: ListingTable,
  index: string,
): Promise<ListingIndexParts> {
  const m = t.mapping;
  const tableParts = m.table.split(".");
  const { rows } = await client.query<{ idents: string[]; literals: string[] }>(QUOTE_FOR_DDL_SQL, [
    [index, m.startedAt, m.id, m.status, ...tableParts],
    t.activeStatuses,
  ]);
  const [idx, started, id, status, ...table] = rows[0]?.idents ?? [];
  return {
    index: idx as string,
    table: table.join("."),
    started: started as string,
    id: id as string,
    status: status as string,
    activeLiterals: rows[0]?.literals ?? [],
  };
}

function collectIndexNames(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectIndexNames(n, into);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const n = node as Record<string, unknown>;
  if (typeof n["Index Name"] === "string") into.add(n["Index Name"]);
  collectIndexNames(n.Plan, into);
  collectIndexNames(n.Plans, into);
}
