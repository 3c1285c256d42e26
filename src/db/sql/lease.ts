import type { DaemonTables } from "./tables.js";

/**
 * Leadership among replicas: a row per lease, taken or renewed with one conditional statement judged on the
 * database's clock (so replicas' clocks never matter). Unlike a session advisory lock it survives PgBouncer's
 * transaction pooling. Returns a row only when `$2` holds the lease afterwards.
 * $1 name, $2 holder, $3 ttl seconds.
 */
export const leaseSql = (t: DaemonTables) => ({
  acquire: `INSERT INTO ${t.leases} AS l (name, holder, expires_at)
      VALUES ($1, $2, now() + make_interval(secs => $3))
    ON CONFLICT (name) DO UPDATE
      SET holder = EXCLUDED.holder,
          expires_at = EXCLUDED.expires_at,
          acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END
      WHERE l.expires_at < now() OR l.holder = EXCLUDED.holder
    RETURNING holder`,
  /** Hands the lease back at shutdown so another replica can take over at once. $1 name, $2 holder. */
  release: `UPDATE ${t.leases} SET expires_at = now() - interval '1 millisecond'
    WHERE name = $1 AND holder = $2`,
  /** Who holds the lease $1 and until when, judged on the database's clock; no row when nobody holds it. */
  current: `SELECT holder, expires_at, extract(epoch FROM expires_at - now())::float8 AS seconds_left
    FROM ${t.leases} WHERE name = $1 AND expires_at >= now()`,
});

/**
 * The schema and name of the table $1 (a quoted, possibly schema-qualified name) is, as this session's
 * search_path resolves it; no row when there is no such table.
 */
export const RESOLVED_TABLE_SQL = `SELECT n.nspname::text AS schema, c.relname::text AS name
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  WHERE c.oid = to_regclass($1::text)`;
