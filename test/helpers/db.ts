/**
 * One database per test file (or per test), on the server that test/global-setup.ts provides, so files
 * can run in parallel without seeing each other's tables.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface FreshDatabase {
  /** Connection string for the new database (same server, user and password as the admin URL). */
  url: string;
  name: string;
  pool: pg.Pool;
  /** Ends the pool and drops the database (terminating leftover sessions). Safe to call repeatedly. */
  drop(): Promise<void>;
}

/** The admin URL provided by the global setup. */
export function adminDatabaseUrl(): string {
  return inject("adminDatabaseUrl");
}

/** `url` with its database name replaced by `dbName`. */
export function urlForDatabase(url: string, dbName: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(dbName)}`;
  return u.toString();
}

/** Runs `fn` with a short-lived client on the admin database. */
export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(opts: { poolMax?: number } = {}): Promise<FreshDatabase> {
  const name = `cr_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = urlForDatabase(adminDatabaseUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 5 });
  // An idle client's error (e.g. the server going away at teardown) must not crash the worker.
  pool.on("error", () => {});

  let dropping: Promise<void> | undefined;
  return {
    url,
    name,
    pool,
    drop() {
      dropping ??= (async () => {
        await pool.end().catch(() => {});
        await withAdminClient(async (c) => {
          const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
          const force = Number(rows[0]?.v ?? 0) >= 130000 ? " WITH (FORCE)" : "";
          await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}${force}`);
        });
      })();
      return dropping;
    },
  };
}
