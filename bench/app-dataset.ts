/**
 * The same run's data on the calls table of a typical voice-AI app (src/dev/app-table.ts): ISO 8601 text times
 * as Python's `datetime.utcnow().isoformat()` writes them, one id column for both providers, a duration column,
 * and the listing index `doctor` recommends for it. The truth is the same `bench_truth` as the timestamptz
 * table's (same rows, same zombies, same Twilio end times), seeded in SQL as fast.
 */
import type { CallsTableMapping } from "../src/config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../src/config/fields/identifiers.js";
import { migrate } from "../src/db/migrate.js";
import { daemonTables } from "../src/db/sql.js";
import { APP_CALLS_TABLE_SQL, APP_LISTING_INDEX_SQL } from "../src/dev/app-table.js";
import { type BenchDatabase, seedTruth, type Verification, verdict } from "./dataset.js";

/**
 * A time as Python's naive `isoformat()` spells it, in SQL: `YYYY-MM-DDTHH:MM:SS.ffffff` in UTC, the fraction
 * left out when the microsecond is 0.
 */
const pythonIsoformat = (ts: string) =>
  `to_char(${ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
   || CASE WHEN extract(microseconds FROM ${ts})::bigint % 1000000 = 0 THEN ''
           ELSE to_char(${ts} AT TIME ZONE 'UTC', '.US') END`;

/**
 * The truth (`bench_truth`, as the timestamptz table's) and each row's start as the app writes it
 * (`started_text`): the truth's start plus a fraction of a second, none on every 50th row. The PostgreSQL and
 * the SQLite app tables are seeded from it.
 */
export async function seedAppTruth(
  db: BenchDatabase,
  rows: number,
  zombiePct: number,
): Promise<{ zombies: number }> {
  const truth = await seedTruth(db, rows, zombiePct);
  await db.pool.query(
    `ALTER TABLE bench_truth ADD COLUMN started_text text;
     UPDATE bench_truth SET started_text = ${pythonIsoformat(
       "(started_at + make_interval(secs => CASE WHEN i % 50 = 0 THEN 0 ELSE (i * 7919) % 1000000 END / 1e6))",
     )}`,
  );
  return truth;
}

/**
 * The app's table, every row of the truth in it, `active`, its id the Call SID. A real app stamps a start with
 * microseconds, a little after Twilio's whole-second `start_time`: each row's start is its truth's plus a
 * fraction of a second, none on every 50th row (Python then leaves the fraction out).
 */
export async function seedAppDataset(
  db: BenchDatabase,
  mapping: CallsTableMapping,
  rows: number,
  zombiePct: number,
): Promise<{ zombies: number }> {
  await migrate(db.pool, { withCallsTable: false, mapping });
  await db.pool.query(APP_CALLS_TABLE_SQL);
  await db.pool.query(APP_LISTING_INDEX_SQL);
  const truth = await seedAppTruth(db, rows, zombiePct);
  const m = mapping;
  if (m.duration === undefined) throw new Error("the app's mapping names its duration column");
  await db.pool.query(
    `INSERT INTO ${quoteQualifiedIdentifier(m.table)}
       (${q(m.id)}, call_type, caller_number, callee_number, ${q(m.status)}, ${q(m.startedAt)}, ${q(m.endedAt)},
        ${q(m.duration)}, metadata)
     SELECT sid, 'outbound', '+15005550006', '+15005550001', 'active', started_text, NULL, NULL,
            '{"agent": "default", "language": "en"}'
     FROM bench_truth ORDER BY i`,
  );
  await db.pool.query(`VACUUM ANALYZE ${quoteQualifiedIdentifier(m.table)}`);
  return truth;
}

/**
 * After the pass: every zombie `completed`, its end Twilio's exact end time written as text in the rows'
 * format (with the microseconds: the rows' longest fraction) and its duration Twilio's, with one audit row
 * from Twilio; no live row touched (status, start text, end and duration as seeded), no audit row for it.
 */
export async function verifyAppDataset(db: BenchDatabase, mapping: CallsTableMapping): Promise<Verification> {
  const m = mapping;
  if (m.duration === undefined) throw new Error("the app's mapping names its duration column");
  const status = `c.${q(m.status)}`;
  const ended = `c.${q(m.endedAt)}`;
  const duration = `c.${q(m.duration)}`;
  const exact = `${status} = 'completed'
      AND ${ended} = to_char(t.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
      AND ${duration} = t.duration_s
      AND c.${q(m.startedAt)} = t.started_text`;
  const { rows } = await db.pool.query<Omit<Verification, "ok">>(
    `SELECT count(*) FILTER (WHERE t.zombie)::int AS zombies,
            count(*) FILTER (WHERE t.zombie AND ${exact})::int AS "zombiesEndedExactly",
            count(*) FILTER (WHERE t.zombie AND ${status} <> 'active' AND NOT (${exact}))::int AS "zombiesWrong",
            count(*) FILTER (WHERE NOT t.zombie AND (${status} <> 'active' OR ${ended} IS NOT NULL
                             OR ${duration} IS NOT NULL OR c.${q(m.startedAt)} <> t.started_text))::int AS "liveTouched",
            (SELECT count(*)::int FROM ${daemonTables().actions}) AS "auditRows",
            (SELECT count(*)::int FROM ${daemonTables().actions} a LEFT JOIN bench_truth z ON z.sid = a.call_id
              WHERE z.zombie IS NOT TRUE OR a.source <> 'twilio' OR a.new_status <> 'completed'
                 OR a.ended_at <> z.ended_at) AS "auditRowsWrong"
     FROM bench_truth t JOIN ${quoteQualifiedIdentifier(m.table)} c ON c.${q(m.id)} = t.sid`,
  );
  return verdict(rows[0] as Omit<Verification, "ok">);
}
