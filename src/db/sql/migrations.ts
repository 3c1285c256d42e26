import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../../config/identifiers.js";
import { ACTIONS_TABLE, LEASES_TABLE, MIGRATIONS_TABLE } from "./tables.js";

/** The daemon's own tables, applied in order, each exactly once; never edit a shipped entry, append. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "actions audit table",
    sql: `CREATE TABLE IF NOT EXISTS ${ACTIONS_TABLE} (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL,
        call_id text NOT NULL,
        previous_status text NOT NULL,
        new_status text NOT NULL,
        ended_at timestamptz NOT NULL,
        source text NOT NULL CHECK (source IN ('twilio', 'openai', 'age_bound')),
        evidence jsonb NOT NULL,
        decided_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS ${ACTIONS_TABLE}_call_id_idx ON ${ACTIONS_TABLE} (call_id);
      CREATE INDEX IF NOT EXISTS ${ACTIONS_TABLE}_run_id_idx ON ${ACTIONS_TABLE} (run_id);`,
  },
  {
    version: 2,
    name: "leader lease",
    sql: `CREATE TABLE IF NOT EXISTS ${LEASES_TABLE} (
        name text PRIMARY KEY,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    // new_status is what the calls table was given (after STATUS_MAP), provider_status what the provider said
    // (NULL on rows written before this migration). outcome 'refused': the table refused that end; such a
    // row is written once per call and status (the partial unique index), with the database's message in
    // detail. The CHECK is NOT VALID so that adding it does not scan the table (every old row is 'ended').
    version: 3,
    name: "audit: provider status, refused ends",
    sql: `ALTER TABLE ${ACTIONS_TABLE}
        ADD COLUMN IF NOT EXISTS provider_status text,
        ADD COLUMN IF NOT EXISTS outcome text NOT NULL DEFAULT 'ended',
        ADD COLUMN IF NOT EXISTS detail text;
      ALTER TABLE ${ACTIONS_TABLE} ADD CONSTRAINT ${ACTIONS_TABLE}_outcome_check
        CHECK (outcome IN ('ended', 'refused')) NOT VALID;
      CREATE UNIQUE INDEX IF NOT EXISTS ${ACTIONS_TABLE}_refused_once_idx
        ON ${ACTIONS_TABLE} (call_id, new_status) WHERE outcome = 'refused';`,
  },
];

export const MIGRATION_SQL = {
  /**
   * Serialises concurrent `migrate` runs; a transaction-level lock also works behind PgBouncer. The wait for
   * another `migrate` is not bounded by the session's short lock_timeout (restored right after).
   */
  noLockTimeout: "SET LOCAL lock_timeout = 0",
  lock: `SELECT pg_advisory_xact_lock(hashtext('call_reconciler_migrate'))`,
  defaultLockTimeout: "SET LOCAL lock_timeout TO DEFAULT",
  createLedger: `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
  appliedVersions: `SELECT version FROM ${MIGRATIONS_TABLE}`,
  recordVersion: `INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`,
};

/** The default calls table, for a new install or the demo (`migrate --with-calls-table`). */
export function createCallsTableSql(m: CallsTableMapping): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteQualifiedIdentifier(m.table)} (
      ${q(m.id)} text PRIMARY KEY,
      ${q(m.twilioSid)} text,
      ${q(m.openaiId)} text,
      ${q(m.status)} text NOT NULL,
      ${q(m.startedAt)} timestamptz NOT NULL,
      ${q(m.endedAt)} timestamptz
    )`;
}

/** Creates an index that lets the active listing walk (status, started_at, id) instead of the table. */
export function createCallsIndexSql(m: CallsTableMapping): string {
  const bare = m.table.split(".").pop() ?? m.table;
  const indexName = q(`${bare}_reconciler_active_idx`.slice(0, 63));
  return `CREATE INDEX IF NOT EXISTS ${indexName} ON ${quoteQualifiedIdentifier(m.table)}
    (${q(m.status)}, ${q(m.startedAt)}, ${q(m.id)})`;
}
