import type { CallsTableMapping } from "../../config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../../config/fields/identifiers.js";
import { NAIVE_TIMESTAMP, rawTimeKind } from "./schema.js";
import { type DaemonTables, daemonTables, ENDED_CHANNEL } from "./tables.js";

/** The types (as `format_type` spells them) of the app table's columns that the batched end casts to. */
export interface ColumnTypes {
  id: string;
  status: string;
  /**
   * The end column's base type (TIME_COLUMN_TYPES_SQL). When it is `timestamp without time zone`, the UPDATE
   * writes `$3[i] AT TIME ZONE $10` (the wall time in CALLS_TIME_ZONE, whatever the session's TimeZone) and
   * endCalls takes $10. When it is text or an epoch number, $10 is a text array aligned with $1: the value
   * written for each call, already in the column's format (see time/raw-time.ts). Otherwise (timestamptz,
   * or not given) the value is written as it is, no $10.
   */
  endedAt?: string;
  /**
   * CALLS_COL_DURATION's base type (see readDurationColumn), when that setting is set: the end writes the
   * length, cast to it, in the same UPDATE as the status and the end time, and endCalls takes it as the
   * parameter after the others ($10, or $11 after the time zone). Unset: no length is read or written.
   */
  duration?: string;
}

export interface EndStatements {
  /**
   * Ends a batch of calls in one statement, each only if it is still active and has no end time (a webhook
   * that won the race is never overwritten, nor is a row some writer ended without changing its status) and not locked by anyone else (`SKIP LOCKED`: the daemon never waits for the app's
   * row locks), appends one audit row per ended call and sends one `pg_notify` per audit row, all in the
   * statement (so in the caller's transaction). Returns one row (`call_id`, the id as `id::text`) per call it
   * ended. The id and status column types (see {@link COLUMN_TYPES_SQL}) are validated here and spliced in as
   * casts of the input arrays, never of the columns, so the primary key serves the lookup.
   * Per-call arrays, same length, index i is one call: $1 ids, $2 statuses to write (after STATUS_MAP),
   * $3 ended_at, $4 sources, $5 evidence (JSON text), $7 run ids, $8 decided_at, $9 the providers' statuses;
   * plus $6 the active statuses; with a duration column, the lengths to write (seconds, as the column takes
   * them) after the time zone, if any. A call id given twice is ended once, with its first occurrence's values.
   * Each audit row's `forced` is the build option (`audit --apply --force`: written without the lease).
   */
  endCalls: string;
  /**
   * Run after `endCalls` in its transaction: which of the ids ($1, as for endCalls; $2 active statuses) are
   * still active with no end time. Those the batch did not end were skipped as locked. A plain SELECT never waits on a row lock.
   */
  stillActive: string;
}

