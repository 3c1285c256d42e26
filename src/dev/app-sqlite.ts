/**
 * The same app on SQLite: its `call_history.db` as its Python code creates and writes it (the same calls table
 * as app-table.ts, plus its transcripts table). The demo's SQLite scenario and the tests write it as the app
 * does, through the driver directly: this is the app's side, not the daemon's.
 */
import { DatabaseSync } from "@photostructure/sqlite";
import { type AppCall, appRowValues, type StoredAppCall } from "./app-table.js";

/** The app's own DDL, exactly, its own index included (which does not serve the daemon's listing). */
export const APP_SQLITE_DDL = `CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, call_type TEXT NOT NULL, caller_number TEXT,
  callee_number TEXT, started_at TEXT NOT NULL, ended_at TEXT, duration_seconds REAL, status TEXT NOT NULL,
  recording_path TEXT, transcript_path TEXT, has_audio BOOLEAN DEFAULT FALSE, has_transcript BOOLEAN DEFAULT FALSE,
  metadata TEXT);
CREATE TABLE IF NOT EXISTS transcripts (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL,
  speaker TEXT, text TEXT, created_at TEXT);
CREATE INDEX IF NOT EXISTS idx_calls_started_at ON calls(started_at);`;

/** The index that serves the daemon's listing on the app's file (what `doctor` advises on SQLite). */
export const APP_SQLITE_LISTING_INDEX_SQL =
  'CREATE INDEX IF NOT EXISTS call_reconciler_calls_active_idx ON "calls" ("started_at", "call_id") WHERE "status" = \'active\'';

/** Opens the file as the app does: one connection for one operation, closed after it. */
function asTheApp<T>(path: string, work: (db: InstanceType<typeof DatabaseSync>) => T): T {
  // Python's sqlite3.connect: a 5 s busy timeout, the file's journal mode left as it is.
  const db = new DatabaseSync(path, { timeout: 5_000 });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** Creates the app's file (or opens an existing one) with its tables. */
export function createAppFile(path: string): void {
  asTheApp(path, (db) => db.exec(APP_SQLITE_DDL));
}

/** Runs a statement on the file as its owner would in the `sqlite3` shell (the index `doctor` advises). */
export function execAppFile(path: string, sql: string): void {
  asTheApp(path, (db) => db.exec(sql));
}

/** Inserts rows as the app writes them (text times in its own format), in one transaction. */
export function seedAppFile(path: string, calls: readonly AppCall[]): void {
  asTheApp(path, (db) => {
    const insert = db.prepare(
      `INSERT INTO calls (call_id, call_type, caller_number, callee_number, started_at, ended_at,
         duration_seconds, status) VALUES (?, ?, '+15005550006', '+15005550001', ?, ?, ?, ?)`,
    );
    db.exec("BEGIN");
    try {
      for (const c of calls) {
        insert.run(...appRowValues(c));
      }
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  });
}

/** The rows as the app would read them back: its own text, untouched by any conversion. */
export function readAppFile(path: string, ids: readonly string[]): StoredAppCall[] {
  return asTheApp(path, (db) => {
    const read = db.prepare(
      "SELECT call_id, status, started_at, ended_at, duration_seconds FROM calls WHERE call_id = ?",
    );
    return [...ids].sort().flatMap((id) => {
      const r = read.get(id) as
        | {
            call_id: string;
            status: string;
            started_at: string;
            ended_at: string | null;
            duration_seconds: number | null;
          }
        | undefined;
      return r === undefined
        ? []
        : [
            {
              callId: r.call_id,
              status: r.status,
              startedAt: r.started_at,
              endedAt: r.ended_at,
              durationSeconds: r.duration_seconds,
            },
          ];
    });
  });
}
