import type {
  ActiveCall,
  ActivePage,
  ActiveSummary,
  CallStore,
  EndRequest,
  PageCursor,
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
  /** Lets a test make a batch, or one row, fail. */
  failBatch: ((reqs: readonly EndRequest[]) => Error | null) | null = null;
  failRow: ((req: EndRequest) => Error | null) | null = null;

  constructor(private readonly activeStatuses: readonly string[] = ["active"]) {}

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
    return {
      rows,
      next:
        last !== undefined && rows.length === limit
          ? { startedAt: last.startedAt.toISOString(), id: last.id }
          : null,
    };
  }

  async endCall(req: EndRequest): Promise<boolean> {
    this.writes.single++;
    const err = this.failRow?.(req) ?? null;
    if (err !== null) throw err;
    return this.apply(req);
  }

  async endCalls(reqs: readonly EndRequest[]): Promise<Set<string>> {
    this.writes.batches++;
    const err = this.failBatch?.(reqs) ?? null;
    if (err !== null) throw err;
    const ended = new Set<string>();
    for (const req of reqs) if (!ended.has(req.call.id) && this.apply(req)) ended.add(req.call.id);
    return ended;
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
