/**
 * The daemon's own tables in the app's SQLite file, beside its calls table: in the same file so that an end and
 * its audit row (and its cause) commit in one transaction. Named `call_reconciler_*`, like on PostgreSQL;
 * `DROP TABLE` each to remove the daemon from the file (docs/sqlite.md).
 *
 * Times are ISO 8601 text in UTC with milliseconds (`Date.toISOString()`): they sort as text and read as
 * themselves in the `sqlite3` shell. Applied in order, each exactly once; never edit a shipped entry, append.
 */
import { OWN_TABLE_NAMES } from "../model/index.js";

export const OWN_TABLES = OWN_TABLE_NAMES;

export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

const t = OWN_TABLES;

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "the daemon's state: audit trail, lease, holds, sightings, causes, binding",
    sql: `
      CREATE TABLE IF NOT EXISTS ${t.actions} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        previous_status TEXT NOT NULL,
        previous_ended_at TEXT,
        new_status TEXT NOT NULL,
        provider_status TEXT,
        ended_at TEXT,
        duration_seconds REAL,
        previous_duration_seconds REAL,
        source TEXT NOT NULL,
        evidence TEXT NOT NULL,
        decided_at TEXT,
        recorded_at TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'ended' CHECK (outcome IN ('ended', 'refused', 'reverted')),
        detail TEXT,
        forced INTEGER NOT NULL DEFAULT 0,
        reverts INTEGER,
        CHECK (CASE WHEN outcome = 'reverted' THEN reverts IS NOT NULL AND ended_at IS NULL
          ELSE reverts IS NULL AND ended_at IS NOT NULL END)
      );
      CREATE INDEX IF NOT EXISTS ${t.actions}_call_id_idx ON ${t.actions} (call_id);
      CREATE INDEX IF NOT EXISTS ${t.actions}_run_id_idx ON ${t.actions} (run_id);
      CREATE UNIQUE INDEX IF NOT EXISTS ${t.actions}_refused_once_idx
        ON ${t.actions} (call_id, new_status) WHERE outcome = 'refused';
      CREATE UNIQUE INDEX IF NOT EXISTS ${t.actions}_reverts_idx ON ${t.actions} (reverts) WHERE reverts IS NOT NULL;

      CREATE TABLE IF NOT EXISTS ${t.leases} (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        -- Milliseconds since the epoch on this host's clock: every replica of a SQLite file is on this host.
        expires_at INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
      );

      CREATE TABLE IF NOT EXISTS ${t.holds} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id TEXT NOT NULL,
        reason TEXT,
        held_by TEXT NOT NULL,
        run_id TEXT,
        held_at TEXT NOT NULL,
        released_at TEXT,
        released_by TEXT
      );
      CREATE UNIQUE INDEX IF NOT EXISTS ${t.holds}_current_idx ON ${t.holds} (call_id) WHERE released_at IS NULL;

      CREATE TABLE IF NOT EXISTS ${t.sightings} (
        realtime_call_id TEXT PRIMARY KEY,
        first_gone_at TEXT,
        last_live_at TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${t.sightings}_last_live_idx ON ${t.sightings} (last_live_at);
      CREATE INDEX IF NOT EXISTS ${t.sightings}_updated_idx ON ${t.sightings} (updated_at);

      CREATE TABLE IF NOT EXISTS ${t.causes} (
        call_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        source TEXT NOT NULL,
        call_sid TEXT,
        account_sid TEXT,
        direction TEXT,
        provider_status TEXT,
        started_at TEXT,
        provider_ended_at TEXT NOT NULL,
        ended_here_at TEXT NOT NULL,
        cause TEXT,
        detail TEXT,
        due_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        diagnosed_at TEXT
      );
      CREATE INDEX IF NOT EXISTS ${t.causes}_due_idx ON ${t.causes} (due_at) WHERE cause IS NULL;
      CREATE INDEX IF NOT EXISTS ${t.causes}_ended_here_idx ON ${t.causes} (ended_here_at);

      CREATE TABLE IF NOT EXISTS ${t.binding} (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        calls_table TEXT NOT NULL,
        bound_at TEXT NOT NULL
      );`,
  },
];

export const LEDGER_SQL = `CREATE TABLE IF NOT EXISTS ${t.migrations} (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;
export const APPLIED_VERSIONS_SQL = `SELECT version FROM ${t.migrations}`;
export const RECORD_VERSION_SQL = `INSERT INTO ${t.migrations} (version, name, applied_at) VALUES (?, ?, ?)`;