export function buildEndStatements(
  m: CallsTableMapping,
  types: ColumnTypes,
  opts: { forced?: boolean } = {},
): EndStatements {
  const table = quoteQualifiedIdentifier(m.table);
  const own = daemonTables(m.daemonSchema);
  const id = q(m.id);
  const status = q(m.status);
  const ended = q(m.endedAt);
  const idType = checkedTypeName(types.id, "CALLS_COL_ID");
  const endedValue = endedValueOf(types);
  // A text or epoch end column: $10, the value written for each call in the column's own format.
  const rawEnded = rawTimeKind(types.endedAt) !== null;
  // The end time the row had (NULL, since only rows without one are ended), kept for revert as a timestamptz.
  const previousEnded =
    rawTimeKind(types.endedAt) !== null
      ? "NULL::timestamptz"
      : types.endedAt === NAIVE_TIMESTAMP
        ? `(c.${ended} AT TIME ZONE $10::text)`
        : `c.${ended}`;
  const statusType = checkedTypeName(types.status, "CALLS_COL_STATUS");
  const length = durationParts(m, types);
  // - input: one row per distinct id, typed like the column (so the lookup uses the key), the first one winning.
  // - target: the rows still active, locked in id order with the UPDATE's own lock (FOR NO KEY UPDATE: an app's
  //   FK insert holding KEY SHARE does not block it); SKIP LOCKED leaves out a row someone holds rather than
  //   wait; a row ended or held since the pass looked drops out here.
  // - ended: the conditional UPDATE, re-checking the status and that no end time was written.
  // - inserted: one audit row per ended call; the final SELECT sends one pg_notify per audit row.
  const endCalls = `WITH input AS (
      SELECT DISTINCT ON (u.id) u.id, u.new_status, u.ended_at, u.source, u.evidence, u.run_id, u.decided_at,
        u.provider_status, ${rawEnded ? "u.ended_raw, " : ""}${length.input}
      FROM unnest($1::${idType}[], $2::${statusType}[], $3::timestamptz[], $4::text[], $5::jsonb[],
          $7::uuid[], $8::timestamptz[], $9::text[]${rawEnded ? ", $10::text[]" : ""}${length.param})
        WITH ORDINALITY AS u(id, new_status, ended_at, source, evidence, run_id, decided_at, provider_status,
          ${rawEnded ? "ended_raw, " : ""}${length.alias}ord)
      ORDER BY u.id, u.ord
    ), target AS (
      SELECT c.${id} AS id, c.${status}::text AS previous_status, ${previousEnded} AS previous_ended_at,
        ${length.previous} AS previous_duration
      FROM ${table} AS c
      WHERE c.${id} IN (SELECT input.id FROM input) AND c.${status} = ANY($6) AND c.${ended} IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM ${own.holds} AS h WHERE h.call_id = c.${id}::text AND h.released_at IS NULL
        )
      ORDER BY c.${id}
      FOR NO KEY UPDATE OF c SKIP LOCKED
    ), ended AS (
      UPDATE ${table} AS c SET ${status} = input.new_status, ${ended} = ${endedValue}${length.set}
      FROM target JOIN input ON input.id = target.id
      WHERE c.${id} = target.id AND c.${status} = ANY($6) AND c.${ended} IS NULL
      RETURNING c.${id}::text AS call_id, target.previous_status, target.previous_ended_at,
        input.new_status::text AS new_status,
        input.provider_status, input.ended_at, input.source, input.evidence, input.run_id, input.decided_at,
        target.previous_duration, ${length.written} AS duration
    ), inserted AS (
      INSERT INTO ${own.actions}
        (run_id, call_id, previous_status, previous_ended_at, new_status, provider_status, ended_at, source,
          evidence, decided_at, forced, previous_duration_seconds, duration_seconds)
      SELECT run_id, call_id, previous_status, previous_ended_at, new_status, provider_status, ended_at, source,
        evidence, decided_at, ${opts.forced === true ? "true" : "false"}, previous_duration, duration
      FROM ended
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
  const stillActive = `SELECT c.${id}::text AS call_id FROM ${table} AS c
    WHERE c.${id} = ANY($1::${idType}[]) AND c.${status} = ANY($2) AND c.${ended} IS NULL`;
  return { endCalls, stillActive };
}

/**
 * The SQL fragments of the batched end that read and write CALLS_COL_DURATION: each a constant NULL when it is
 * unset, so the audit row's length columns stay NULL and the calls table is written as before. The value is
 * the parameter after the time zone, cast to the column's base type; the audit keeps both the value replaced
 * and the value the column holds after the cast (as a float8: exact for every integer and real, and how
 * revert compares the row), so revert can tell a row still as the end left it.
 */
function durationParts(m: CallsTableMapping, types: ColumnTypes) {
  if (m.duration === undefined || types.duration === undefined) {
    return {
      input: "NULL::float8 AS duration",
      param: "",
      alias: "",
      previous: "NULL::float8",
      set: "",
      written: "NULL::float8",
    };
  }
  const column = q(m.duration);
  const type = checkedTypeName(types.duration, "CALLS_COL_DURATION");
  // After $10 when the end needs one: CALLS_TIME_ZONE (a naive timestamp), or the values written (text, epoch).
  const endTakesParam = types.endedAt === NAIVE_TIMESTAMP || rawTimeKind(types.endedAt) !== null;
  const param = `$${endTakesParam ? 11 : 10}`;
  return {
    input: "u.duration",
    param: `, ${param}::float8[]`,
    alias: "duration, ",
    previous: `c.${column}::float8`,
    set: `, ${column} = input.duration::${type}`,
    written: `c.${column}::float8`,
  };
}

/**
 * What the UPDATE writes into the end column. A text or epoch column: the call's entry of $10 (unnested with
 * the others, so its first occurrence wins as for them), cast to the column's type; every value is written by
 * the daemon in the column's format, so the cast cannot fail.
 */
function endedValueOf(types: ColumnTypes): string {
  if (types.endedAt !== undefined && rawTimeKind(types.endedAt) !== null) {
    const type = checkedTypeName(types.endedAt, "CALLS_COL_ENDED_AT");
    return `input.ended_raw::${type}`;
  }
  return types.endedAt === NAIVE_TIMESTAMP ? "(input.ended_at AT TIME ZONE $10::text)" : "input.ended_at";
}

/** The audit table's refused ends and the start-up probe of its last columns. */
export const refusalSql = (t: DaemonTables) => ({
  /**
   * A refused end, recorded once per call and (mapped) status: the partial unique index of migration 3 makes a
   * second one a no-op. Returns a row only when recorded now. $1 run id, $2 call id, $3 previous status,
   * $4 status the table refused, $5 provider's status, $6 proposed ended_at, $7 source, $8 evidence (JSON
   * text), $9 decided_at, $10 the database's message, $11 whether the run is forced (see endCalls).
   */
  recordRefusal: `INSERT INTO ${t.actions} (run_id, call_id, previous_status, new_status,
    provider_status, ended_at, source, evidence, decided_at, outcome, detail, forced)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, 'refused', $10, $11::boolean)
  ON CONFLICT (call_id, new_status) WHERE outcome = 'refused' DO NOTHING
  RETURNING id`,

  /** Fails (42703) on an audit table that lacks migration 4's `forced` column: checked at start-up. */
  probeForced: `SELECT forced FROM ${t.actions} LIMIT 0`,

  /** Which (call id $1[i], status $2[i]) pairs already have a refusal recorded; through the partial index. */
  refusedBefore: `SELECT DISTINCT a.call_id FROM ${t.actions} AS a
  JOIN unnest($1::text[], $2::text[]) AS u(call_id, new_status)
    ON a.call_id = u.call_id AND a.new_status = u.new_status
  WHERE a.outcome = 'refused'`,
});

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
