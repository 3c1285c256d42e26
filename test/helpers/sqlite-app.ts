/**
 * The app's SQLite file as its Python code creates it (its exact DDL), in a temporary directory, with the
 * daemon's tables migrated beside it; the app's own connection to it; and the mapping an operator exports.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync, type DatabaseSyncInstance } from "@photostructure/sqlite";
import { type Config, loadConfig } from "../../src/config/config.js";
import { APP_SQLITE_DDL } from "../../src/dev/app-sqlite.js";
import { APP_TABLE_SETTINGS } from "../../src/dev/app-table.js";
import type { ActiveCall, EndRequest } from "../../src/model/index.js";
import { SqliteFile } from "../../src/sqlite/file.js";
import { migrateOwnTables } from "../../src/sqlite/migrate.js";
import { SqliteCallStore, type SqliteStoreOptions } from "../../src/sqlite/store.js";

export interface AppFile {
  path: string;
  /** The app's own connection (as Python's sqlite3 opens one). */
  app: DatabaseSyncInstance;
  /** The daemon's connection, its tables migrated. */
  file: SqliteFile;
  config: Config;
  store(opts?: SqliteStoreOptions): SqliteCallStore;
  /** Inserts a call as the app does. */
  insert(row: {
    id: string;
    status?: string;
    startedAt: string;
    endedAt?: string | null;
    duration?: number | null;
  }): void;
  close(): void;
}

export async function appFile(
  env: Record<string, string | undefined> = {},
  ddl: string = APP_SQLITE_DDL,
): Promise<AppFile> {
  const dir = mkdtempSync(join(tmpdir(), "sqlite-store-"));
  const path = join(dir, "app.db");
  const app = new DatabaseSync(path, { timeout: 5_000 });
  app.exec(ddl);
  const file = new SqliteFile(path, { busyTimeoutMs: 2_000 });
  await migrateOwnTables(file);
  const config = loadConfig({ ...APP_TABLE_SETTINGS, DATABASE_URL: `sqlite://${path}`, ...env });
  const insert = () =>
    app.prepare(
      "INSERT INTO calls (call_id, call_type, started_at, ended_at, duration_seconds, status) VALUES (?, 'outbound', ?, ?, ?, ?)",
    );
  return {
    path,
    app,
    file,
    config,
    store: (opts = {}) =>
      new SqliteCallStore(file, config.calls, config.activeStatuses, {
        statusMap: config.statusMap,
        ...opts,
      }),
    insert: (r) =>
      insert().run(r.id, r.startedAt, r.endedAt ?? null, r.duration ?? null, r.status ?? "active"),
    close: () => {
      file.close();
      if (app.isOpen) app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `CA` and 32 hex digits: a Twilio Call SID numbered `n`. */
export const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;

export function endRequest(call: ActiveCall, overrides: Partial<EndRequest> = {}): EndRequest {
  return {
    call,
    newStatus: "completed",
    endedAt: new Date(call.startedAt.getTime() + 61_234),
    durationSeconds: 61.2345,
    source: "twilio",
    runId: "00000000-0000-4000-8000-000000000001",
    evidence: { twilio: { kind: "ended", direction: "outbound-api" } },
    decidedAt: new Date(call.startedAt.getTime() + 3_600_000),
    ...overrides,
  };
}
