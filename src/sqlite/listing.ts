/**
 * The listing of active calls in keyset pages, on the raw start column: the cutoff is written in the column's
 * own format and the cursor is the last row's own value, so an index on (start, id) serves each page; the
 * daemon parses the start itself (a row whose start names no time is listed with an Invalid Date, never ended).
 */
import {
  type ActivePage,
  type ListedCallRow,
  listedCall,
  type PageCursor,
  routeSharedId,
} from "../model/index.js";
import type { CallsTableShape } from "./calls-table.js";
import type { Connection } from "./file.js";
import type { CallsStatements } from "./sql/calls.js";

export interface ListingContext {
  shape: CallsTableShape;
  sql: CallsStatements;
  /** The active statuses' named parameters (see activeParams). */
  active: Record<string, string>;
  /** One column holds both providers' ids: each row goes to the provider its id's shape names. */
  sharedId: boolean;
}

interface ListedRow extends ListedCallRow {
  started_at: string | number | bigint | null;
  held: number;
}

export function readActivePage(
  db: Connection,
  ctx: ListingContext,
  cursor: PageCursor | null,
  cutoff: Date,
  limit: number,
): ActivePage {
  const params = { ...ctx.active, cutoff: ctx.shape.started.format(cutoff), limit };
  const rows = (cursor === null
    ? db.prepare(ctx.sql.firstPage).all(params)
    : db
        .prepare(ctx.sql.nextPage)
        .all({ ...params, afterStarted: cursor.startedAt, afterId: cursor.id })) as unknown as ListedRow[];
  const last = rows[rows.length - 1];
  return activePageOf(
    ctx,
    rows,
    last !== undefined && rows.length === limit
      ? { startedAt: rawText(last.started_at) ?? "", id: last.id }
      : null,
  );
}

/**
 * The active rows of the named Call SIDs (CallStore.activeByCallSids), `sids` distinct and bounded by the
 * caller, as a listing's page gives them.
 */
export function readActiveByCallSids(
  db: Connection,
  ctx: ListingContext,
  sids: readonly string[],
): ActivePage {
  if (ctx.sql.activeByCallSids === null || sids.length === 0)
    return { rows: [], next: null, held: new Set() };
  const rows = db
    .prepare(ctx.sql.activeByCallSids)
    .all({ ...ctx.active, sids: JSON.stringify(sids) }) as unknown as ListedRow[];
  return activePageOf(ctx, rows, null);
}

function activePageOf(ctx: ListingContext, rows: readonly ListedRow[], next: PageCursor | null): ActivePage {
  const calls = rows.map((r) => {
    const call = listedCall(r, ctx.shape.started.parse(rawText(r.started_at)));
    return ctx.sharedId ? routeSharedId(call) : call;
  });
  return {
    rows: calls,
    next,
    held: new Set(rows.filter((r) => Number(r.held) === 1).map((r) => r.id)),
  };
}

/** A raw time value as text: an epoch number's digits, exactly as the column holds them. */
export function rawText(v: string | number | bigint | null | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
