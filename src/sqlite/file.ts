/**
 * The daemon's one connection to the app's SQLite file. The driver is synchronous: a statement runs to its end
 * without yielding, so a lock is never held across an await (a provider request, a timer). A write is one
 * synchronous function inside BEGIN IMMEDIATE … COMMIT, so its transaction is as short as its statements.
 *
 * The app opens a connection per operation and waits up to its own busy timeout (Python's default: 5 s) for
 * the file's lock. The daemon waits for the app's lock in short blocking steps (STEP_MS, the driver's own busy
 * timeout) with pauses in between that yield to the event loop, up to SQLITE_BUSY_TIMEOUT_MS in all: a long
 * blocking wait would stall the daemon's metrics and provider requests, and hold a lock request the app waits behind.
 */
import { existsSync } from "node:fs";
import { DatabaseSync, type DatabaseSyncInstance } from "@photostructure/sqlite";
import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import { ConfigError } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { errcodeOf, isBusy, SqliteBusyError } from "./busy.js";

/** The driver's blocking wait for a lock, per attempt. */
const STEP_MS = 50;

export type Connection = DatabaseSyncInstance;

export interface SqliteFileOptions {
  /** SQLITE_BUSY_TIMEOUT_MS: how long one read or write may wait for other connections' locks in all. */
  busyTimeoutMs: number;
  /** Create the file when it is missing (`migrate --with-calls-table`, the demo); otherwise a missing file is refused. */
  create?: boolean;
  /** Opened read-only (`simulate` promises to write nothing): SQLite itself refuses any write. */
  readOnly?: boolean;
}

export class SqliteFile {
  /** Opened on first use: `doctor` reports a missing file as one of its lines rather than failing to start. */
  private opened: DatabaseSyncInstance | null = null;

  constructor(
    readonly path: string,
    private readonly opts: SqliteFileOptions,
  ) {}

  private get db(): DatabaseSyncInstance {
    if (this.opened === null) {
      if (this.opts.create !== true && !existsSync(this.path)) {
        throw new SqliteFileMissingError(
          `DATABASE_URL: there is no SQLite file at ${this.path} (the app creates it: check the path and the volume the daemon mounts)`,
        );
      }
      this.opened = new DatabaseSync(this.path, {
        timeout: Math.min(STEP_MS, this.opts.busyTimeoutMs),
        ...(this.opts.readOnly === true ? { readOnly: true } : {}),
      });
    }
    return this.opened;
  }

  /** Runs `fn` (synchronous statements, no transaction of its own), waiting out other connections' locks. */
  read<T>(fn: (db: Connection) => T): Promise<T> {
    return this.patiently(() => fn(this.db));
  }

  /**
   * Runs `fn` in one write transaction, taken at once (BEGIN IMMEDIATE: the file's write lock before the first
   * read, so what `fn` reads cannot change before it writes). All of `fn` or none of it; retried whole while
   * another connection holds the lock.
   */
  write<T>(fn: (db: Connection) => T): Promise<T> {
    return this.patiently(() => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn(this.db);
        this.db.exec("COMMIT");
        return result;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  close(): void {
    if (this.opened?.isOpen === true) this.opened.close();
  }

  private async patiently<T>(attempt: () => T): Promise<T> {
    const deadline = performance.now() + this.opts.busyTimeoutMs;
    // cockatiel's retry with a backoff; the deadline, not a count, bounds it (an attempt past it is not made).
    const policy = retry(
      handleWhen((err) => isBusy(err) && performance.now() < deadline),
      {
        maxAttempts: Number.MAX_SAFE_INTEGER,
        backoff: new ExponentialBackoff({ initialDelay: 10, maxDelay: 250 }),
      },
    );
    try {
      return await policy.execute(attempt);
    } catch (err) {
      if (!isBusy(err)) throw unusableFile(err, this.path) ?? err;
      throw new SqliteBusyError(
        `the SQLite file ${this.path} stayed locked by another connection for ${this.opts.busyTimeoutMs} ms (SQLITE_BUSY_TIMEOUT_MS); nothing was written, the next pass tries again`,
        { cause: err },
      );
    }
  }
}

/** DATABASE_URL names no file, or one this user cannot use: a configuration problem, told in one line. */
export class SqliteFileMissingError extends ConfigError {
  override name = "SqliteFileMissingError";
}

/**
 * SQLite's answers that say the file cannot be used as it is (by this user, from this directory), as one line
 * with what to check: SQLITE_READONLY (8: the file, or its directory where the journal, `-wal` and `-shm` files
 * go, is not writable), SQLITE_CANTOPEN (14), SQLITE_NOTADB (26). Null for any other error.
 */
export function unusableFile(err: unknown, path: string): SqliteFileMissingError | null {
  const code = errcodeOf(err);
  const primary = code === undefined ? undefined : code & 0xff;
  const why =
    primary === 8
      ? "is read-only for this user: the file, and its directory (SQLite writes its journal, or its -wal and -shm files, beside it), must be writable by the user the daemon runs as"
      : primary === 14
        ? "cannot be opened: check that its directory exists and this user may enter and read it"
        : primary === 26
          ? "is not a SQLite database: check the path in DATABASE_URL"
          : null;
  return why === null
    ? null
    : new SqliteFileMissingError(`DATABASE_URL: ${path} ${why} (${errorMessage(err)})`, { cause: err });
}
