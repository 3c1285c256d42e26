import type { CallsTableMapping } from "../config/config.js";
import { quotedMapping } from "../config/quoted-mapping.js";
import { daemonTables } from "../db/sql.js";

/**
 * The statements only the demo, the tests and the benchmark run (the daemon never does), built from the
 * (validated, quoted) table mapping like `buildStatements` builds the daemon's own. Values are always
 * parameters; only identifiers are spliced in, and only after quoting.
 */
export interface SeedStatements {
  /** Seeding. $1 id, $2 sid, $3 realtime id, $4 status, $5 started, $6 ended, $7 account (when mapped). */
  insertCall: string;
  /** Read-back of what a pass wrote. $1 ids (text[]). */
  callsByIds: string;
  /** Audit rows (ended and refused), oldest first. */
  listActions: string;
}

export function buildSeedStatements(m: CallsTableMapping): SeedStatements {
  const { table, id, sid, rtc, status, started, ended, account } = quotedMapping(m);
  return {
    insertCall:
      account === null
        ? `INSERT INTO ${table} (${id}, ${sid}, ${rtc}, ${status}, ${started}, ${ended})
      VALUES ($1, $2, $3, $4, $5, $6)`
        : `INSERT INTO ${table} (${id}, ${sid}, ${rtc}, ${status}, ${started}, ${ended}, ${account})
      VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    callsByIds: `SELECT ${id}::text AS id, ${status}::text AS status, ${started} AS started_at, ${ended} AS ended_at
      FROM ${table} WHERE ${id}::text = ANY($1) ORDER BY ${id}`,
    listActions: `SELECT id::text, run_id::text, call_id, previous_status, new_status, provider_status, ended_at,
        source, evidence, decided_at, outcome, detail
      FROM ${daemonTables(m.daemonSchema).actions} ORDER BY id`,
  };
}
