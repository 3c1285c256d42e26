import { SchemaMismatchError } from "../model/index.js";

/**
 * The daemon's tables are not in the file yet: says what to run instead of SQLite's bare `no such table`
 * (result code 1, the generic error, so the message is what tells it).
 */
export function explainOwnTablesMissing(err: unknown): unknown {
  const message = err instanceof Error ? err.message : "";
  return /no such table: (?:main\.)?call_reconciler_/.test(message)
    ? new SchemaMismatchError(
        `the daemon's tables are not in the SQLite file yet (${message}): run \`call-reconciler migrate\` first`,
      )
    : err;
}

/** A time of the daemon's own tables (ISO text from `Date.toISOString()`), or null. */
export const ownTime = (text: unknown): Date | null =>
  text === null || text === undefined ? null : new Date(String(text));
