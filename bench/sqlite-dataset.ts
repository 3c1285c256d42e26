/**
 * The same run's data in the app's SQLite file: the app's exact DDL (src/dev/app-sqlite.ts), the rows of the
 * PostgreSQL run's truth (`bench_truth`, with the starts as the app writes them), the daemon's tables created by
 * its own `migrate`, and the listing index `doctor` advises for this file. The truth stays in PostgreSQL: the
 * simulator is loaded from it as for the PostgreSQL passes, and the file is checked against it afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "@photostructure/sqlite";
import { openDatabase } from "../src/cli/database.js";
import { loadConfig } from "../src/config/config.js";
import { APP_SQLITE_DDL } from "../src/dev/app-sqlite.js";
import { APP_TABLE_SETTINGS } from "../src/dev/app-table.js";
import type { Database } from "../src/model/index.js";
import { seedAppTruth } from "./app-dataset.js";
import { type BenchDatabase, type Verification, verdict } from "./dataset.js";

export interface SqliteBenchFile {
  /** DATABASE_URL of the file, as the daemon is given it. */
  url: string;
  path: string;
  /** The file's journal mode, as the app leaves it (`delete`: a rollback journal). */
  journalMode: string;
  /** The listing index created, as `doctor` advised it. */
  listingIndex: string;
  remove(): void;
}

/** The settings the child runs with: the app's mapping on its file. */
export const sqliteSettings = (url: string) => ({ ...APP_TABLE_SETTINGS, DATABASE_URL: url });

interface TruthRow {
  sid: string;
  started_text: string;
  zombie: boolean;
  duration_s: number;
  ended_at: Date | null;
}

/**
 * Seeds the truth in PostgreSQL (`db`), then writes its rows into a new SQLite file as the app writes them: one
 * transaction, one prepared INSERT, `active`, the Call SID as `call_id`. Then what an operator does before the
 * first run: `migrate`, and the statement `doctor` advises for the listing (which must then serve it).
 */
export async function seedSqliteFile(
  db: BenchDatabase,
  rows: number,
  zombiePct: number,
): Promise<{ file: SqliteBenchFile; zombies: number }> {
  const truth = await seedAppTruth(db, rows, zombiePct);
  const dir = mkdtempSync(join(tmpdir(), "bench-sqlite-"));
  const path = join(dir, "call_history.db");
  const url = `sqlite://${path}`;
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const { rows: truthRows } = await db.pool.query<TruthRow>(
      "SELECT sid, started_text FROM bench_truth ORDER BY i",
    );
    let journalMode = "";
    const app = new DatabaseSync(path, { timeout: 5_000 });
    try {
      app.exec(APP_SQLITE_DDL);
      journalMode = (app.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
      const insert = app.prepare(
        `INSERT INTO calls (call_id, call_type, caller_number, callee_number, started_at, ended_at,
           duration_seconds, status, metadata)
         VALUES (?, 'outbound', '+15005550006', '+15005550001', ?, NULL, NULL, 'active',
           '{"agent": "default", "language": "en"}')`,
      );
      app.exec("BEGIN");
      try {
        for (const r of truthRows) insert.run(r.sid, r.started_text);
        app.exec("COMMIT");
      } catch (err) {
        app.exec("ROLLBACK");
        throw err;
      }
    } finally {
      app.close();
    }
    truthRows.length = 0;
    const listingIndex = await prepareFile(url);
    return { file: { url, path, journalMode, listingIndex, remove }, zombies: truth.zombies };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * `migrate` and the advised listing index, through the daemon's own port, each a process of its own as the
 * operator runs them (`migrate`, `doctor`, the sqlite3 shell, `doctor` again); returns the statement run.
 */
async function prepareFile(url: string): Promise<string> {
  const open = () => openDatabase(loadConfig(sqliteSettings(url)));
  const advised = await withDatabase(open, async (database) => {
    await database.migrate({ withCallsTable: false });
    return database.store.listingIndex();
  });
  if (advised.usable) throw new Error(`an index already serves the listing: ${advised.index}`);
  const shell = new DatabaseSync(url.slice("sqlite://".length), { timeout: 5_000 });
  try {
    shell.exec(advised.statement);
  } finally {
    shell.close();
  }
  const after = await withDatabase(open, (database) => database.store.listingIndex());
  if (!after.usable) throw new Error(`the advised index does not serve the listing: ${advised.statement}`);
  return advised.statement;
}

async function withDatabase<T>(open: () => Promise<Database>, work: (d: Database) => Promise<T>): Promise<T> {
  const database = await open();
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

interface FileRow {
  call_id: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  duration_seconds: number | null;
}

interface AuditRow {
  call_id: string;
  source: string;
  new_status: string;
  ended_at: string | null;
}

/** Twilio's end time as the daemon writes it in the rows' format: the rows' longest fraction, microseconds. */
const endText = (d: Date) =>
  `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds() * 1000).padStart(6, "0")}`;

/**
 * After the pass, as verifyAppDataset checks the PostgreSQL app table: every zombie `completed` with Twilio's
 * exact end as text in the rows' format and Twilio's duration, one audit row from Twilio each; no live row
 * touched (status, start text, end, duration), no audit row for it.
 */
export async function verifySqliteFile(db: BenchDatabase, file: SqliteBenchFile): Promise<Verification> {
  const { rows: truth } = await db.pool.query<TruthRow>(
    "SELECT sid, started_text, zombie, duration_s, ended_at FROM bench_truth",
  );
  const reader = new DatabaseSync(file.path, { readOnly: true, timeout: 5_000 });
  let calls: FileRow[];
  let audit: AuditRow[];
  try {
    calls = reader
      .prepare("SELECT call_id, status, started_at, ended_at, duration_seconds FROM calls")
      .all() as unknown as FileRow[];
    audit = reader
      .prepare("SELECT call_id, source, new_status, ended_at FROM call_reconciler_actions")
      .all() as unknown as AuditRow[];
  } finally {
    reader.close();
  }
  const byId = new Map(calls.map((c) => [c.call_id, c]));
  const truthById = new Map(truth.map((t) => [t.sid, t]));
  const v: Omit<Verification, "ok"> = {
    zombies: 0,
    zombiesEndedExactly: 0,
    zombiesWrong: 0,
    liveTouched: 0,
    auditRows: audit.length,
    auditRowsWrong: 0,
  };
  for (const t of truth) {
    const c = byId.get(t.sid);
    if (t.zombie) {
      v.zombies++;
      const exact =
        c !== undefined &&
        t.ended_at !== null &&
        c.status === "completed" &&
        c.ended_at === endText(t.ended_at) &&
        c.duration_seconds === t.duration_s &&
        c.started_at === t.started_text;
      if (exact) v.zombiesEndedExactly++;
      else if (c === undefined || c.status !== "active") v.zombiesWrong++;
    } else if (
      c === undefined ||
      c.status !== "active" ||
      c.ended_at !== null ||
      c.duration_seconds !== null ||
      c.started_at !== t.started_text
    ) {
      v.liveTouched++;
    }
  }
  for (const a of audit) {
    const t = truthById.get(a.call_id);
    const right =
      t?.zombie === true &&
      t.ended_at !== null &&
      a.source === "twilio" &&
      a.new_status === "completed" &&
      a.ended_at !== null &&
      new Date(a.ended_at).getTime() === t.ended_at.getTime();
    if (!right) v.auditRowsWrong++;
  }
  return verdict(v);
}
