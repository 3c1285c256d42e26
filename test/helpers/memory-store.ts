import {
  type ActiveCall,
  type ActivePage,
  type ActiveSummary,
  type CallStore,
  callSidBatch,
  callSidPage,
  type EndBatchResult,
  type EndRequest,
  type PageCursor,
  routeSharedId,
  type Sighting,
} from "../../src/model/index.js";

interface StoredRow {
  call: ActiveCall;
  status: string;
  endedAt: Date | null;
}

/**
 * An in-memory CallStore for runPass's unit tests: the same contract as PgCallStore (keyset pages on
 * (started_at, id), conditional ends, first request of a duplicate wins), without a database. The store's
 * own behaviour on real PostgreSQL is tested in test/e2e/store*.test.ts.
 */
export class MemoryCallStore implements CallStore {
  readonly rows = new Map<string, StoredRow>();
  /** Every end that committed, in order. */
  readonly ends: EndRequest[] = [];
  /** Calls to endCalls / endCall, to see how a pass wrote. */
  readonly writes = { batches: 0, single: 0 };
  /** Rows the app holds locked: skipped by an end, as SKIP LOCKED skips them. */
  readonly lockedByApp = new Set<string>();
  /** Held calls (`hold`, or a revert): a pass neither asks about nor ends them. */
  readonly held = new Set<string>();
  /** Calls to heldAmong, each with the ids asked about. */
  readonly heldQueries: string[][] = [];
  /** Hears every page listed, after it was read (a test may change the table between two reads). */
  onPage: ((page: ActivePage) => void) | null = null;
  /** Refusals recorded, as call id + status. */
  readonly refusals = new Set<string>();
  /** Lets a test make a batch, or one row, fail. */
  failBatch: ((reqs: readonly EndRequest[]) => Error | null) | null = null;
  failRow: ((req: EndRequest) => Error | null) | null = null;

  /**
   * One column holds both providers' ids (CALLS_COL_TWILIO_SID = CALLS_COL_OPENAI_ID): rows are handed out
   * routed by their id's shape, as PgCallStore hands them out.
   */
  sharedIdColumn = false;

  /** The database's clock, as a test sets it. */
  clock: () => Date = () => new Date();

  constructor(private readonly activeStatuses: readonly string[] = ["active"]) {}

  async now(): Promise<Date> {
    return this.clock();
  }

  /** The realtime sightings table, by realtime call id. */
  readonly sightingsTable = new Map<string, Sighting>();

  async sightings(realtimeIds: readonly string[]): Promise<Map<string, Sighting>> {
    const found = new Map<string, Sighting>();
    for (const id of realtimeIds) {
      const s = this.sightingsTable.get(id);
      if (s !== undefined) found.set(id, { ...s });
    }
    return found;
  }

  async saveSightings(sightings: ReadonlyMap<string, Sighting>): Promise<void> {
    for (const [id, s] of sightings) this.sightingsTable.set(id, { ...s });
  }

  async lastLiveSighting(): Promise<Date | null> {
    let last: Date | null = null;
    for (const s of this.sightingsTable.values())
      if (s.lastLiveAt !== null && (last === null || s.lastLiveAt > last)) last = s.lastLiveAt;
    return last;
  }

  add(...calls: ActiveCall[]): this {
    for (const call of calls) this.rows.set(call.id, { call, status: call.status, endedAt: null });
    return this;
  }

  async listActivePage(
    cursor: PageCursor | null,
    startedAtOrBefore: Date,
    limit: number,
  ): Promise<ActivePage> {
    const key = (c: ActiveCall) => `${c.startedAt.toISOString()}|${c.id}`;
    const after = cursor === null ? null : `${cursor.startedAt}|${cursor.id}`;
    const rows = [...this.rows.values()]
      .filter((r) => this.activeStatuses.includes(r.status) && r.call.startedAt <= startedAtOrBefore)
      .map((r) => r.call)
      .filter((c) => after === null || key(c) > after)
      .sort((a, b) => (key(a) < key(b) ? -1 : 1))
      .slice(0, limit);
    const last = rows[rows.length - 1];
    const page: ActivePage = {
      rows: this.sharedIdColumn ? rows.map(routeSharedId) : rows,
      next:
        last !== undefined && rows.length === limit
          ? { startedAt: last.startedAt.toISOString(), id: last.id }
          : null,
      held: new Set(rows.filter((c) => this.held.has(c.id)).map((c) => c.id)),
    };
    this.onPage?.(page);
    return page;
  }

  /** The active rows of the named SIDs, as PgCallStore reads them: the listing's rows, any start, no cursor. */
  async activeByCallSids(callSids: readonly string[]): Promise<ActivePage> {
    const asked = callSidBatch(callSids);
    const rows = [...this.rows.values()]
      .filter((r) => this.activeStatuses.includes(r.status))
      .map((r) => (this.sharedIdColumn ? routeSharedId(r.call) : r.call))
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || (a.id < b.id ? -1 : 1));
    return callSidPage(
      { rows, next: null, held: new Set(rows.filter((c) => this.held.has(c.id)).map((c) => c.id)) },
      asked,
    );
  }

  async endCall(req: EndRequest): Promise<"ended" | "not_active" | "locked"> {
    this.writes.single++;
    const err = this.failRow?.(req) ?? null;
    if (err !== null) throw err;
    if (this.lockedByApp.has(req.call.id)) return "locked";
    return this.apply(req) ? "ended" : "not_active";
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<EndBatchResult> {
    this.writes.batches++;
    const err = this.failBatch?.(reqs) ?? null;
    if (err !== null) throw err;
    const result: EndBatchResult = { ended: new Set(), locked: new Set() };
    for (const req of reqs) {
      const id = req.call.id;
      if (this.lockedByApp.has(id)) result.locked.add(id);
      else if (!result.ended.has(id) && this.apply(req)) result.ended.add(id);
    }
    return result;
  }

  async recordRefusal(req: EndRequest): Promise<boolean> {
    const key = `${req.call.id}|${req.newStatus}`;
    if (this.refusals.has(key)) return false;
    this.refusals.add(key);
    return true;
  }

  async refusedBefore(reqs: readonly EndRequest[]): Promise<Set<string>> {
    return new Set(
      reqs.filter((r) => this.refusals.has(`${r.call.id}|${r.newStatus}`)).map((r) => r.call.id),
    );
  }

  async heldAmong(ids: readonly string[]): Promise<Set<string>> {
    this.heldQueries.push([...ids]);
    return new Set(ids.filter((id) => this.held.has(id)));
  }

  async activeSummary(): Promise<ActiveSummary> {
    const active = [...this.rows.values()].filter((r) => this.activeStatuses.includes(r.status));
    const oldest = active.map((r) => r.call.startedAt).sort((a, b) => a.getTime() - b.getTime())[0];
    return { active: active.length, oldestStartedAt: oldest ?? null };
  }

  /** The app's own write: a webhook that ends a call. */
  endByApp(id: string, status: string, endedAt: Date): void {
    const row = this.rows.get(id);
    if (row !== undefined) Object.assign(row, { status, endedAt });
  }

  statusOf(id: string): { status: string; endedAt: Date | null } | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : { status: row.status, endedAt: row.endedAt };
  }

  private apply(req: EndRequest): boolean {
    const row = this.rows.get(req.call.id);
    if (row === undefined || !this.activeStatuses.includes(row.status)) return false;
    row.status = req.newStatus;
    row.endedAt = req.endedAt;
    this.ends.push(req);
    return true;
  }
}
