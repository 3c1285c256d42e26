import { settingsNaming } from "../config/column-settings.js";
import type { CallsTableMapping } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { SchemaMismatchError } from "../model/index.js";

/**
 * SQLite's `no such table` / `no such column` (result code 1, the generic error, so the message tells them)
 * as what to fix: `migrate` for the daemon's tables, the setting naming a table or column the file lacks.
 * Any other error is returned as it is.
 */
export function explainSchemaError(err: unknown, m?: CallsTableMapping): unknown {
  const message = errorMessage(err);
  const table = /no such table: (?:main\.)?(\w+)/.exec(message)?.[1];
  if (table?.startsWith("call_reconciler_")) {
    return new SchemaMismatchError(
      `the daemon's tables are not in the SQLite file yet (${message}): run \`call-reconciler migrate\` first`,
    );
  }
  if (m === undefined) return err;
  if (table !== undefined) {
    return new SchemaMismatchError(`CALLS_TABLE: the SQLite file has no table ${m.table} (${message})`);
  }
  const column = /no such column: "?(?:\w+\.)*(\w+)/.exec(message)?.[1];
  if (column !== undefined) {
    const which = settingsNaming(m, column);
    return new SchemaMismatchError(`${which}: table ${m.table} lacks the column (${message})`);
  }
  return err;
}
