/**
 * Holds by hand (`hold`, `release`) in the file's `call_reconciler_holds`: one row per hold, kept after its
 * release as history, at most one current per call. The calls table is only read.
 */
import type { CallsTableMapping } from "../config/config.js";
import type { CallNow, Hold, HoldBook } from "../model/index.js";
import type { Connection, SqliteFile } from "./file.js";
import { ownTime } from "./own-time.js";
import { explainSchemaError } from "./schema-errors.js";
import { callByIdSql, HOLDS_SQL } from "./sql/holds.js";

interface HoldRow {
  call_id: string;
  reason: string | null;
  held_by: string;
  run_id: string | null;
  held_at: string;
}

const toHold = (r: HoldRow | undefined): Hold | null =>
  r === undefined
    ? null
    : {
        callId: r.call_id,
        reason: r.reason,
        heldBy: r.held_by,
        runId: r.run_id,
        heldAt: ownTime(r.held_at) as Date,
      };

/**
 * Holds `callId` unless a hold stands (the partial unique index decides, so two holds at once make one), in
 * the write transaction `db`. Returns the hold made now, or null when one stood. Revert holds through it too.
 */
export function holdIn(
  db: Connection,
  callId: string,
  by: { reason: string | null; heldBy: string; runId: string | null },
  now: Date,
): Hold | null {
  const row = db.prepare(HOLDS_SQL.hold).get(callId, by.reason, by.heldBy, by.runId, now.toISOString());
  return toHold(row as HoldRow | undefined);
}

export class SqliteHoldBook implements HoldBook {
  private readonly callByIdSql: string;

  constructor(
    private readonly file: SqliteFile,
    private readonly mapping: CallsTableMapping,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.callByIdSql = callByIdSql(mapping);
  }

  async callById(rawId: string): Promise<CallNow | null> {
    const row = await this.guarded(() =>
      this.file.read(
        (db) =>
          db.prepare(this.callByIdSql).get(rawId) as
            | { call_id: string; status: string; ended_at: string | null }
            | undefined,
      ),
    );
    return row === undefined ? null : { callId: row.call_id, status: row.status, endedAt: row.ended_at };
  }

  async hold(
    callId: string,
    by: { reason: string | null; heldBy: string; runId?: string | null },
  ): Promise<{ made: boolean; hold: Hold }> {
    return this.guarded(() =>
      this.file.write((db) => {
        const made = holdIn(db, callId, { ...by, runId: by.runId ?? null }, this.now());
        if (made !== null) return { made: true, hold: made };
        // The insert met a current hold in this same transaction: it is still there to read.
        const current = toHold(db.prepare(HOLDS_SQL.current).get(callId) as HoldRow | undefined) as Hold;
        return { made: false, hold: current };
      }),
    );
  }

  async current(callId: string): Promise<Hold | null> {
    return this.guarded(() =>
      this.file.read((db) => toHold(db.prepare(HOLDS_SQL.current).get(callId) as HoldRow | undefined)),
    );
  }

  async release(callId: string, releasedBy: string): Promise<Hold | null> {
    return this.guarded(() =>
      this.file.write((db) => {
        const row = db.prepare(HOLDS_SQL.release).get(this.now().toISOString(), releasedBy, callId);
        return toHold(row as HoldRow | undefined);
      }),
    );
  }

  private async guarded<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw explainSchemaError(err, this.mapping);
    }
  }
}
