import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import type { CallNow, Hold, HoldBook } from "../model/index.js";
import { explainSchemaError, pgCode, SchemaMismatchError } from "./errors.js";
import { callByIdSql, holdsSql } from "./sql/holds.js";
import { daemonTables } from "./sql/tables.js";

interface HoldRow {
  call_id: string;
  reason: string | null;
  held_by: string;
  run_id: string | null;
  held_at: Date;
}

const toHold = (r: HoldRow): Hold => ({
  callId: r.call_id,
  reason: r.reason,
  heldBy: r.held_by,
  runId: r.run_id,
  heldAt: r.held_at,
});

/** Holds by hand (`hold`, `release`) on the daemon's table `call_reconciler_holds`; the calls table is only read. */
export class HoldStore implements HoldBook {
  private readonly sql: ReturnType<typeof holdsSql>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly mapping: CallsTableMapping,
  ) {
    this.sql = holdsSql(daemonTables(mapping.daemonSchema));
  }

  /**
   * The call an operator named, read as the id column's type (so `007` finds bigint 7), or null when the table
   * has no such row (including an id the column's type cannot read, such as `abc` for a uuid column).
   */
  async callById(rawId: string): Promise<CallNow | null> {
    try {
      const { rows } = await this.pool.query<{ call_id: string; status: string; ended_at: string | null }>(
        callByIdSql(this.mapping),
        [rawId],
      );
      const row = rows[0];
      return row === undefined ? null : { callId: row.call_id, status: row.status, endedAt: row.ended_at };
    } catch (err) {
      // Class 22 (data exception): the text is no value of the id's type, so no row has it.
      if (pgCode(err)?.startsWith("22")) return null;
      throw explainSchemaError(err, this.mapping);
    }
  }

  /** Holds `callId` (canonical); `made` is false when a hold already stood (returned as it is). */
  async hold(
    callId: string,
    by: { reason: string | null; heldBy: string; runId?: string | null },
  ): Promise<{ made: boolean; hold: Hold }> {
    const made = await this.query(this.sql.hold, [callId, by.reason, by.heldBy, by.runId ?? null]);
    if (made !== null) return { made: true, hold: made };
    const current = await this.current(callId);
    // Released between the two statements: hold it again.
    return current !== null ? { made: false, hold: current } : this.hold(callId, by);
  }

  async current(callId: string): Promise<Hold | null> {
    return this.query(this.sql.current, [callId]);
  }

  /** Ends the current hold of `callId`; returns it, or null when the call was not held. */
  async release(callId: string, releasedBy: string): Promise<Hold | null> {
    return this.query(this.sql.release, [callId, releasedBy]);
  }

  private async query(sql: string, params: unknown[]): Promise<Hold | null> {
    try {
      const { rows } = await this.pool.query<HoldRow>(sql, params);
      return rows[0] === undefined ? null : toHold(rows[0]);
    } catch (err) {
      throw missingTables(err);
    }
  }
}

/** The daemon's tables predate migration 5: say what to run instead of a raw 42P01/42703. */
export function missingTables(err: unknown): unknown {
  const code = pgCode(err);
  return code === "42P01" || code === "42703"
    ? new SchemaMismatchError(
        "the daemon's tables (call_reconciler_holds, call_reconciler_actions) are missing or outdated: run `call-reconciler migrate` first",
      )
    : err;
}
