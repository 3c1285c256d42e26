/**
 * SQLite's answer when another connection (the app) holds the lock the daemon needs: SQLITE_BUSY (5) or
 * SQLITE_LOCKED (6), in any of their extended forms (the low byte is the primary code).
 */
export function isBusy(err: unknown): boolean {
  const code = errcodeOf(err);
  return code !== undefined && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/**
 * SQLite's own text of a result code (sqlite3_errstr), for the driver's errors that carry only that text: a
 * statement's `all()` and `iterate()` throw `ERR_SQLITE_ERROR` without `errcode` when a step fails.
 */
const CODE_OF_TEXT: ReadonlyMap<string, number> = new Map([
  ["database is locked", 5],
  ["database table is locked", 6],
]);

/** The SQLite result code an error carries (the driver sets `errcode`, or only SQLite's text of it), if any. */
export function errcodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  if ("errcode" in err && typeof err.errcode === "number") return err.errcode;
  if (!("code" in err) || err.code !== "ERR_SQLITE_ERROR" || !(err instanceof Error)) return undefined;
  return CODE_OF_TEXT.get(err.message);
}

/**
 * The file stayed locked by another connection for the whole SQLITE_BUSY_TIMEOUT_MS: a problem of this moment,
 * not of the rows. What was asked is not done (a write is rolled back whole); a pass tries again later.
 */
export class SqliteBusyError extends Error {
  override name = "SqliteBusyError";
}
