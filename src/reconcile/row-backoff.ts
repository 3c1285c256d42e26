import type { ActiveCall } from "../model/index.js";

/**
 * Rows whose check failed (a 500 for that resource, a timeout), remembered across passes so that a failing
 * subset can never hold the head of every pass: such a row is not asked again until its backoff has passed
 * (exponential, capped), and then only after the rows that were not checked recently.
 *
 * Kept in memory (unlike the realtime sightings): a restart or a new leader starts without it, so the failing
 * rows are asked once more in listing order on its first pass, and backed off again from there. It holds
 * only failing rows (a bounded number of small entries), never the healthy ones.
 */
export class RowBackoff {
  private readonly failing = new Map<string, { failures: number; retryAt: number }>();
  /** Failing rows listed during this pass: the others are forgotten after a complete pass. */
  private seen = new Set<string>();

  constructor(
    private readonly baseMs = 30_000,
    private readonly capMs = 30 * 60_000,
  ) {}

  /**
   * `fresh`: never failed, ask in listing order; `due`: failed before and its backoff has passed, ask after
   * the fresh rows; `waiting`: still backing off, not asked this pass.
   */
  standing(callId: string, now: Date): "fresh" | "due" | "waiting" {
    const entry = this.failing.get(callId);
    if (entry === undefined) return "fresh";
    this.seen.add(callId);
    return entry.retryAt <= now.getTime() ? "due" : "waiting";
  }

  /** The check failed: back off twice as long as last time, up to the cap. */
  failed(callId: string, now: Date): void {
    const failures = (this.failing.get(callId)?.failures ?? 0) + 1;
    const delay = Math.min(this.capMs, this.baseMs * 2 ** (failures - 1));
    this.failing.set(callId, { failures, retryAt: now.getTime() + delay });
    this.seen.add(callId);
  }

  /**
   * A provider's breaker closed again after an outage: the rows that failed during it failed for the provider,
   * not for themselves, and waiting out backoffs grown through a long outage would leave its zombies for
   * minutes. Each is due now (asked after the fresh rows, so a failing subset still cannot hold the head of a
   * pass); its count is kept, so a row that fails again is backed off as long as before.
   */
  recovered(): void {
    for (const entry of this.failing.values()) entry.retryAt = Number.NEGATIVE_INFINITY;
  }

  /** The provider answered clearly (whatever the answer): the row is healthy again. */
  answered(callId: string): void {
    this.failing.delete(callId);
  }

  /** Starts a pass: only failing rows listed during it are remembered afterwards. */
  beginPass(): void {
    this.seen = new Set();
  }

  /** After a complete pass, forgets failing rows that were not listed (ended by the app, or gone). */
  endCompletePass(): void {
    for (const id of this.failing.keys()) if (!this.seen.has(id)) this.failing.delete(id);
  }

  get size(): number {
    return this.failing.size;
  }
}

/**
 * Rows that failed before and are due again, kept until the fresh rows are done; beyond `cap` they are simply
 * asked in place, so a large outage cannot make this list grow with the table.
 */
export class DeferredRows {
  private readonly rows: ActiveCall[] = [];

  constructor(private readonly cap: number) {}

  /** True when the row was taken to be asked at the end of the pass. */
  offer(row: ActiveCall): boolean {
    if (this.rows.length >= this.cap) return false;
    this.rows.push(row);
    return true;
  }

  *pages(pageSize: number): Generator<ActiveCall[]> {
    for (let i = 0; i < this.rows.length; i += pageSize) yield this.rows.slice(i, i + pageSize);
  }
}
