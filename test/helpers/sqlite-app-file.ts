import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "@photostructure/sqlite";
import type { CallsTableMapping } from "../../src/config/config.js";
import { APP_SQLITE_DDL } from "../../src/dev/app-sqlite.js";
import { pythonIsoformat } from "../../src/dev/app-table.js";
import { SqliteFile } from "../../src/sqlite/file.js";
import { migrateOwnTables } from "../../src/sqlite/migrate.js";

/** The app's table as the README's worked example maps it. */
export const APP_MAPPING: CallsTableMapping = {
  table: "calls",
  id: "call_id",
  twilioSid: "call_id",
  openaiId: "call_id",
  status: "status",
  startedAt: "started_at",
  endedAt: "ended_at",
  duration: "duration_seconds",
  timeZone: "UTC",
};

export interface AppFile {
  dir: string;
  path: string;
  /** The daemon's connection. */
  file: SqliteFile;
  /** The app's own connection, as Python opens one. */
  app: InstanceType<typeof DatabaseSync>;
  close(): void;
}

/** A temp dir with the app's file (its DDL) and, unless `own` is false, the daemon's tables migrated. */
export async function appFile(opts: { own?: boolean } = {}): Promise<AppFile> {
  const dir = mkdtempSync(join(tmpdir(), "sqlite-app-"));
  const path = join(dir, "calls.db");
  const app = new DatabaseSync(path);
  app.exec(APP_SQLITE_DDL);
  const file = new SqliteFile(path, { busyTimeoutMs: 2_000 });
  if (opts.own !== false) await migrateOwnTables(file);
  return {
    dir,
    path,
    file,
    app,
    close: () => {
      file.close();
      if (app.isOpen) app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A call row as the app inserts it, times as `isoformat()` writes them. */
export function insertCall(
  app: AppFile["app"],
  c: {
    id: string;
    status?: string;
    startedAt: Date;
    endedAt?: Date | null;
    duration?: number | null;
  },
): void {
  app
    .prepare(
      "INSERT INTO calls (call_id, call_type, started_at, ended_at, duration_seconds, status) VALUES (?, 'inbound', ?, ?, ?, ?)",
    )
    .run(
      c.id,
      pythonIsoformat(c.startedAt),
      c.endedAt == null ? null : pythonIsoformat(c.endedAt),
      c.duration ?? null,
      c.status ?? "active",
    );
}
