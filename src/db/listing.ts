/**
 * PgCallStore's listing of active calls, in keyset pages. With an index that serves it (see listing-index.ts)
 * each page is one short index read. Without one, every listing statement reads the whole table, history
 * included: a page at a time, a pass of P pages would read the table P times. So without an index one
 * statement reads a whole window of rows (one table scan, the active rows sorted by the server) and the pages
 * are handed out of it; the next window, if any, starts after its last row.
 */
import type pg from "pg";
import {
  type ActivePage,
  type ListedCallRow,
  type ListingIndex,
  listedCall,
  type PageCursor,
} from "../model/index.js";
import type { RawTime } from "../time/raw-time.js";
import type { PageStatements } from "./sql.js";

/**
 * Rows one scan reads when no index serves the listing: every active row of a typical table in one scan, and
 * what the daemon holds at most (about 550 bytes a row on the heap: some 25 MB). The statement is one implicit
 * transaction lasting the scan (0.7 s on 10 million rows of history, cached, in the benchmark), never the pass:
 * no snapshot is held while providers are asked, and no session sits idle in a transaction.
 */
export const SCAN_WINDOW_ROWS = 50_000;

export interface ListingDeps {
  pool: pg.Pool;
  /**
   * The listing statements, their extra time-zone parameter, and a text or epoch start column's conversion
   * (null for a timestamp), see readTimeColumns.
   */
  statements(): Promise<{ sql: PageStatements; startedZone: readonly string[]; started?: RawTime | null }>;
  /** The listing's $1: the one active status, or the list of them. */
  activeParam: string | readonly string[];
  /** Asked at the start of every listing, so an index created (or dropped) meanwhile counts from the next pass. */
  checkIndex(): Promise<ListingIndex>;
  /** Default SCAN_WINDOW_ROWS. */
  windowRows?: number;
}

/** A row as every listing statement reads it (see PageStatements). */
export interface ListedRow extends ListedCallRow {
  /** The column's text for a text or epoch start column (see PageStatements). */
  started_at: Date | string | null;
  cursor_started_at: string;
  held: boolean;
}

/** Rows read by one scan, handed out a page at a time; `position` is where the next page must start. */
interface ScanWindow {
  cutoffMs: number;
  rows: ListedRow[];
  at: number;
  position: string;
  /** The scan read every remaining row: nothing comes after this window. */
  complete: boolean;
}

export class ActiveListing {
  private scanning = false;
  private window: ScanWindow | null = null;
  /** The start column's conversion the rows at hand were read with (see ListingDeps.statements). */
  private started: RawTime | null = null;

  constructor(private readonly deps: ListingDeps) {}

  async page(cursor: PageCursor | null, startedAtOrBefore: Date, limit: number): Promise<ActivePage> {
    if (cursor === null) {
      this.scanning = !(await this.deps.checkIndex()).usable;
      this.window = null;
    }
    if (!this.scanning) {
      const rows = await this.read(cursor, startedAtOrBefore, limit);
      const last = rows[rows.length - 1];
      return this.pageOf(rows, last !== undefined && rows.length === limit ? cursorOf(last) : null);
    }
    const cutoffMs = startedAtOrBefore.getTime();
    let w = this.window;
    // Any other cursor than the one this window handed out last (or a window used up) reads afresh from it.
    if (w === null || w.cutoffMs !== cutoffMs || w.position !== keyOf(cursor) || w.at >= w.rows.length) {
      const size = Math.max(this.deps.windowRows ?? SCAN_WINDOW_ROWS, limit);
      const rows = await this.read(cursor, startedAtOrBefore, size);
      w = { cutoffMs, rows, at: 0, position: keyOf(cursor), complete: rows.length < size };
      this.window = w;
    }
    const taken = w.rows.slice(w.at, w.at + limit);
    w.at += taken.length;
    const last = taken[taken.length - 1];
    if (last === undefined || (w.complete && w.at >= w.rows.length)) {
      // Known to be the last page: no further statement (without an index, another whole scan) is needed.
      this.window = null;
      return this.pageOf(taken, null);
    }
    const next = cursorOf(last);
    w.position = keyOf(next);
    return this.pageOf(taken, next);
  }

  private async read(cursor: PageCursor | null, cutoff: Date, limit: number): Promise<ListedRow[]> {
    const { sql, startedZone, started = null } = await this.deps.statements();
    this.started = started;
    const { pool, activeParam } = this.deps;
    // A raw column is compared with the cutoff in its own format, so its index serves the comparison.
    const bound = started === null ? cutoff : started.format(cutoff);
    const result =
      cursor === null
        ? await pool.query<ListedRow>(sql.firstActivePage, [activeParam, bound, limit, ...startedZone])
        : await pool.query<ListedRow>(sql.nextActivePage, [
            activeParam,
            bound,
            limit,
            cursor.startedAt,
            cursor.id,
            ...startedZone,
          ]);
    return result.rows;
  }

  private pageOf(rows: readonly ListedRow[], next: PageCursor | null): ActivePage {
    return activePageOf(rows, this.started, next);
  }
}

/**
 * Rows of a listing statement (see PageStatements) as the port gives them: a text or epoch start parsed with
 * `started`, the column's conversion (null for a timestamp column, read by pg).
 */
export function activePageOf(
  rows: readonly ListedRow[],
  started: RawTime | null,
  next: PageCursor | null,
): ActivePage {
  const startOf = (r: ListedRow): Date =>
    started !== null
      ? started.parse(typeof r.started_at === "string" ? r.started_at : null)
      : // pg hands ±infinity back as a number: an Invalid Date, which decide() leaves unverified (invalid_time).
        r.started_at instanceof Date
        ? r.started_at
        : new Date(Number.NaN);
  return {
    rows: rows.map((r) => listedCall(r, startOf(r))),
    next,
    held: new Set(rows.filter((r) => r.held).map((r) => r.id)),
  };
}

function keyOf(cursor: PageCursor | null): string {
  return cursor === null ? "" : `${cursor.startedAt}\u0000${cursor.id}`;
}

function cursorOf(r: ListedRow): PageCursor {
  return { startedAt: r.cursor_started_at, id: r.id };
}
