/**
 * vitest globalSetup: one PostgreSQL server for the whole run. `TEST_DATABASE_URL` (a superuser or a
 * role allowed to CREATE DATABASE) wins; otherwise an embedded PostgreSQL is started and stopped.
 * Test files get the URL with `inject("adminDatabaseUrl")` and make their own database with
 * `freshDatabase()` from test/helpers/db.ts.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../src/dev/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external !== undefined && external !== "") {
    await checkReachable(external);
    project.provide("adminDatabaseUrl", external);
    return async () => {};
  }
  // Quiet unless TEST_PG_LOG=1; a failed start reports the server's last lines anyway.
  const verbose = process.env.TEST_PG_LOG === "1";
  const server = await startEmbeddedPostgres({
    log: verbose ? (line) => console.error(`[postgres] ${line}`) : undefined,
  }).catch((err: unknown) => {
    throw new Error(`could not start embedded PostgreSQL for the tests (or set TEST_DATABASE_URL): ${err}`, {
      cause: err,
    });
  });
  project.provide("adminDatabaseUrl", server.url);
  return async () => {
    await server.stop();
  };
}

/** Fails the run once, clearly, instead of every test timing out on a wrong TEST_DATABASE_URL. */
async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } catch (err) {
    const where = new URL(url);
    throw new Error(`TEST_DATABASE_URL (${where.host}${where.pathname}) is not reachable: ${err}`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => {});
  }
}
