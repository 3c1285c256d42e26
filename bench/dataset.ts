/**
 * The benchmark's data: one fresh database per run, seeded in a single INSERT … SELECT generate_series
 * (seedCalls() inserts row by row: fine for the demo, minutes at 100,000 rows). The truth — which rows are
 * zombies and their exact end times — is generated once, in SQL, into `bench_truth`; the simulator is loaded
 * from that same table, and the pass is checked against it afterwards. The daemon never reads it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { CallsTableMapping } from "../src/config/config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "../src/config/fields/identifiers.js";
import { migrate } from "../src/db/migrate.js";
import { daemonTables } from "../src/db/sql.js";
import type { SimTwilioCall } from "../src/sim/twilio-sim.js";

export interface BenchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function urlForDatabase(url: string, dbName: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(dbName)}`;
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `bench_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = urlForDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => {});
  let dropping: Promise<void> | undefined;
  return {
    name,
    url,
    pool,
    drop() {
      dropping ??= (async () => {
        await pool.end().catch(() => {});
        await withAdmin(adminUrl, async (c) => {
          const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
          const force = Number(rows[0]?.v ?? 0) >= 130000 ? " WITH (FORCE)" : "";
          await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}${force}`);
        });
      })();
      return dropping;
    },
  };
}

/**
 * The truth of a run, in `bench_truth`: `rows` calls, each with a Call SID, started 1 to 3 hours ago (older
 * than MIN_CALL_AGE_SECONDS, younger than MAX_CALL_DURATION_SECONDS: only Twilio decides). `zombiePct` % of
 * them, evenly spread, are over at Twilio, with whole-second end times (Twilio's precision) in the past.
 */
export async function seedTruth(
  db: BenchDatabase,
  rows: number,
  zombiePct: number,
  /** Spread the rows over this many Twilio subaccounts; 0: none. */
  accounts = 0,
): Promise<{ zombies: number }> {
  await db.pool.query(
    `CREATE TABLE bench_truth AS
     SELECT i,
            'bench-' || lpad(i::text, 9, '0') AS call_id,
            'CA' || lpad(to_hex(i), 32, '0') AS sid,
            base - make_interval(secs => i % 7200) AS started_at,
            floor(i * $2::numeric / 100) > floor((i - 1) * $2::numeric / 100) AS zombie,
            30 + (i * 7919) % 1200 AS duration_s,
            -- Blocks of 100 rows take turns: every account gets its share of rows and of zombies.
            CASE WHEN $3::int > 0 THEN 'AC' || lpad(to_hex(1 + (i / 100) % $3::int), 32, '0') END AS account
     FROM generate_series(1, $1::int) AS i,
          (SELECT date_trunc('second', now()) - interval '1 hour' AS base) AS b`,
    [rows, zombiePct, accounts],
  );
  await db.pool.query(
    `ALTER TABLE bench_truth ADD PRIMARY KEY (call_id);
     ALTER TABLE bench_truth ADD COLUMN ended_at timestamptz;
     UPDATE bench_truth SET ended_at = started_at + make_interval(secs => duration_s) WHERE zombie`,
  );
  const { rows: counted } = await db.pool.query<{ zombies: number }>(
    "SELECT count(*) FILTER (WHERE zombie)::int AS zombies FROM bench_truth",
  );
  return { zombies: counted[0]?.zombies ?? 0 };
}

/** The default `calls` table (timestamptz times), every row of the truth in it, `active`. */
export async function seedDataset(
  db: BenchDatabase,
  mapping: CallsTableMapping,
  rows: number,
  zombiePct: number,
  /** Spread the rows over this many Twilio subaccounts (the mapping needs its account column); 0: none. */
  accounts = 0,
): Promise<{ zombies: number }> {
  await migrate(db.pool, { withCallsTable: true, mapping });
  const truth = await seedTruth(db, rows, zombiePct, accounts);
  const m = mapping;
  // Only Twilio decides here: the rows carry a Call SID, and nothing else is written to the id columns.
  if (m.twilioSid === null || m.twilioSid === m.id)
    throw new Error("the benchmark needs a Call SID column of its own");
  const account = m.twilioAccount === undefined ? "" : `, ${q(m.twilioAccount)}`;
  await db.pool.query(
    `INSERT INTO ${quoteQualifiedIdentifier(m.table)}
       (${q(m.id)}, ${q(m.twilioSid)}, ${q(m.status)}, ${q(m.startedAt)}, ${q(m.endedAt)}${account})
     SELECT call_id, sid, 'active', started_at, NULL${account === "" ? "" : ", account"} FROM bench_truth ORDER BY i`,
  );
  await db.pool.query(`VACUUM ANALYZE ${quoteQualifiedIdentifier(m.table)}`);
  return truth;
}

