import type { CallsTableMapping } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { SchemaMismatchError } from "../model/index.js";

/** Each CALLS_COL_* variable and the mapping key it sets. */
const CALLS_COLUMN_VARIABLES: ReadonlyArray<[string, keyof CallsTableMapping]> = [
  ["CALLS_COL_ID", "id"],
  ["CALLS_COL_TWILIO_SID", "twilioSid"],
  ["CALLS_COL_OPENAI_ID", "openaiId"],
  ["CALLS_COL_STATUS", "status"],
  ["CALLS_COL_STARTED_AT", "startedAt"],
  ["CALLS_COL_ENDED_AT", "endedAt"],
  ["CALLS_COL_TWILIO_ACCOUNT", "twilioAccount"],
  ["CALLS_COL_DURATION", "duration"],
];

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
    const variables = CALLS_COLUMN_VARIABLES.filter(([, key]) => m[key] === column);
    const which = variables.length > 0 ? variables.map(([v]) => v).join(" / ") : "a CALLS_COL_* setting";
    return new SchemaMismatchError(`${which}: table ${m.table} lacks the column (${message})`);
  }
  return err;
}
