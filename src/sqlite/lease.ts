/**
 * The writers' lease on one calls table of the file (the daemon's leader, `audit --apply`), named after the
 * table as the file spells it: `reconcile:main.calls`. Taken, renewed or handed over in one write transaction
 * judged on this host's clock (every replica of a SQLite file runs on this host). `validUntil` is computed on
 * the monotonic clock from when the request was sent, so it can only under-estimate the lease.
 */
import type { CallsTableMapping } from "../config/config-types.js";
import type { LeaseHolder, WriterLease } from "../model/index.js";
import { resolveCallsTable } from "./calls-table.js";
import type { SqliteFile } from "./file.js";
import { leaseSql } from "./sql/state.js";

export interface SqliteLeaseOptions {
  /** Unique per process: host, pid and a random part. */
  holder: string;
  ttlSeconds: number;
  /** Monotonic milliseconds (performance.now), injectable for tests. */
  now?: () => number;
  /** The host's clock the expiry is judged on, injectable for tests. */
  clock?: () => Date;
  /** Run once before the lease's first request (the state's binding check): a failure fails that request. */
  beforeFirstRequest?: () => Promise<void>;
}

export class SqliteLease implements WriterLease {
  private validUntil = Number.NEGATIVE_INFINITY;
  private name: string | null = null;
  private readonly now: () => number;
  private readonly clock: () => Date;

  constructor(
    private readonly file: SqliteFile,
    private readonly mapping: CallsTableMapping,
    private readonly opts: SqliteLeaseOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.clock = opts.clock ?? (() => new Date());
  }

  get holder(): string {
    return this.opts.holder;
  }

  /** The lease's name, resolved once: a name that changed under a leader would let it hold two leases. */
  async leaseName(): Promise<string> {
    if (this.name === null) {
      await this.opts.beforeFirstRequest?.();
      this.name = await writersLeaseName(this.file, this.mapping);
    }
    return this.name;
  }

  async acquireOrRenew(): Promise<boolean> {
    const name = await this.leaseName();
    const sentAt = this.now();
    const { holder, ttlSeconds } = this.opts;
    const ours = await this.file.write((db) => {
      const at = this.clock();
      const params = { name, holder, expiresAt: at.getTime() + ttlSeconds * 1000, now: at.toISOString() };
      const row = db.prepare(leaseSql.read).get({ name }) as
        | { holder: string; expires_at: number }
        | undefined;
      if (row === undefined) {
        db.prepare(leaseSql.insert).run(params);
        return true;
      }
      if (row.holder !== holder && Number(row.expires_at) >= at.getTime()) return false;
      db.prepare(leaseSql.renew).run(params);
      return true;
    });
    this.validUntil = ours ? sentAt + ttlSeconds * 1000 : Number.NEGATIVE_INFINITY;
    return ours;
  }

  async currentHolder(): Promise<LeaseHolder | null> {
    const name = await this.leaseName();
    const nowMs = this.clock().getTime();
    const row = (await this.file.read((db) => db.prepare(leaseSql.current).get({ name, nowMs }))) as
      | { holder: string; expires_at: number }
      | undefined;
    if (row === undefined) return null;
    const expiresAt = Number(row.expires_at);
    return {
      holder: row.holder,
      expiresAt: new Date(expiresAt),
      secondsLeft: Math.max(0, (expiresAt - nowMs) / 1000),
    };
  }

  remainingMs(): number {
    return this.validUntil - this.now();
  }

  async release(): Promise<void> {
    this.validUntil = Number.NEGATIVE_INFINITY;
    // Never resolved: never requested, so never held.
    if (this.name === null) return;
    const expiresAt = this.clock().getTime() - 1;
    await this.file.write((db) =>
      db.prepare(leaseSql.release).run({ name: this.name, holder: this.opts.holder, expiresAt }),
    );
  }

  drop(): void {
    this.validUntil = Number.NEGATIVE_INFINITY;
  }
}

/**
 * The writers' lease of a calls table, named after the table as the file spells it (`reconcile:main.calls`),
 * so that `calls`, `main.calls` and `CALLS` are one lease.
 */
export async function writersLeaseName(file: SqliteFile, mapping: CallsTableMapping): Promise<string> {
  const table = await file.read((db) => resolveCallsTable(db, mapping));
  return `reconcile:main.${table}`;
}
