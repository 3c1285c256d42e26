import type pg from "pg";
import { daemonTables } from "./sql/tables.js";
import { leaseSql } from "./sql.js";

/** The lease every reconciling writer of one calls table takes: the daemon's leader and `audit --apply`. */
export const reconcileLeaseName = (callsTable: string): string => `reconcile:${callsTable}`;

/** Who holds a lease, as the database sees it now. */
export interface LeaseHolder {
  holder: string;
  expiresAt: Date;
  /** Seconds until it expires unless renewed, on the database's clock. */
  secondsLeft: number;
}

export interface LeaseOptions {
  name: string;
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
export class Lease {
  private validUntil = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly sql: ReturnType<typeof leaseSql>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: LeaseOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.sql = leaseSql(daemonTables(opts.schema));
  }

  /** Takes the lease if free or expired, renews it if ours. Throws when the database cannot be reached. */
  async acquireOrRenew(): Promise<boolean> {
    const sentAt = this.now();
    const { rows } = await this.pool.query<{ holder: string }>(this.sql.acquire, [
      this.opts.name,
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
      [this.opts.name],
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
    await this.pool.query(this.sql.release, [this.opts.name, this.opts.holder]);
  }

  /** Forgets leadership locally (a renewal failed): no more writes until a renewal succeeds. */
  drop(): void {
    this.validUntil = Number.NEGATIVE_INFINITY;
  }

  get holder(): string {
    return this.opts.holder;
  }

  get name(): string {
    return this.opts.name;
  }
}
