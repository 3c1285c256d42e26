import type { DaemonTables } from "./tables.js";

/**
 * The calls table the daemon's state in one schema belongs to (migration 10): holds, sightings, the audit
 * trail, causes and leases are keyed by call id alone, so a schema serving two tables would let one table's
 * holds and "gone" sightings act on the other's rows. One row, the table as the database resolved CALLS_TABLE.
 */
export const bindingSql = (t: DaemonTables) => ({
  /** The binding, if the state was ever used. */
  read: `SELECT calls_schema, calls_table, bound_at FROM ${t.binding}`,
  /** Binds the state to the table $1.$2 (schema, name) unless it is bound already. */
  bind: `INSERT INTO ${t.binding} (calls_schema, calls_table) VALUES ($1, $2)
    ON CONFLICT (singleton) DO NOTHING`,
  /** The statement an operator runs, as the tables' owner, after renaming the table: its values are literals. */
  rebind: (schema: string, table: string) =>
    `UPDATE ${t.binding} SET calls_schema = ${literal(schema)}, calls_table = ${literal(table)}`,
});

/** A string literal for a statement shown to the operator (standard_conforming_strings: only ' is special). */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
