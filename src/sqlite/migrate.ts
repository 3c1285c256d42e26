import type { SqliteFile } from "./file.js";
import { APPLIED_VERSIONS_SQL, LEDGER_SQL, RECORD_VERSION_SQL, SQLITE_MIGRATIONS } from "./own-tables.js";

export type JournalMode = "wal" | "delete" | "truncate" | "persist";

/**
 * Brings the daemon's tables in the file up to date, in one write transaction (a second `migrate` waits for
 * it, then finds nothing to do). Returns the versions applied now. The app's tables are never touched.
 */
export async function migrateOwnTables(
  file: SqliteFile,
  now: () => Date = () => new Date(),
): Promise<number[]> {
  return file.write((db) => {
    db.exec(LEDGER_SQL);
    const applied = new Set(
      (db.prepare(APPLIED_VERSIONS_SQL).all() as Array<{ version: number }>).map((r) => Number(r.version)),
    );
    const done: number[] = [];
    for (const m of SQLITE_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare(RECORD_VERSION_SQL).run(m.version, m.name, now().toISOString());
      done.push(m.version);
    }
    return done;
  });
}

/** The newest version `migrateOwnTables` applies: a file behind it needs `migrate`. */
export const LATEST_SQLITE_MIGRATION = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));

/**
 * SQLITE_JOURNAL_MODE: sets the file's journal mode (outside any transaction, as SQLite requires) and returns the
 * mode the file is in after. The mode is kept in the file, for the app's connections too.
 */
export async function setJournalMode(file: SqliteFile, mode: JournalMode): Promise<string> {
  return file.read((db) => {
    const row = db.prepare(`PRAGMA journal_mode = ${mode}`).get() as { journal_mode: string } | undefined;
    return String(row?.journal_mode ?? "");
  });
}

/** The file's journal mode now (`delete`, `wal`, …). */
export async function journalMode(file: SqliteFile): Promise<string> {
  return file.read((db) => {
    const row = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string } | undefined;
    return String(row?.journal_mode ?? "");
  });
}
