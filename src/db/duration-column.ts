import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { readTypes } from "./column-types.js";
import { SchemaMismatchError } from "./errors.js";
import { TIME_COLUMN_TYPES_SQL } from "./sql.js";

/** CALLS_COL_DURATION's column as the ends write it: its base type, and whether it holds whole seconds. */
export interface DurationColumn {
  /** The base type (domains resolved), as `format_type` spells it: what the written value is cast to. */
  type: string;
  whole: boolean;
}

/** How `format_type` spells the base types a length in seconds can be written to, and whether they are whole. */
const NUMBER_TYPES: ReadonlyMap<string, boolean> = new Map([
  ["smallint", true],
  ["integer", true],
  ["bigint", true],
  ["real", false],
  ["double precision", false],
  ["numeric", false],
]);

/**
 * The duration column's base type; null when CALLS_COL_DURATION is unset. Any type but a number (text, an
 * interval) is refused at start-up, in one line naming the setting, rather than at the first end.
 */
export async function readDurationColumn(
  pool: pg.Pool,
  m: CallsTableMapping,
): Promise<DurationColumn | null> {
  if (m.duration === undefined) return null;
  const typeOf = await readTypes(pool, m, TIME_COLUMN_TYPES_SQL, [m.duration]);
  const type = typeOf(m.duration, "CALLS_COL_DURATION");
  const whole = NUMBER_TYPES.get(type);
  if (whole === undefined) {
    throw new SchemaMismatchError(
      `CALLS_COL_DURATION (${m.table}.${m.duration}) is ${type}, not a number of seconds: map a ${[...NUMBER_TYPES.keys()].join(", ")} column, or unset CALLS_COL_DURATION`,
    );
  }
  return { type, whole };
}
