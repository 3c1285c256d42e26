import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../config/identifiers.js";

/**
 * Every SQL statement of the daemon, built once from the (validated, quoted) table mapping.
 * Values are always parameters; only identifiers are spliced in, and only after quoting.
 */
export interface Statements {
  /**
   * $1 active statuses (or the one active status, see `buildStatements`), $2 cutoff (only rows started at or
   * before it), $3 limit.
   */
  firstActivePage: string;
  /** As firstActivePage, plus $4 cursor started_at (text, exact to the microsecond), $5 cursor id. */
  nextActivePage: string;
  /**
   * Ends a batch of calls in one statement, each only if it is still active (a webhook that won the race is
   * never overwritten), appends one audit row per ended call and sends one `pg_notify` per audit row, all in
   * the statement (so in the caller's transaction). Returns one row (`call_id`, the id as `id::text`) per
   * call it ended. Needs the types of the id and status columns (see {@link COLUMN_TYPES_SQL}), which are
   * validated here and spliced in as casts of the input arrays, never of the columns.
   * Per-call arrays, same length, index i is one call: $1 ids, $2 new statuses, $3 ended_at, $4 sources,
   * $5 evidence (JSON text), $7 run ids, $8 decided_at; plus $6 the active statuses.
   * A call id given twice is ended once, with its first occurrence's values.
   */
  endCalls(types: ColumnTypes): string;
  /** $1 active statuses. */
  activeSummary: string;
  /** Fails with 42P01/42703 when the table or a column is missing. */
  probeCallsTable: string;
  probeActionsTable: string;
  createCallsTable: string;
}

export const ACTIONS_TABLE = "call_reconciler_actions";
export const LEASES_TABLE = "call_reconciler_leases";
/** The channel of `pg_notify` sent, in the ending transaction, for every call the daemon ends. */
export const ENDED_CHANNEL = "call_reconciler_ended";
export const MIGRATIONS_TABLE = "call_reconciler_migrations";

/**
 * `oneActiveStatus`: the listing compares `status = $1` instead of `status = ANY($1)`. With one value (the
 * usual case) that lets an index on (status, started_at, id) return each keyset page in order; with ANY,
 * PostgreSQL reads and sorts every active row after the cursor for every page, a pass growing with N².
 */
export function buildStatements(m: CallsTableMapping, opts: { oneActiveStatus?: boolean } = {}): Statements {
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
  const activeWhere = `${status} ${opts.oneActiveStatus ? "= $1" : "= ANY($1)"} AND ${started} <= $2`;
  const order = `ORDER BY ${started}, ${id} LIMIT $3`;
  return {
    firstActivePage: `${select} WHERE ${activeWhere} ${order}`,
    nextActivePage: `${select} WHERE ${activeWhere} AND (${started}, ${id}) > ($4, $5) ${order}`,
    endCalls: (types) => {
      const idType = checkedTypeName(types.id, "CALLS_COL_ID");
      const statusType = checkedTypeName(types.status, "CALLS_COL_STATUS");
      // input: one row per distinct id (typed like the column, so c.id = input.id is an index lookup), the
      //   first occurrence winning. target: the rows still active, locked in id order, so two batches on
      //   overlapping ids queue behind each other instead of deadlocking; a row a webhook ended meanwhile is
      //   re-checked after the wait and dropped. ended: the conditional UPDATE (re-checking the status).
      //   inserted: one audit row per ended call. The final SELECT evaluates pg_notify once per audit row.
      return `WITH input AS (
        SELECT DISTINCT ON (u.id) u.id, u.new_status, u.ended_at, u.source, u.evidence, u.run_id, u.decided_at
        FROM unnest($1::${idType}[], $2::${statusType}[], $3::timestamptz[], $4::text[], $5::jsonb[],
            $7::uuid[], $8::timestamptz[])
          WITH ORDINALITY AS u(id, new_status, ended_at, source, evidence, run_id, decided_at, ord)
        ORDER BY u.id, u.ord
      ), target AS (
        SELECT c.${id} AS id, c.${status}::text AS previous_status
        FROM ${table} AS c
        WHERE c.${id} IN (SELECT input.id FROM input) AND c.${status} = ANY($6)
        ORDER BY c.${id}
        FOR UPDATE OF c
      ), ended AS (
        UPDATE ${table} AS c SET ${status} = input.new_status, ${ended} = input.ended_at
        FROM target JOIN input ON input.id = target.id
        WHERE c.${id} = target.id AND c.${status} = ANY($6)
        RETURNING c.${id}::text AS call_id, target.previous_status, input.new_status::text AS new_status,
          input.ended_at, input.source, input.evidence, input.run_id, input.decided_at
      ), inserted AS (
        INSERT INTO ${ACTIONS_TABLE}
          (run_id, call_id, previous_status, new_status, ended_at, source, evidence, decided_at)
        SELECT run_id, call_id, previous_status, new_status, ended_at, source, evidence, decided_at FROM ended
        RETURNING call_id, new_status, ended_at, source, run_id
      )
      SELECT i.call_id, pg_notify('${ENDED_CHANNEL}', json_build_object(
          'callId', i.call_id,
          'status', i.new_status,
          'endedAt', to_char(i.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'source', i.source,
          'runId', i.run_id
        )::text) AS notified
      FROM inserted AS i`;
    },
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

/**
 * The types of the columns named in $2 (`name[]`) of the table $1 (its quoted, possibly schema-qualified
 * name, resolved like the statements resolve it: `$1::regclass`), as `format_type` spells them. The typmod
 * is deliberately left out (-1): an explicit cast to `varchar(10)` or `char(5)` silently truncates, so a
 * too-long id would match another row; without the typmod, `char(n)` reads as `bpchar` (never `character`,
 * which means `char(1)`), and comparisons and assignments behave as they would against the column itself.
 */
export const COLUMN_TYPES_SQL = `SELECT a.attname::text AS name, format_type(a.atttypid, -1) AS type
  FROM pg_attribute AS a
  WHERE a.attrelid = $1::regclass AND a.attname = ANY($2::name[]) AND a.attnum > 0 AND NOT a.attisdropped`;

/** The types (as `format_type` spells them) of the app table's columns that the batched end casts to. */
export interface ColumnTypes {
  id: string;
  status: string;
}

/**
 * What a type name spliced into SQL may look like: one or more words, separated by a single space (the
 * built-in `timestamp with time zone`, `character varying`, `double precision`) or a dot (a schema-qualified
 * type: `telephony.call_state`). A word is a plain identifier (letters, digits, `_`, `$`; not starting with
 * a digit) or a double-quoted one holding only letters, digits, `_`, `$` and spaces (`"Call State"`), so
 * quotes always balance and nothing can end the cast. Anything else — typmods, array types (`int[]`), other
 * punctuation — is refused rather than spliced.
 */
const WORD = `(?:[A-Za-z_][A-Za-z0-9_$]*|"[A-Za-z0-9_$ ]+")`;
const TYPE_NAME = new RegExp(`^${WORD}(?:[ .]${WORD})*$`);

/** Returns `name` when it is safe to splice as a type (see TYPE_NAME), else throws naming the setting. */
export function checkedTypeName(name: string, setting: string): string {
  if (name.length > 200 || !TYPE_NAME.test(name)) {
    throw new Error(
      `${setting}: the column's type ${JSON.stringify(name)} is not supported (expected a scalar type)`,
    );
  }
  return name;
}

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
