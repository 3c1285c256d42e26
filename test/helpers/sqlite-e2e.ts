/**
 * The app's SQLite file for end-to-end tests of the built CLI: a temp dir holding the file as the app creates it,
 * the environment an operator exports for it, and reads of it through the driver as a separate connection (as
 * the app or an operator's shell would: opened for one read, closed after).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "@photostructure/sqlite";
import { createAppFile } from "../../src/dev/app-sqlite.js";
import { APP_TABLE_SETTINGS, pythonIsoformat } from "../../src/dev/app-table.js";

export interface E2eFile {
  dir: string;
  path: string;
  /** DATABASE_URL and the mapping of the app's table. */
  env: Record<string, string>;
  /** Runs one statement on a connection of its own and returns its rows. */
  query<T>(sql: string, ...params: Array<string | number | null>): T[];
  /** Runs statements on a connection of its own (the app's writes). */
  exec(sql: string, ...params: Array<string | number | null>): void;
  remove(): void;
}

export function e2eFile(prefix: string): E2eFile {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "call_history.db");
  createAppFile(path);
  const withDb = <T>(work: (db: InstanceType<typeof DatabaseSync>) => T): T => {
    const db = new DatabaseSync(path, { timeout: 5_000 });
    try {
      return work(db);
    } finally {
      db.close();
    }
  };
  return {
    dir,
    path,
    env: { ...APP_TABLE_SETTINGS, DATABASE_URL: `sqlite://${path}` },
    query: <T>(sql: string, ...params: Array<string | number | null>) =>
      withDb((db) => db.prepare(sql).all(...params) as T[]),
    exec: (sql, ...params) =>
      withDb((db) => {
        db.prepare(sql).run(...params);
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The schema of the app's own objects as the file records it, in a stable order. */
export function appSchema(
  f: E2eFile,
): Array<{ type: string; name: string; tbl_name: string; sql: string | null }> {
  return f.query(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ('calls', 'transcripts', 'sqlite_sequence') AND name NOT LIKE 'call_reconciler%' ORDER BY type, name",
  );
}

/**
 * The end the daemon writes into the app's text column: Python's `isoformat()` with the column's six-digit
 * fraction, written even when it is zero (Python's `fromisoformat` reads both).
 */
export const asWritten = (d: Date): string => {
  const text = pythonIsoformat(d);
  return text.length === 19 ? `${text}.000000` : text;
};

export interface ActionRow {
  id: number;
  run_id: string;
  call_id: string;
  previous_status: string;
  previous_ended_at: string | null;
  new_status: string;
  provider_status: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  previous_duration_seconds: number | null;
  source: string;
  outcome: string;
  forced: number;
  reverts: number | null;
}

export const actionRows = (f: E2eFile): ActionRow[] =>
  f.query<ActionRow>(
    `SELECT id, run_id, call_id, previous_status, previous_ended_at, new_status, provider_status, ended_at,
       duration_seconds, previous_duration_seconds, source, outcome, forced, reverts
     FROM call_reconciler_actions ORDER BY id`,
  );
