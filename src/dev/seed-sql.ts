import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier as q } from "../config/fields/identifiers.js";
import { quotedMapping } from "../config/quoted-mapping.js";
import { daemonTables } from "../db/sql.js";

/**
 * The statements only the demo, the tests and the benchmark run (the daemon never does), built from the
 * (validated, quoted) table mapping like `buildStatements` builds the daemon's own. Values are always
 * parameters; only identifiers are spliced in, and only after quoting.
 */
/** The fields of a seeded call, each bound to the column its setting names. */
export type SeedField =
  | "id"
  | "twilioSid"
  | "openaiId"
  | "status"
  | "startedAt"
  | "endedAt"
  | "twilioAccount";

export interface SeedStatements {
  /** Seeding: one parameter per column, in the order of `insertFields`. */
  insertCall: string;
  /**
   * The fields behind $1, $2, …: a column several settings name (one id column for both providers, or the
   * call's id itself) is written once, with the first of its fields the call has.
   */
  insertFields: SeedField[][];
  /** Read-back of what a pass wrote. $1 ids (text[]). */
  callsByIds: string;
  /** Audit rows (ended and refused), oldest first. */
  listActions: string;
}

export function buildSeedStatements(m: CallsTableMapping): SeedStatements {
  const { table, id, status, started, ended } = quotedMapping(m);
  const named: Array<[column: string | null | undefined, field: SeedField]> = [
    [m.id, "id"],
    [m.twilioSid, "twilioSid"],
    [m.openaiId, "openaiId"],
    [m.status, "status"],
    [m.startedAt, "startedAt"],
    [m.endedAt, "endedAt"],
    [m.twilioAccount, "twilioAccount"],
  ];
  const columns = new Map<string, SeedField[]>();
  for (const [column, field] of named)
    if (typeof column === "string") columns.set(column, [...(columns.get(column) ?? []), field]);
  const names = [...columns.keys()];
  return {
    insertCall: `INSERT INTO ${table} (${names.map(q).join(", ")})
      VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")})`,
    insertFields: [...columns.values()],
    callsByIds: `SELECT ${id}::text AS id, ${status}::text AS status, ${started} AS started_at, ${ended} AS ended_at
      FROM ${table} WHERE ${id}::text = ANY($1) ORDER BY ${id}`,
    listActions: `SELECT id::text, run_id::text, call_id, previous_status, new_status, provider_status, ended_at,
        source, evidence, decided_at, outcome, detail
      FROM ${daemonTables(m.daemonSchema).actions} ORDER BY id`,
  };
}
