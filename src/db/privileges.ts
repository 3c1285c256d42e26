/**
 * The privileges `run`, `audit`, `revert` and `hold` need, checked at start-up (before any read of a call or
 * any write), each missing one named with the GRANT that gives it. `migrate` needs more (it creates the
 * daemon's tables) and is run once by a role that owns them; the runtime role needs only these, and on the
 * audit trail only SELECT and INSERT: it can append to the trail, never rewrite it.
 */
import type pg from "pg";
import { columnSettings } from "../config/column-settings.js";
import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier as q } from "../config/fields/identifiers.js";
import { SchemaMismatchError } from "./errors.js";
import { PRIVILEGES_SQL, TABLE_SCHEMA_SQL } from "./sql/privileges.js";
import { DEFAULT_DAEMON_SCHEMA, TABLE_NAMES } from "./sql/tables.js";

export interface Need {
  kind: "schema" | "table" | "column" | "sequence";
  schema: string;
  /** The table or sequence (empty for a schema). */
  object: string;
  /** For a column privilege. */
  column?: string;
  privilege: string;
}

/** The bigserial sequences of the tables the daemon inserts into (their default names). */
const seq = (table: string) => `${table}_id_seq`;

/**
 * What the runtime role needs, given the schema the calls table is in. On the calls table, SELECT only on the
 * mapped columns (a table-level SELECT covers them too): the rest of the row (phone numbers, metadata) is
 * never read, so a column-level GRANT need not expose it.
 */
export function runtimeNeeds(m: CallsTableMapping, callsSchema: string, callsTable: string): Need[] {
  const own = m.daemonSchema ?? DEFAULT_DAEMON_SCHEMA;
  const t = TABLE_NAMES;
  const table = (object: string, ...privileges: string[]): Need[] =>
    privileges.map((privilege) => ({ kind: "table", schema: own, object, privilege }));
  const columns = (privilege: string, names: readonly string[]): Need[] =>
    names.map((column) => ({ kind: "column", schema: callsSchema, object: callsTable, column, privilege }));
  return [
    { kind: "schema", schema: callsSchema, object: "", privilege: "USAGE" },
    ...columns("SELECT", [...new Set(columnSettings(m).map(([, column]) => column))]),
    // CALLS_COL_DURATION is written in the same UPDATE as the status and the end time, when it is set.
    ...columns("UPDATE", [m.status, m.endedAt, ...(m.duration === undefined ? [] : [m.duration])]),
    { kind: "schema", schema: own, object: "", privilege: "USAGE" },
    ...table(t.actions, "SELECT", "INSERT"),
    { kind: "sequence", schema: own, object: seq(t.actions), privilege: "USAGE" },
    ...table(t.leases, "SELECT", "INSERT", "UPDATE"),
    ...table(t.holds, "SELECT", "INSERT", "UPDATE"),
    { kind: "sequence", schema: own, object: seq(t.holds), privilege: "USAGE" },
    ...table(t.sightings, "SELECT", "INSERT", "UPDATE", "DELETE"),
    ...table(t.causes, "SELECT", "INSERT", "UPDATE"),
    ...table(t.binding, "SELECT", "INSERT"),
  ];
}

interface Missing {
  /** How the object is named in a GRANT (`SCHEMA "s"`, `"s"."t"`, `SEQUENCE "s"."t_id_seq"`) and in prose. */
  on: string;
  named: string;
  privileges: string[];
  /** Column privileges: each privilege with the columns it lacks, in the order needed. */
  columns: Map<string, string[]>;
}

/** `missing`, one entry per object (a table's column privileges apart from its table privileges). */
function byObject(missing: readonly Need[]): Missing[] {
  const groups = new Map<string, Missing>();
  for (const n of missing) {
    const on =
      n.kind === "schema"
        ? `SCHEMA ${q(n.schema)}`
        : `${n.kind === "sequence" ? "SEQUENCE " : ""}${q(n.schema)}.${q(n.object)}`;
    const named = n.kind === "schema" ? `schema ${n.schema}` : `${n.schema}.${n.object}`;
    const key = `${n.kind === "column" ? "column:" : ""}${on}`;
    const entry: Missing = groups.get(key) ?? { on, named, privileges: [], columns: new Map() };
    if (n.kind === "column" && n.column !== undefined)
      entry.columns.set(n.privilege, [...(entry.columns.get(n.privilege) ?? []), n.column]);
    else entry.privileges.push(n.privilege);
    groups.set(key, entry);
  }
  return [...groups.values()];
}

/** `SELECT, INSERT`, or for columns `SELECT (a, b), UPDATE (c)`: one GRANT gives them all. */
const privilegesOf = (m: Missing, quote: (s: string) => string) =>
  m.columns.size > 0
    ? [...m.columns].map(([privilege, cols]) => `${privilege} (${cols.map(quote).join(", ")})`).join(", ")
    : m.privileges.join(", ");

/** The GRANT statements that give `missing` to `role`, one per object. */
export function grantsFor(missing: readonly Need[], role: string): string[] {
  return byObject(missing).map((m) => `GRANT ${privilegesOf(m, q)} ON ${m.on} TO ${q(role)}`);
}

/** A plain table name and its schema from CALLS_TABLE (`table` or `schema.table`). */
async function callsTableName(pool: pg.Pool, m: CallsTableMapping): Promise<[string, string] | null> {
  const parts = m.table.split(".");
  if (parts.length === 2) return [parts[0] as string, parts[1] as string];
  const { rows } = await pool.query<{ schema: string }>(TABLE_SCHEMA_SQL, [q(m.table)]);
  return rows[0] === undefined ? null : [rows[0].schema, m.table];
}

/** The needs the connected role lacks (objects that do not exist are left to the table probes). */
export async function missingPrivileges(
  pool: pg.Pool,
  m: CallsTableMapping,
): Promise<{ role: string; missing: Need[] }> {
  const calls = (await callsTableName(pool, m)) ?? ["", ""];
  const needs = runtimeNeeds(m, calls[0], calls[1]).filter((n) => n.schema !== "");
  const { rows } = await pool.query<{ i: number; role: string; ok: boolean | null }>(PRIVILEGES_SQL, [
    needs.map((n) => n.kind),
    needs.map((n) => n.schema),
    needs.map((n) => n.object),
    needs.map((n) => n.column ?? ""),
    needs.map((n) => n.privilege),
  ]);
  const role = rows[0]?.role ?? "";
  return { role, missing: rows.filter((r) => r.ok === false).map((r) => needs[r.i - 1] as Need) };
}

/** Throws one line naming what is missing and the GRANTs that give it; nothing when all is there. */
export async function verifyPrivileges(pool: pg.Pool, m: CallsTableMapping): Promise<void> {
  const { role, missing } = await missingPrivileges(pool, m);
  if (missing.length === 0) return;
  const what = byObject(missing)
    .map((m) => `${privilegesOf(m, (c) => c)} on ${m.named}`)
    .join("; ");
  throw new SchemaMismatchError(
    `the database role ${role} lacks ${what}. As the tables' owner, run: ${grantsFor(missing, role).join("; ")}`,
  );
}
