/**
 * Ends on the file: a batch is one write transaction (the caller's `file.write`), each call ended by a
 * conditional UPDATE that re-checks it is still active, unheld and without an end, with its audit row and its
 * cause row in the same transaction. SQLite has no row locks: nothing is ever `locked`; while the app holds the
 * file the whole batch waits, or fails with SqliteBusyError and writes nothing.
 */
import { mapStatus } from "../config/status-map.js";
import { errorMessage } from "../error-message.js";
import { type EndRequest, newCauseRow, RowRefusedError, writtenDuration } from "../model/index.js";
import { errcodeOf } from "./busy.js";
import type { Connection } from "./file.js";
import type { ListingContext } from "./listing.js";
import { INSERT_ENDED_SQL, RECORD_CAUSE_SQL, RECORD_REFUSAL_SQL, REFUSED_BEFORE_SQL } from "./sql/ends.js";

export interface EndOptions {
  statusMap: Readonly<Record<string, string>>;
  /** `audit --apply --force`: the audit rows are marked `forced`. */
  forced: boolean;
  /** TWILIO_ACCOUNT_SID: the account of a Twilio end whose row names none (for its diagnosis). */
  twilioAccount: string | null;
  /** When the rows are recorded (the host's clock). */
  now: Date;
}

/** Ends each request's call if still active; returns the ids ended (as the listing gives them). */
export function endInTransaction(
  db: Connection,
  ctx: ListingContext,
  reqs: readonly EndRequest[],
  opts: EndOptions,
): Set<string> {
  const ended = new Set<string>();
  const seen = new Set<string>();
  const endable = db.prepare(ctx.sql.endable);
  const update = db.prepare(ctx.sql.end);
  const audit = db.prepare(INSERT_ENDED_SQL);
  const cause = db.prepare(RECORD_CAUSE_SQL);
  const whole = ctx.shape.durationWhole;
  for (const r of reqs) {
    // An id given twice is ended once, with its first request.
    if (seen.has(r.call.id)) continue;
    seen.add(r.call.id);
    const row = endable.get({ ...ctx.active, id: r.call.id }) as
      | { id: string; status: string; duration: unknown }
      | undefined;
    if (row === undefined) continue;
    const status = mapStatus(opts.statusMap, r.newStatus);
    const duration = whole === null ? null : writtenDuration(whole, r.durationSeconds);
    const changed = update.run({
      ...ctx.active,
      id: r.call.id,
      status,
      ended: ctx.shape.ended.format(r.endedAt),
      ...(duration === null ? {} : { duration }),
    }).changes;
    if (Number(changed) !== 1) continue;
    ended.add(row.id);
    audit.run({
      runId: r.runId,
      callId: row.id,
      previousStatus: row.status,
      newStatus: status,
      providerStatus: r.newStatus,
      endedAt: r.endedAt.toISOString(),
      duration,
      previousDuration: typeof row.duration === "number" ? row.duration : null,
      source: r.source,
      // `?? null`: an absent evidence is recorded as JSON null, not refused by the NOT NULL column.
      evidence: JSON.stringify(r.evidence ?? null),
      decidedAt: r.decidedAt.toISOString(),
      recordedAt: opts.now.toISOString(),
      forced: opts.forced ? 1 : 0,
    });
    cause.run(causeParams(r, row.id, opts.twilioAccount));
  }
  return ended;
}

const isoOrNull = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.toISOString());

/** The cause row's values as the file keeps them: times as ISO text (see own-tables.ts). */
function causeParams(r: EndRequest, callId: string, configuredAccount: string | null) {
  const c = newCauseRow(r, configuredAccount);
  return {
    ...c,
    callId,
    startedAt: isoOrNull(c.startedAt),
    providerEndedAt: c.providerEndedAt.toISOString(),
    endedHereAt: c.endedHereAt.toISOString(),
    dueAt: isoOrNull(c.dueAt),
  };
}

/**
 * SQLITE_CONSTRAINT (19: CHECK 275, NOT NULL 1299, UNIQUE 2067, a STRICT table's DATATYPE 3091, …) and
 * SQLITE_MISMATCH (20) are about the values written: RowRefusedError, so the pass tries the rows alone and
 * records the refusal. Anything else (busy, I/O) is thrown as it is.
 */
export function endError(err: unknown): unknown {
  const code = errcodeOf(err);
  if (code === undefined) return err;
  const primary = code & 0xff;
  return primary === 19 || primary === 20
    ? new RowRefusedError(errorMessage(err), `SQLITE_${code}`, { cause: err })
    : err;
}

/** Records a refused end once per call and mapped status; true when recorded now. */
export function recordRefusalIn(db: Connection, req: EndRequest, detail: string, opts: EndOptions): boolean {
  const { changes } = db.prepare(RECORD_REFUSAL_SQL).run({
    runId: req.runId,
    callId: req.call.id,
    previousStatus: req.call.status,
    newStatus: mapStatus(opts.statusMap, req.newStatus),
    providerStatus: req.newStatus,
    endedAt: req.endedAt.toISOString(),
    source: req.source,
    evidence: JSON.stringify(req.evidence ?? null),
    decidedAt: req.decidedAt.toISOString(),
    recordedAt: opts.now.toISOString(),
    detail,
    forced: opts.forced ? 1 : 0,
  });
  return Number(changes) === 1;
}

/** The ids of the requests whose (mapped) status was refused for that call before. */
export function refusedBeforeIn(
  db: Connection,
  statusMap: Readonly<Record<string, string>>,
  reqs: readonly EndRequest[],
): Set<string> {
  if (reqs.length === 0) return new Set();
  const pairs = JSON.stringify(reqs.map((r) => [r.call.id, mapStatus(statusMap, r.newStatus)]));
  const rows = db.prepare(REFUSED_BEFORE_SQL).all({ pairs }) as Array<{ call_id: string }>;
  return new Set(rows.map((r) => r.call_id));
}
