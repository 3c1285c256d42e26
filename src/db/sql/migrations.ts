import type { CallsTableMapping } from "../../config/config.js";
import {
  quoteIdentifier as q,
  quoteIdentifier,
  quoteQualifiedIdentifier,
} from "../../config/fields/identifiers.js";
import { type DaemonTables, TABLE_NAMES } from "./tables.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The daemon's own tables in the schema of `t`, applied in order, each exactly once; never edit a shipped
 * entry, append. Tables are schema-qualified; an index or constraint name is not (it lives in its table's
 * schema), and keeps the bare table name as its prefix.
 */
export function migrations(t: DaemonTables): readonly Migration[] {
  const n = TABLE_NAMES;
  return [
    {
      version: 1,
      name: "actions audit table",
      sql: `CREATE TABLE IF NOT EXISTS ${t.actions} (
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
      CREATE INDEX IF NOT EXISTS ${n.actions}_call_id_idx ON ${t.actions} (call_id);
      CREATE INDEX IF NOT EXISTS ${n.actions}_run_id_idx ON ${t.actions} (run_id);`,
    },
    {
      version: 2,
      name: "leader lease",
      sql: `CREATE TABLE IF NOT EXISTS ${t.leases} (
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
      sql: `ALTER TABLE ${t.actions}
        ADD COLUMN IF NOT EXISTS provider_status text,
        ADD COLUMN IF NOT EXISTS outcome text NOT NULL DEFAULT 'ended',
        ADD COLUMN IF NOT EXISTS detail text;
      ALTER TABLE ${t.actions} ADD CONSTRAINT ${n.actions}_outcome_check
        CHECK (outcome IN ('ended', 'refused')) NOT VALID;
      CREATE UNIQUE INDEX IF NOT EXISTS ${n.actions}_refused_once_idx
        ON ${t.actions} (call_id, new_status) WHERE outcome = 'refused';`,
    },
    {
      // forced: written by `audit --apply --force`, which does not take the lease (another replica may have been
      // reconciling at the same time). A constant default: adding the column does not rewrite the table.
      version: 4,
      name: "audit: forced runs",
      sql: `ALTER TABLE ${t.actions} ADD COLUMN IF NOT EXISTS forced boolean NOT NULL DEFAULT false;`,
    },
    {
      // `revert` and holds. A revert's audit row has outcome 'reverted', `reverts` = the audit row of the end it
      // undid (at most one revert per end: the unique index) and `ended_at` NULL, which is what it wrote; every
      // other row keeps an end time (the second CHECK). The CHECKs are NOT VALID (no scan; old rows comply) and
      // dropping NOT NULL only changes the catalog. Holds: see sql/holds.ts; a released hold stays, as history.
      version: 5,
      name: "revert and holds",
      sql: `ALTER TABLE ${t.actions}
        ADD COLUMN IF NOT EXISTS reverts bigint,
        ALTER COLUMN ended_at DROP NOT NULL;
      ALTER TABLE ${t.actions} DROP CONSTRAINT IF EXISTS ${n.actions}_outcome_check;
      ALTER TABLE ${t.actions} ADD CONSTRAINT ${n.actions}_outcome_check
        CHECK (outcome IN ('ended', 'refused', 'reverted')) NOT VALID;
      ALTER TABLE ${t.actions} ADD CONSTRAINT ${n.actions}_revert_check
        CHECK (CASE WHEN outcome = 'reverted' THEN reverts IS NOT NULL AND ended_at IS NULL
          ELSE reverts IS NULL AND ended_at IS NOT NULL END) NOT VALID;
      CREATE UNIQUE INDEX IF NOT EXISTS ${n.actions}_reverts_idx
        ON ${t.actions} (reverts) WHERE reverts IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${t.holds} (
        id bigserial PRIMARY KEY,
        call_id text NOT NULL,
        reason text,
        held_by text NOT NULL,
        run_id uuid,
        held_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        released_by text
      );
      CREATE UNIQUE INDEX IF NOT EXISTS ${n.holds}_current_idx
        ON ${t.holds} (call_id) WHERE released_at IS NULL;`,
    },
    {
      // What probes saw of each realtime call, kept across passes, restarts and leaders: see sql/sightings.ts.
      version: 6,
      name: "realtime sightings",
      sql: `CREATE TABLE IF NOT EXISTS ${t.sightings} (
        realtime_call_id text PRIMARY KEY,
        first_gone_at timestamptz,
        last_live_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT statement_timestamp()
      );
      CREATE INDEX IF NOT EXISTS ${n.sightings}_last_live_idx ON ${t.sightings} (last_live_at);
      CREATE INDEX IF NOT EXISTS ${n.sightings}_updated_idx ON ${t.sightings} (updated_at);`,
    },
    {
      // The row's end time before the daemon wrote one (NULL: none), so that revert restores exactly it.
      version: 7,
      name: "previous end time",
      sql: `ALTER TABLE ${t.actions} ADD COLUMN IF NOT EXISTS previous_ended_at timestamptz`,
    },
    {
      // Why each zombie's end was lost (see sql/causes.ts): one row per call the daemon ended, written in the
      // ending transaction; a Twilio end's cause is asked of Twilio later, so it waits here with its due time.
      version: 8,
      name: "causes",
      sql: `CREATE TABLE IF NOT EXISTS ${t.causes} (
        call_id text PRIMARY KEY,
        run_id uuid NOT NULL,
        source text NOT NULL,
        call_sid text,
        account_sid text,
        direction text,
        provider_status text,
        started_at timestamptz,
        provider_ended_at timestamptz NOT NULL,
        ended_here_at timestamptz NOT NULL,
        cause text,
        detail jsonb,
        due_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        diagnosed_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS ${n.causes}_due_idx ON ${t.causes} (due_at) WHERE cause IS NULL;
      CREATE INDEX IF NOT EXISTS ${n.causes}_ended_here_idx ON ${t.causes} (ended_here_at);`,
    },
    {
      // CALLS_COL_DURATION: the length an end wrote and the value it replaced, as the column held them, so that
      // revert restores the value and leaves alone a row whose length someone rewrote since. NULL on every row
      // that wrote none (the setting unset, and every row before this migration).
      version: 9,
      name: "audit: call duration",
      sql: `ALTER TABLE ${t.actions}
        ADD COLUMN IF NOT EXISTS duration_seconds double precision,
        ADD COLUMN IF NOT EXISTS previous_duration_seconds double precision;`,
    },
    {
      // The calls table this schema's state belongs to (see sql/binding.ts). Left empty here: the first
      // command that uses the state writes the row, so an existing install is bound to the table it serves.
      version: 10,
      name: "calls table binding",
      sql: `CREATE TABLE IF NOT EXISTS ${t.binding} (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        calls_schema text NOT NULL,
        calls_table text NOT NULL,
        bound_at timestamptz NOT NULL DEFAULT now()
      );`,
    },
  ];
}

export const migrationSql = (t: DaemonTables) => ({
  /**
   * Whether RECONCILER_SCHEMA exists ($1 its name). Asked first because CREATE SCHEMA IF NOT EXISTS still needs
   * CREATE on the database, which a role that was given a schema of its own need not have.
   */
  schemaExists: "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present",
  createSchema: `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(t.schema)}`,
  /**
   * Serialises concurrent `migrate` runs; a transaction-level lock also works behind PgBouncer. The wait for
   * another `migrate` is not bounded by the session's short lock_timeout (restored right after).
   */
  noLockTimeout: "SET LOCAL lock_timeout = 0",
  lock: `SELECT pg_advisory_xact_lock(hashtext('call_reconciler_migrate'))`,
  defaultLockTimeout: "SET LOCAL lock_timeout TO DEFAULT",
  createLedger: `CREATE TABLE IF NOT EXISTS ${t.migrations} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
  appliedVersions: `SELECT version FROM ${t.migrations}`,
  recordVersion: `INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`,
});

/** The default table's subaccount column: CALLS_COL_TWILIO_ACCOUNT, else `twilio_account_sid`. */
const accountColumn = (m: CallsTableMapping): string => m.twilioAccount ?? "twilio_account_sid";

/** Whether CALLS_TABLE ($1, quoted) exists: `migrate --with-calls-table` creates it only if not, else only checks it. */
export const CALLS_TABLE_EXISTS_SQL = "SELECT pg_catalog.to_regclass($1) IS NOT NULL AS present";

/** The default calls table, for a new install or the demo (`migrate --with-calls-table`). */
export function createCallsTableSql(m: CallsTableMapping): string {
  // An id column may be the id itself, or one column may hold both providers' ids: each is created once.
  const idColumn = (c: string | null, ...taken: (string | null)[]) =>
    c === null || taken.includes(c) ? [] : [`${q(c)} text`];
  const columns = [
    `${q(m.id)} text PRIMARY KEY`,
    ...idColumn(m.twilioSid, m.id),
    `${q(accountColumn(m))} text`,
    ...idColumn(m.openaiId, m.id, m.twilioSid),
    `${q(m.status)} text NOT NULL`,
    `${q(m.startedAt)} timestamptz NOT NULL`,
    `${q(m.endedAt)} timestamptz`,
  ];
  return `CREATE TABLE IF NOT EXISTS ${quoteQualifiedIdentifier(m.table)} (
      ${columns.join(",\n      ")}
    )`;
}
