import type pg from "pg";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import type { LeaseHolder, WriterLease } from "../model/index.js";
import { daemonTables } from "./sql/tables.js";
import { leaseSql, RESOLVED_TABLE_SQL } from "./sql.js";

/**
 * The lease every reconciling writer of one calls table takes: the daemon's leader and `audit --apply`.
 * Named after the table the database resolves CALLS_TABLE to (`reconcile:public.calls`), not after its
 * spelling: `calls` and `public.calls` are one table, and two writers keyed on two spellings would not see
 * each other's lease. Throws when the table does not exist or the database cannot be reached.
 */
export async function reconcileLeaseName(pool: pg.Pool, callsTable: string): Promise<string> {
  const { rows } = await pool.query<{ schema: string; name: string }>(RESOLVED_TABLE_SQL, [
    quoteQualifiedIdentifier(callsTable),
  ]);
  const table = rows[0];
  if (table === undefined) throw new Error(`CALLS_TABLE: table ${callsTable} does not exist`);
  return `reconcile:${table.schema}.${table.name}`;
}

export interface LeaseOptions {
  /** The name, or how to ask the database for it (once, on the lease's first request). */
  name: string | (() => Promise<string>);
  /** Unique per process: host, pid and a random part. */
  holder: string;
  ttlSeconds: number;
  /** Monotonic milliseconds (performance.now), injectable for tests. */
  now?: () => number;
  /** RECONCILER_SCHEMA: where the lease table lives. Default `public`. */
  schema?: string | undefined;
}

/**
 * One replica's view of the shared lease. `validUntil` is computed on this process's monotonic clock from
 * the moment the request was *sent* (not answered), so it can only under-estimate how long the database
 * still considers us the holder; writes stop before the lease can have passed to someone else.
 */
export class Lease implements WriterLease {
  private validUntil = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly sql: ReturnType<typeof leaseSql>;
  private resolvedName: string | null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: LeaseOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.sql = leaseSql(daemonTables(opts.schema));
    this.resolvedName = typeof opts.name === "string" ? opts.name : null;
  }

  /**
   * The lease's name. One asked of the database is kept for the life of the process: a name that changed
   * under a leader would let it hold two leases at once.
   */
  async name(): Promise<string> {
    if (this.resolvedName === null && typeof this.opts.name !== "string") {
      this.resolvedName = await this.opts.name();
    }
    return this.resolvedName as string;
  }

  /** Takes the lease if free or expired, renews it if ours. Throws when the database cannot be reached. */
  async acquireOrRenew(): Promise<boolean> {
    const name = await this.name();
    const sentAt = this.now();
    const { rows } = await this.pool.query<{ holder: string }>(this.sql.acquire, [
      name,
      this.opts.holder,
      this.opts.ttlSeconds,
    ]);
    if (rows[0]?.holder === this.opts.holder) {
      this.validUntil = sentAt + this.opts.ttlSeconds * 1000;
      return true;
    }
    this.validUntil = Number.NEGATIVE_INFINITY;
    return false;
  }

  /** The current holder of this lease (this process or another), or null when nobody holds it now. */
  async currentHolder(): Promise<LeaseHolder | null> {
    const { rows } = await this.pool.query<{ holder: string; expires_at: Date; seconds_left: number }>(
      this.sql.current,
      [await this.name()],
    );
    const row = rows[0];
    return row === undefined
      ? null
      : { holder: row.holder, expiresAt: row.expires_at, secondsLeft: Math.max(0, row.seconds_left) };
  }

  /** Milliseconds of leadership this process can still count on (≤ 0: not the leader). */
  remainingMs(): number {
    return this.validUntil - this.now();
  }

  /** Hands the lease back so another replica takes over without waiting for it to expire. */
  async release(): Promise<void> {
    this.validUntil = Number.NEGATIVE_INFINITY;
    // Never resolved: never requested, so never held.
    if (this.resolvedName === null) return;
    await this.pool.query(this.sql.release, [this.resolvedName, this.opts.holder]);
  }

  /** Forgets leadership locally (a renewal failed): no more writes until a renewal succeeds. */
  drop(): void {
    this.validUntil = Number.NEGATIVE_INFINITY;
  }

  get holder(): string {
    return this.opts.holder;
  }
}
