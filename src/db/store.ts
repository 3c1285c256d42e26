import type pg from "pg";
import { type CallsTableMapping, mapStatus } from "../config/config.js";
import { idColumnShared } from "../config/quoted-mapping.js";
import { errorMessage } from "../error-message.js";
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
  routeSharedId,
  type Sighting,
  type StartShares,
  writtenDuration,
} from "../model/index.js";
import { recordCauses } from "./causes.js";
import {
  cachedUntilFailure,
  cachedUntilSettled,
  readEndColumnTypes,
  readTimeColumns,
} from "./column-types.js";
import { readDurationColumn } from "./duration-column.js";
import { endError, SchemaMismatchError } from "./errors.js";
import { ActiveListing, activePageOf, type ListedRow } from "./listing.js";
import { readListingIndex } from "./listing-index.js";
import { withTransaction } from "./pool.js";
import { recordRefusal, refusedBefore } from "./refusals.js";
import { SchemaVerifier } from "./schema-verifier.js";
import { lastLiveSighting, readSightings, saveSightings } from "./sightings.js";
import { endedSinceSql } from "./sql/causes.js";
import { holdsSql } from "./sql/holds.js";
import { type DaemonTables, daemonTables } from "./sql/tables.js";
import {
  buildEndStatements,
  buildPageStatements,
  type EndStatements,
  NOW_SQL,
  type PageStatements,
  PING_SQL,
  SERVER_INFO_SQL,
} from "./sql.js";
import { readStartShares } from "./start-shares.js";
import { oldestStart, readUnparseableStarts } from "./unparseable-starts.js";

export { pgCode, SchemaMismatchError } from "./errors.js";

