import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../config/identifiers.js";

/**
 * Every SQL statement of the daemon, built once from the (validated, quoted) table mapping.
 * Values are always parameters; only identifiers are spliced in, and only after quoting.
 */
export interface Statements {
  /** $1 active statuses, $2 cutoff (only rows started at or before it), $3 limit. */
  firstActivePage: string;
  /** As firstActivePage, plus $4 cursor started_at (text, exact to the microsecond), $5 cursor id. */
  nextActivePage: string;
  /**
   * Ends one call only if it is still active (a webhook that won the race is never overwritten) and
   * appends the audit row in the same statement. Returns one row when it ended the call, none otherwise.
   * $1 id, $2 active statuses, $3 new status, $4 ended_at, $5 run id, $6 source, $7 evidence, $8 decided_at.
   */
  endCall: string;
  /** $1 active statuses. */
  activeSummary: string;
  /** Fails with 42P01/42703 when the table or a column is missing. */
  probeCallsTable: string;
  probeActionsTable: string;
  createCallsTable: string;
  /** Seeding for the demo, tests and benchmark. $1 id, $2 sid, $3 realtime id, $4 status, $5 started, $6 ended. */
  insertCall: string;
  /** Read-back for the demo and tests. $1 ids (text[]). */
  callsByIds: string;
  /** Audit rows, oldest first. */
  listActions: string;
}

export const ACTIONS_TABLE = "call_reconciler_actions";
export const LEASES_TABLE = "call_reconciler_leases";
/** The channel of `pg_notify` sent, in the ending transaction, for every call the daemon ends. */
export const ENDED_CHANNEL = "call_reconciler_ended";
export const MIGRATIONS_TABLE = "call_reconciler_migrations";

export function buildStatements(m: CallsTableMapping): Statements {
  const table = quoteQualifiedIdentifier(m.table);
  const id = q(m.id);
  const sid = q(m.twilioSid);
  const rtc = q(m.openaiId);
  const status = q(m.status);
  const started = q(m.startedAt);
  const ended = q(m.endedAt);
  // started_at::text round-trips exactly (microseconds); a JS Date cursor would lose them and repeat rows.
  const select = `SELECT ${id}::text AS id, ${sid}::text AS twilio_sid, ${rtc}::text AS openai_id,
      ${status}::text AS status, ${started} AS started_at, ${started}::text AS cursor_started_at
    FROM ${table}`;
  const activeWhere = `${status} = ANY($1) AND ${started} <= $2`;
  const order = `ORDER BY ${started}, ${id} LIMIT $3`;
  return {
    firstActivePage: `${select} WHERE ${activeWhere} ${order}`,
    nextActivePage: `${select} WHERE ${activeWhere} AND (${started}, ${id}) > ($4, $5) ${order}`,
    endCall: `WITH target AS (
        SELECT ${id} AS id, ${status}::text AS previous_status FROM ${table}
        WHERE ${id} = $1 AND ${status} = ANY($2) FOR UPDATE
      ), ended AS (
        UPDATE ${table} AS c SET ${status} = $3, ${ended} = $4
        FROM target WHERE c.${id} = target.id AND c.${status} = ANY($2)
        RETURNING c.${id}::text AS id, target.previous_status
      )
      INSERT INTO ${ACTIONS_TABLE}
        (run_id, call_id, previous_status, new_status, ended_at, source, evidence, decided_at)
      SELECT $5, ended.id, ended.previous_status, $3, $4, $6, $7, $8 FROM ended
      RETURNING id`,
    activeSummary: `SELECT count(*)::bigint AS active, min(${started}) AS oldest_started_at
      FROM ${table} WHERE ${status} = ANY($1)`,
    probeCallsTable: `SELECT ${id}, ${sid}, ${rtc}, ${status}, ${started}, ${ended} FROM ${table} LIMIT 0`,
    probeActionsTable: `SELECT a.id, l.name FROM ${ACTIONS_TABLE} a, ${LEASES_TABLE} l LIMIT 0`,
    createCallsTable: `CREATE TABLE IF NOT EXISTS ${table} (
        ${id} text PRIMARY KEY,
        ${sid} text,
        ${rtc} text,
        ${status} text NOT NULL,
        ${started} timestamptz NOT NULL,
        ${ended} timestamptz
      )`,
    insertCall: `INSERT INTO ${table} (${id}, ${sid}, ${rtc}, ${status}, ${started}, ${ended})
      VALUES ($1, $2, $3, $4, $5, $6)`,
    callsByIds: `SELECT ${id}::text AS id, ${status}::text AS status, ${started} AS started_at, ${ended} AS ended_at
      FROM ${table} WHERE ${id}::text = ANY($1) ORDER BY ${id}`,
    listActions: `SELECT id::text, run_id::text, call_id, previous_status, new_status, ended_at, source, evidence,
        decided_at
      FROM ${ACTIONS_TABLE} ORDER BY id`,
  };
}

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
];

/**
 * Leadership among replicas: a row per lease, taken or renewed with one conditional statement judged on the
 * database's clock (so replicas' clocks never matter). Unlike a session advisory lock it survives PgBouncer's
 * transaction pooling. Returns a row only when `$2` holds the lease afterwards.
 * $1 name, $2 holder, $3 ttl seconds.
 */
export const LEASE_SQL = {
  acquire: `INSERT INTO ${LEASES_TABLE} AS l (name, holder, expires_at)
      VALUES ($1, $2, now() + make_interval(secs => $3))
    ON CONFLICT (name) DO UPDATE
      SET holder = EXCLUDED.holder,
          expires_at = EXCLUDED.expires_at,
          acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END
      WHERE l.expires_at < now() OR l.holder = EXCLUDED.holder
    RETURNING holder`,
  /** Hands the lease back at shutdown so another replica can take over at once. $1 name, $2 holder. */
  release: `UPDATE ${LEASES_TABLE} SET expires_at = now() - interval '1 millisecond'
    WHERE name = $1 AND holder = $2`,
  current: `SELECT holder, expires_at FROM ${LEASES_TABLE} WHERE name = $1`,
};

/** Sent in the same transaction as the end, so listeners hear only of committed ends. $1 channel, $2 JSON. */
export const NOTIFY_SQL = `SELECT pg_notify($1, $2)`;

/** Readiness: the database answers. */
export const PING_SQL = "SELECT 1";

export const MIGRATION_SQL = {
  /** Serialises concurrent `migrate` runs; a transaction-level lock also works behind PgBouncer. */
  lock: `SELECT pg_advisory_xact_lock(hashtext('call_reconciler_migrate'))`,
  createLedger: `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
  appliedVersions: `SELECT version FROM ${MIGRATIONS_TABLE}`,
  recordVersion: `INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`,
};

/** Creates an index that lets the active listing walk (status, started_at, id) instead of the table. */
export function createCallsIndexSql(m: CallsTableMapping): string {
  const bare = m.table.split(".").pop() ?? m.table;
  const indexName = q(`${bare}_reconciler_active_idx`.slice(0, 63));
  return `CREATE INDEX IF NOT EXISTS ${indexName} ON ${quoteQualifiedIdentifier(m.table)}
    (${q(m.status)}, ${q(m.startedAt)}, ${q(m.id)})`;
}
