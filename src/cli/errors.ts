import { ConfigError } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { EventSinkListenError } from "../events/sink-server.js";
import { SchemaMismatchError } from "../model/index.js";
import { ListenError } from "../server/http.js";
import { errorCode, SqliteBusyError } from "./database.js";

/** Bad command-line usage: one line and exit code 2, like a bad config. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** `crashed` is the daemon's exit after an unexpected error, once it has shut down cleanly. */
export const EXIT = { ok: 0, zombiesLeft: 1, crashed: 1, badConfig: 2, unverified: 3 } as const;

/** pg's words when DATABASE_URL asks for TLS (sslmode=require, ssl=true) and the server has none. */
const NO_TLS = /server does not support SSL connections/i;

/**
 * A database error at start-up that waiting cannot fix (a wrong password or database name, a missing
 * privilege, TLS asked of a server without it): `run` stops with its one line instead of retrying for ever.
 * A database that is down or unreachable is not one of them: the daemon waits for it.
 */
export function isDatabaseConfigError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === "28P01" ||
    code === "28000" ||
    code === "3D000" ||
    code === "42501" ||
    NO_TLS.test(errorMessage(err))
  );
}

/**
 * Turns the failures an operator can fix (config, usage, schema, an unreachable database) into one clear
 * line. Anything else is a bug and keeps its stack trace.
 */
export function explainFatal(err: unknown): string | null {
  if (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof SchemaMismatchError ||
    err instanceof ListenError ||
    err instanceof EventSinkListenError ||
    err instanceof SqliteBusyError
  ) {
    return err.message;
  }
  const code = errorCode(err);
  const message = errorMessage(err);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ETIMEDOUT") {
    return `DATABASE_URL: cannot reach the database (${code}: ${message})`;
  }
  if (code === "28P01" || code === "28000") {
    return `DATABASE_URL: authentication failed (${message}): check the user name and password in DATABASE_URL`;
  }
  if (code === "3D000") return `DATABASE_URL: ${message}: check the database name at the end of DATABASE_URL`;
  if (code === "42501") {
    return `the database role may not do this (${message}): \`migrate\` runs as the owner of the daemon's tables, or a role with CREATE on RECONCILER_SCHEMA; run, audit, simulate, revert and hold need the GRANTs in the README's "Database privileges" step (in full: docs/operations.md)`;
  }
  if (NO_TLS.test(message)) {
    return "DATABASE_URL: the server does not offer TLS, but the URL asks for it (sslmode): use sslmode=disable, or enable TLS on the server";
  }
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(message)) {
    return `DATABASE_URL: cannot reach the database (${message})`;
  }
  return null;
}
