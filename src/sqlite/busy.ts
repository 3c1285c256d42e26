/**
 * SQLite's answer when another connection (the app) holds the lock the daemon needs: SQLITE_BUSY (5) or
 * SQLITE_LOCKED (6), in any of their extended forms (the low byte is the primary code).
 */
export function isBusy(err: unknown): boolean {
  const code = errcodeOf(err);
  return code !== undefined && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/** The SQLite result code an error carries (the driver sets `errcode`), if any. */
export function errcodeOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "errcode" in err && typeof err.errcode === "number"
    ? err.errcode
    : undefined;
}

/**
 * The file stayed locked by another connection for the whole SQLITE_BUSY_TIMEOUT_MS: a problem of this moment,
 * not of the rows. What was asked is not done (a write is rolled back whole); a pass tries again later.
 */
export class SqliteBusyError extends Error {
  override name = "SqliteBusyError";
}
