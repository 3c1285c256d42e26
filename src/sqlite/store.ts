/**
 * The calls store on the app's SQLite file: what a pass and the commands read and write. Every read and write is
 * one synchronous step on the file's one connection (never a lock held across an await); an end batch is one
 * write transaction. The clock is this host's: the file is on this host, and so is every replica of the daemon.
 */
import type { CallsTableMapping } from "../config/config-types.js";
import { idColumnShared } from "../config/quoted-mapping.js";
import {
  type ActivePage,
  type ActiveSummary,
  type CallStoreOptions,
  type CommandStore,
  callSidBatch,
  callSidPage,
  type EndBatchResult,
  type EndRequest,
  type ListingIndex,
  type PageCursor,
  type Sighting,
  type StartShares,
} from "../model/index.js";
import { type CallsTableShape, readCallsTable } from "./calls-table.js";
import { endError, endInTransaction, recordRefusalIn, refusedBeforeIn } from "./ends.js";
import type { Connection, SqliteFile } from "./file.js";
import { type ListingContext, rawText, readActiveByCallSids, readActivePage } from "./listing.js";
import { inspectListingIndex } from "./listing-index.js";
import { lastLiveSighting, readSightings, saveSightings } from "./sightings.js";
import { activeParams, callsStatements } from "./sql/calls.js";
import { HELD_AMONG_SQL } from "./sql/state.js";
import { startShares } from "./start-shares.js";

export interface SqliteStoreOptions extends CallStoreOptions {
  /** The host's clock; injectable for tests. */
  clock?: () => Date;
}

export class SqliteCallStore implements CommandStore {
  /** The table's shape, read once; a text column read while it had no rows is read again on next use. */
  private context: ListingContext | null = null;
  private readonly clock: () => Date;

  constructor(
    private readonly file: SqliteFile,
    private readonly mapping: CallsTableMapping,
    private readonly activeStatuses: readonly string[],
    private readonly opts: SqliteStoreOptions = {},
  ) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /** The calls table's shape (throws SchemaMismatchError, one line, when it does not match the mapping). */
  async shape(): Promise<CallsTableShape> {
    return this.file.read((db) => this.contextOf(db).shape);
  }

  private contextOf(db: Connection): ListingContext {
    if (this.context !== null && !this.context.shape.provisional) return this.context;
    const shape = readCallsTable(db, this.mapping);
    this.context = {
      shape,
      sql: callsStatements(this.mapping, shape.quoted, this.activeStatuses.length, {
        withoutHolds: this.opts.withoutHolds === true,
      }),
      active: activeParams(this.activeStatuses),
      sharedId: idColumnShared(this.mapping),
    };
    return this.context;
  }

  asForced(): SqliteCallStore {
    return new SqliteCallStore(this.file, this.mapping, this.activeStatuses, { ...this.opts, forced: true });
  }

  async listActivePage(
    cursor: PageCursor | null,
    startedAtOrBefore: Date,
    limit: number,
  ): Promise<ActivePage> {
    // Each listing's first page asks again, as on PostgreSQL: an index created or dropped while the daemon
    // runs is seen by the next pass's gauge (and alert), not only at start-up.
    if (cursor === null) await this.listingIndex();
    return this.file.read((db) => readActivePage(db, this.contextOf(db), cursor, startedAtOrBefore, limit));
  }

  async activeByCallSids(callSids: readonly string[]): Promise<ActivePage> {
    const asked = callSidBatch(callSids);
    return callSidPage(
      await this.file.read((db) => readActiveByCallSids(db, this.contextOf(db), asked)),
      asked,
    );
  }

  async endCall(req: EndRequest): Promise<"ended" | "not_active" | "locked"> {
    const { ended } = await this.endCalls([req]);
    return ended.size === 1 ? "ended" : "not_active";
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<EndBatchResult> {
    if (reqs.length === 0) return { ended: new Set(), locked: new Set() };
    try {
      const ended = await this.file.write((db) =>
        endInTransaction(db, this.contextOf(db), reqs, this.endOptions()),
      );
      return { ended, locked: new Set() };
    } catch (err) {
      throw endError(err);
    }
  }

  private endOptions() {
    return {
      statusMap: this.opts.statusMap ?? {},
      forced: this.opts.forced === true,
      twilioAccount: this.opts.twilioAccount ?? null,
      now: this.clock(),
    };
  }

  recordRefusal(req: EndRequest, detail: string): Promise<boolean> {
    return this.file.write((db) => recordRefusalIn(db, req, detail, this.endOptions()));
  }

  refusedBefore(reqs: readonly EndRequest[]): Promise<Set<string>> {
    return this.file.read((db) => refusedBeforeIn(db, this.opts.statusMap ?? {}, reqs));
  }

  activeSummary(): Promise<ActiveSummary> {
    return this.file.read((db) => {
      const ctx = this.contextOf(db);
      const row = db.prepare(ctx.sql.summary).get(ctx.active) as
        | { active: number; oldest: string | number | null }
        | undefined;
      const oldest = rawText(row?.oldest);
      const at = oldest === null ? null : ctx.shape.started.parse(oldest);
      return {
        active: Number(row?.active ?? 0),
        oldestStartedAt: at === null || Number.isNaN(at.getTime()) ? null : at,
      };
    });
  }

  activeStartShares(parts: number): Promise<Map<string | null, StartShares>> {
    return this.file.read((db) => startShares(db, this.contextOf(db), parts));
  }

  /** How many rows got an end time since `since` (by anyone): for the share of ends that were lost. */
  endedSince(since: Date): Promise<number> {
    return this.file.read((db) => {
      const ctx = this.contextOf(db);
      const row = db.prepare(ctx.sql.endedSince).get({ since: ctx.shape.ended.format(since) }) as
        | { n: number }
        | undefined;
      return Number(row?.n ?? 0);
    });
  }

  async heldAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = (await this.file.read((db) =>
      db.prepare(HELD_AMONG_SQL).all({ ids: JSON.stringify(ids) }),
    )) as Array<{ call_id: string }>;
    return new Set(rows.map((r) => r.call_id));
  }

  async now(): Promise<Date> {
    return this.clock();
  }

  sightings(realtimeIds: readonly string[]): Promise<Map<string, Sighting>> {
    return readSightings(this.file, realtimeIds);
  }

  saveSightings(sightings: ReadonlyMap<string, Sighting>): Promise<void> {
    return saveSightings(this.file, sightings, this.clock());
  }

  lastLiveSighting(): Promise<Date | null> {
    return lastLiveSighting(this.file, this.clock());
  }

  async listingIndex(): Promise<ListingIndex> {
    const found = await this.file.read((db) =>
      inspectListingIndex(db, this.mapping, this.activeStatuses, this.contextOf(db)),
    );
    this.opts.onListingIndex?.(found);
    return found;
  }

  /** The active rows whose start names no time: never ended. How many, and one of their values (`NULL` for NULL). */
  unparseableStarts(): Promise<{ count: number; example: string | null }> {
    return this.file.read((db) => {
      const ctx = this.contextOf(db);
      const rows = db.prepare(ctx.sql.activeStarts).all(ctx.active) as Array<{ v: string | null }>;
      const bad = rows.filter((r) => Number.isNaN(ctx.shape.started.parse(r.v).getTime()));
      return { count: bad.length, example: bad.length === 0 ? null : (bad[0]?.v ?? "NULL") };
    });
  }

  async ping(): Promise<void> {
    await this.file.read((db) => db.prepare("SELECT 1").get());
  }
}
