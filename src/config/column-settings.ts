import type { CallsTableMapping } from "./config-types.js";

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

/** Each CALLS_COL_* setting with the column it names (the optional ones only when set, the id ones unless empty). */
export function columnSettings(m: CallsTableMapping): Array<[variable: string, column: string]> {
  return CALLS_COLUMN_VARIABLES.flatMap(([variable, key]) => {
    const column = m[key];
    return typeof column === "string" ? [[variable, column] as [string, string]] : [];
  });
}

/**
 * The settings that name `column` (one column may be named by two, the shared id column), joined for a
 * message; `a CALLS_COL_* setting` when none does.
 */
export function settingsNaming(m: CallsTableMapping, column: string | undefined): string {
  const variables = columnSettings(m).filter(([, c]) => column !== undefined && c === column);
  return variables.length > 0 ? variables.map(([v]) => v).join(" / ") : "a CALLS_COL_* setting";
}

/**
 * The warning when CALLS_COL_STATUS holds none of ACTIVE_STATUSES in a non-empty table (a wrong column, or
 * statuses spelt otherwise): `seen`, up to ten of the values it does hold (ten: there may be more).
 */
export function statusColumnMessage(
  m: CallsTableMapping,
  activeStatuses: readonly string[],
  seen: readonly string[],
): string {
  const held = seen.length === 0 ? "only NULL" : seen.map((v) => JSON.stringify(v)).join(", ");
  return `CALLS_COL_STATUS=${m.status} holds none of ACTIVE_STATUSES (${activeStatuses.join(", ")}) in any row of ${m.table}; it holds ${held}${seen.length === 10 ? ", ..." : ""}: check CALLS_COL_STATUS and ACTIVE_STATUSES`;
}
