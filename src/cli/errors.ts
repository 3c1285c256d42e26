import { ConfigError } from "../config/config.js";
import { pgCode, SchemaMismatchError } from "../db/store.js";
import { errorMessage } from "../error-message.js";
import { ListenError } from "../server/http.js";

/** Bad command-line usage: one line and exit code 2, like a bad config. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const EXIT = { ok: 0, zombiesLeft: 1, badConfig: 2, unverified: 3 } as const;

/**
 * Turns the failures an operator can fix (config, usage, schema, an unreachable database) into one clear
 * line. Anything else is a bug and keeps its stack trace.
 */
export function explainFatal(err: unknown): string | null {
  if (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof SchemaMismatchError ||
    err instanceof ListenError
  ) {
    return err.message;
  }
  const code = pgCode(err);
  const message = errorMessage(err);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ETIMEDOUT") {
    return `DATABASE_URL: cannot reach the database (${code}: ${message})`;
  }
  if (code === "28P01" || code === "28000") return `DATABASE_URL: authentication failed (${message})`;
  if (code === "3D000") return `DATABASE_URL: ${message}`;
  if (code === "42501") {
    return `the database role may not do this (${message}): \`migrate\` runs as the owner of the daemon's tables, or a role with CREATE on RECONCILER_SCHEMA; run, audit, revert and hold need the GRANTs that README's "Database privileges" lists`;
  }
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(message)) {
    return `DATABASE_URL: cannot reach the database (${message})`;
  }
  return null;
}
