/**
 * The one door of the commands to a database: DATABASE_URL names PostgreSQL or a SQLite file, and each
 * command gets the port (model/database.ts), never the store behind it.
 */
import { type Config, ConfigError } from "../config/config.js";
import { openPostgres } from "../db/database.js";
import type { Database, OpenDatabaseOptions } from "../model/index.js";

/** The code of a database or network error (a SQLSTATE, `ECONNREFUSED`), for the one-line explanations. */
export { pgCode as errorCode } from "../db/errors.js";
/** The SQLite file stayed locked by the app for SQLITE_BUSY_TIMEOUT_MS: one line, nothing written. */
export { SqliteBusyError } from "../sqlite/busy.js";

export async function openDatabase(config: Config, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const target = config.database;
  if (target === undefined) {
    throw new ConfigError(
      "DATABASE_URL is required (postgres://user:password@host:5432/db, or sqlite:///absolute/path/calls.db)",
    );
  }
  if (target.kind === "sqlite") {
    // Loaded only for a SQLite file: its native driver is no start-up cost of a PostgreSQL deployment.
    const { openSqlite } = await import("../sqlite/database.js");
    return openSqlite(config, target, opts);
  }
  return openPostgres(config, target.url, opts);
}