export class PgCallStore implements CommandStore {
  private readonly sql: PageStatements;
  private readonly listing: ActiveListing;
  /** The listing's $1: the one active status, or the list of them. */
  private readonly statusMap: Readonly<Record<string, string>>;
  private readonly forced: boolean;
  /** The daemon's own tables, in RECONCILER_SCHEMA. */
  private readonly own: DaemonTables;
  private endSqlCache: Promise<EndStatements> | undefined;
  /** The checks of the configured tables before use (start-up, `doctor`, `migrate`, `simulate`). */
  readonly schema: SchemaVerifier;
  /** The start and end columns' types and CALLS_TIME_ZONE (see readTimeColumns); then the listing for them. */
  private readonly timeColumns = cachedUntilSettled(() => readTimeColumns(this.pool, this.mapping));
  /** CALLS_COL_DURATION's base type, null when unset (see readDurationColumn); `doctor` shows it. */
  readonly durationColumn = cachedUntilFailure(() => readDurationColumn(this.pool, this.mapping));
  private readonly pages = cachedUntilFailure(async () => {
    const time = await this.timeColumns();
    return time.startedZone.length === 0 && time.started === null
      ? this.sql
      : buildPageStatements(this.mapping, {
          oneActiveStatus: this.activeStatuses.length === 1,
          startedInZone: time.startedZone.length > 0,
          startedRaw: time.started !== null,
          withoutHolds: this.opts.withoutHolds === true,
        });
  });

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
    private readonly activeStatuses: readonly string[],
    private readonly opts: CallStoreOptions = {},
  ) {
    this.sql = buildPageStatements(mapping, {
      oneActiveStatus: activeStatuses.length === 1,
      withoutHolds: opts.withoutHolds === true,
    });
    this.own = daemonTables(mapping.daemonSchema);
    this.listing = new ActiveListing({
      pool,
      statements: async () => {
        const { startedZone, started } = await this.timeColumns();
        return { sql: await this.pages(), startedZone, started };
      },
      activeParam: this.activeParam(),
      checkIndex: () => this.listingIndex(),
    });
    this.statusMap = opts.statusMap ?? {};
    this.forced = opts.forced === true;
    this.schema = new SchemaVerifier({
      pool,
      mapping,
      sql: this.sql,
      own: this.own,
      statusMap: this.statusMap,
      activeStatuses,
      activeParam: this.activeParam(),
      listingTypes: () => this.pages(),
      endTypes: () => this.endSql(),
    });
  }

  /** The listing's $1: the one active status, or the list of them (see buildPageStatements). */
  private activeParam(): string | readonly string[] {
    return this.activeStatuses.length === 1 ? (this.activeStatuses[0] as string) : this.activeStatuses;
  }

  /** The same store, whose audit rows are marked `forced` (`audit --apply --force`, written without the lease). */
  asForced(): PgCallStore {
    return new PgCallStore(this.pool, this.mapping, this.activeStatuses, { ...this.opts, forced: true });
  }

  async listActivePage(
    cursor: PageCursor | null,
    startedAtOrBefore: Date,
    limit: number,
  ): Promise<ActivePage> {
    return this.routed(await this.listing.page(cursor, startedAtOrBefore, limit));
  }

  /** With one id column for both providers, each row goes to the provider its id's shape names. */
  private routed(page: ActivePage): ActivePage {
    return idColumnShared(this.mapping) ? { ...page, rows: page.rows.map(routeSharedId) } : page;
  }

  async activeByCallSids(callSids: readonly string[]): Promise<ActivePage> {
    const asked = callSidBatch(callSids);
    const [sql, { startedZone, started }] = await Promise.all([this.pages(), this.timeColumns()]);
    if (asked.length === 0 || sql.activeByCallSids === null) return { rows: [], next: null, held: new Set() };
    const { rows } = await this.pool.query<ListedRow>(sql.activeByCallSids, [
      this.activeStatuses,
      asked,
      ...startedZone,
    ]);
    return callSidPage(this.routed(activePageOf(rows, started, null)), asked);
  }

  /**
   * Whether an index serves the listing (and the statement that creates one), as the planner sees it now.
   * Asked at start-up (`run`, `audit`) and at the start of every listing; `onListingIndex` hears each answer.
   */
  async listingIndex(): Promise<ListingIndex> {
    const { startedZone, started } = await this.timeColumns();
    const found = await readListingIndex(this.pool, {
      mapping: this.mapping,
      activeStatuses: this.activeStatuses,
      startedZone,
      started,
    });
    this.opts.onListingIndex?.(found);
    return found;
  }

  async endCall(req: EndRequest): Promise<"ended" | "not_active" | "locked"> {
    // A batch of one ended something iff it ended this call; comparing sizes rather than `has(req.call.id)`
    // also holds for an id not spelled canonically ('007' for bigint 7, an upper-case uuid).
    const { ended, locked } = await this.endCalls([req]);
    return ended.size === 1 ? "ended" : locked.size === 1 ? "locked" : "not_active";
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<EndBatchResult> {
    if (reqs.length === 0) return { ended: new Set(), locked: new Set() };
    const sql = await this.endSql();
    const duration = await this.durationColumn();
    const time = await this.timeColumns();
    const ids = reqs.map((r) => r.call.id);
    const params = [
      ids,
      reqs.map((r) => mapStatus(this.statusMap, r.newStatus)),
      reqs.map((r) => r.endedAt),
      reqs.map((r) => r.source),
      // `?? null`: an absent evidence is recorded as JSON null, not refused by the NOT NULL column.
      reqs.map((r) => JSON.stringify(r.evidence ?? null)),
      this.activeStatuses,
      reqs.map((r) => r.runId),
      reqs.map((r) => r.decidedAt),
      reqs.map((r) => r.newStatus),
      ...time.endedZone,
      // A text or epoch end column: $10, the value written, in the column's own format (see buildEndStatements).
      ...(time.ended === null ? [] : [reqs.map((r) => time.ended?.format(r.endedAt))]),
      ...(duration === null ? [] : [reqs.map((r) => writtenDuration(duration.whole, r.durationSeconds))]),
    ];
    // The NOTIFYs are sent by the statement itself, so they reach listeners only if this transaction commits.
    try {
      return await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ call_id: string }>(sql.endCalls, params);
        const ended = new Set(rows.map((r) => r.call_id));
        await recordCauses(client, this.own, reqs, ended, this.opts.twilioAccount ?? null);
        // Every distinct id ended: nothing was skipped, no need to ask.
        if (ended.size >= new Set(ids).size) return { ended, locked: new Set<string>() };
        // Skipped rows are still active (after our own updates, which this statement sees). Asked in the
        // same transaction but with a fresh snapshot: a row a webhook ended meanwhile is not reported locked.
        const still = await client.query<{ call_id: string }>(sql.stillActive, [ids, this.activeStatuses]);
        return { ended, locked: new Set(still.rows.map((r) => r.call_id).filter((id) => !ended.has(id))) };
      });
    } catch (err) {
      throw endError(err);
    }
  }

  recordRefusal(req: EndRequest, detail: string): Promise<boolean> {
    return recordRefusal(this.pool, this.own, this.statusMap, this.forced, req, detail);
  }

  refusedBefore(reqs: readonly EndRequest[]): Promise<Set<string>> {
    return refusedBefore(this.pool, this.own, this.statusMap, reqs);
  }

  /**
   * The batched end's statements, once the id and status column types are known: read from the catalog on
   * first use and kept for the store's life (a failed lookup is retried on the next call).
   */
  private endSql(): Promise<EndStatements> {
    if (this.endSqlCache === undefined) {
      const loaded = Promise.all([
        readEndColumnTypes(this.pool, this.mapping),
        this.timeColumns(),
        this.durationColumn(),
      ]);
      const pending = loaded.then(([types, time, duration]) => {
        try {
          return buildEndStatements(
            this.mapping,
            { ...types, endedAt: time.endedAt, ...(duration === null ? {} : { duration: duration.type }) },
            { forced: this.forced },
          );
        } catch (err) {
          throw new SchemaMismatchError(errorMessage(err));
        }
      });
      this.endSqlCache = pending;
      pending.catch(() => {
        if (this.endSqlCache === pending) this.endSqlCache = undefined;
      });
    }
    return this.endSqlCache;
  }

  sightings(realtimeIds: readonly string[]): Promise<Map<string, Sighting>> {
    return readSightings(this.pool, this.own, realtimeIds);
  }

  saveSightings(sightings: ReadonlyMap<string, Sighting>): Promise<void> {
    return saveSightings(this.pool, this.own, sightings);
  }

  lastLiveSighting(): Promise<Date | null> {
    return lastLiveSighting(this.pool, this.own);
  }

  async now(): Promise<Date> {
    const { rows } = await this.pool.query<{ now: Date }>(NOW_SQL);
    return (rows[0] as { now: Date }).now;
  }

  /** The connected role, the server's version and the database's clock. */
  async serverInfo(): Promise<{ role: string; version: string; now: Date }> {
    const { rows } = await this.pool.query<{ role: string; version: string; now: Date }>(SERVER_INFO_SQL);
    return rows[0] as { role: string; version: string; now: Date };
  }

  /** Readiness probe: does the database answer? */
  async ping(): Promise<void> {
    await this.pool.query(PING_SQL);
  }

  async heldAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.pool.query<{ call_id: string }>(holdsSql(this.own).heldAmong, [ids]);
    return new Set(rows.map((r) => r.call_id));
  }

  /** How many rows got an end time since `since` (by anyone): for the share of ends that were lost. */
  async endedSince(since: Date): Promise<number> {
    const { endedZone, ended } = await this.timeColumns();
    const sql = endedSinceSql(this.mapping, endedZone.length > 0, ended !== null);
    const bound = ended === null ? since : ended.format(since);
    const { rows } = await this.pool.query<{ n: string }>(sql, [bound, ...endedZone]);
    return Number(rows[0]?.n ?? 0);
  }

  async activeStartShares(parts: number): Promise<Map<string | null, StartShares>> {
    const { startedZone, started } = await this.timeColumns();
    return readStartShares(
      this.pool,
      this.mapping,
      this.activeStatuses,
      { zone: startedZone, started },
      parts,
    );
  }

  async activeSummary(): Promise<ActiveSummary> {
    const [sql, { startedZone, started }] = await Promise.all([this.pages(), this.timeColumns()]);
    const { rows } = await this.pool.query<{ active: string; oldest_started_at: Date | string | null }>(
      sql.activeSummary,
      [this.activeStatuses, ...startedZone],
    );
    const row = rows[0];
    const oldest = row?.oldest_started_at ?? null;
    return { active: Number(row?.active ?? 0), oldestStartedAt: oldestStart(oldest, started) };
  }

  /**
   * The active rows whose start names no time (text that does not parse, NULL): never ended, and each left
   * unverified by every pass. How many, and one of their values (`NULL` for a NULL).
   */
  async unparseableStarts(): Promise<{ count: number; example: string | null }> {
    const { started } = await this.timeColumns();
    if (started === null) return { count: 0, example: null };
    return readUnparseableStarts(this.pool, this.mapping, this.activeStatuses, started);
  }
}
