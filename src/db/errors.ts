import { settingsNaming } from "../config/column-settings.js";
import type { CallsTableMapping } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { RowLockedError, RowRefusedError, SchemaMismatchError } from "../model/index.js";

export { SchemaMismatchError };

export function pgCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}

export function explainSchemaError(err: unknown, m: CallsTableMapping): Error {
  const code = pgCode(err);
  const message = errorMessage(err);
  if (code === "42P01") {
    return new SchemaMismatchError(`CALLS_TABLE: table ${m.table} does not exist (${message})`);
  }
  if (code === "42703") {
    // pg names the column it could not find: `column "twiliosid" does not exist`.
    const column = /column "([^"]+)"/.exec(message)?.[1];
    const which = settingsNaming(m, column);
    return new SchemaMismatchError(
      `${which}: table ${m.table} lacks the column (${message}); names are case-sensitive`,
    );
  }
  return err instanceof Error ? err : new Error(message);
}

/**
 * What a failed end means for the pass. SQLSTATE classes 22 (data exception) and 23 (integrity constraint
 * violation) are about the values written: RowRefusedError. 55P03 (lock_not_available: lock_timeout ran out)
 * is someone else's lock: RowLockedError. Both let the pass tell them from a lost connection or a timeout,
 * which are thrown as they are.
 */
export function endError(err: unknown): unknown {
  const code = pgCode(err);
  if (code === "55P03") return new RowLockedError(errorMessage(err), { cause: err });
  return code !== undefined && (code.startsWith("22") || code.startsWith("23"))
    ? new RowRefusedError(errorMessage(err), code, { cause: err })
    : err;
}