/** Twilio's side of the same truth: zombies `completed` with their end time, the others `in-progress`. */
export async function simulatorCalls(db: BenchDatabase): Promise<SimTwilioCall[]> {
  const { rows } = await db.pool.query<{
    sid: string;
    started_at: Date;
    zombie: boolean;
    duration_s: number;
    ended_at: Date | null;
    account: string | null;
  }>("SELECT sid, started_at, zombie, duration_s, ended_at, account FROM bench_truth ORDER BY i");
  return rows.map((r) =>
    r.zombie
      ? {
          sid: r.sid,
          ...(r.account !== null ? { accountSid: r.account } : {}),
          status: "completed",
          startTime: r.started_at,
          endTime: r.ended_at,
          duration: String(r.duration_s),
        }
      : {
          sid: r.sid,
          ...(r.account !== null ? { accountSid: r.account } : {}),
          status: "in-progress",
          startTime: r.started_at,
          endTime: null,
          duration: null,
        },
  );
}

export interface Verification {
  zombies: number;
  zombiesEndedExactly: number;
  zombiesWrong: number;
  liveTouched: number;
  auditRows: number;
  auditRowsWrong: number;
  ok: boolean;
}

/** Right when every zombie was ended exactly (or, `expectEnded` false, none was), nothing else touched. */
export function verdict(v: Omit<Verification, "ok">, expectEnded = true): Verification {
  const wanted = expectEnded ? v.zombies : 0;
  const ok =
    v.zombiesEndedExactly === wanted &&
    v.zombiesWrong === 0 &&
    v.liveTouched === 0 &&
    v.auditRows === wanted &&
    v.auditRowsWrong === 0;
  return { ...v, ok };
}

/**
 * After the pass: every zombie ended `completed` at exactly Twilio's end time with one audit row from
 * Twilio; no live row touched, no audit row for it.
 */
export async function verify(
  db: BenchDatabase,
  mapping: CallsTableMapping,
  expectEnded: boolean,
): Promise<Verification> {
  const m = mapping;
  const { rows } = await db.pool.query<Omit<Verification, "ok">>(
    `SELECT count(*) FILTER (WHERE t.zombie)::int AS zombies,
            count(*) FILTER (WHERE t.zombie AND c.${q(m.status)} = 'completed'
                             AND c.${q(m.endedAt)} = t.ended_at)::int AS "zombiesEndedExactly",
            count(*) FILTER (WHERE t.zombie AND c.${q(m.status)} <> 'active'
                             AND (c.${q(m.status)} <> 'completed' OR c.${q(m.endedAt)} IS DISTINCT FROM t.ended_at)
                            )::int AS "zombiesWrong",
            count(*) FILTER (WHERE NOT t.zombie AND (c.${q(m.status)} <> 'active'
                             OR c.${q(m.endedAt)} IS NOT NULL))::int AS "liveTouched",
            (SELECT count(*)::int FROM ${daemonTables().actions}) AS "auditRows",
            (SELECT count(*)::int FROM ${daemonTables().actions} a LEFT JOIN bench_truth z ON z.call_id = a.call_id
              WHERE z.zombie IS NOT TRUE OR a.source <> 'twilio' OR a.new_status <> 'completed'
                 OR a.ended_at <> z.ended_at) AS "auditRowsWrong"
     FROM bench_truth t JOIN ${quoteQualifiedIdentifier(m.table)} c ON c.${q(m.id)} = t.call_id`,
  );
  return verdict(rows[0] as Omit<Verification, "ok">, expectEnded);
}
