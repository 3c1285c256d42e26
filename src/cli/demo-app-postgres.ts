/** `demo --table text`: the app's table in an embedded PostgreSQL. */
import { createPool } from "../db/pool.js";
import { APP_CALLS_TABLE_SQL, readAppCalls, seedAppCalls } from "../dev/app-table.js";
import { type AppTableSite, runAppTableDemo } from "./demo-app-table.js";
import { shownUrl, startDemoDatabase } from "./demo-steps.js";

const POSTGRES_SITE: AppTableSite = {
  title: "an app's own calls table, as it is",
  open: async (say, calls) => {
    const server = await startDemoDatabase(say);
    const pool = createPool(server.url, { max: 1 });
    const close = async () => {
      await pool.end();
      await server.stop();
    };
    try {
      await pool.query(APP_CALLS_TABLE_SQL);
      await seedAppCalls(pool, calls);
    } catch (err) {
      await close();
      throw err;
    }
    return {
      url: server.url,
      where: `PostgreSQL at ${shownUrl(server.url)}`,
      ddl: APP_CALLS_TABLE_SQL,
      runAsOwner: async (statement) => {
        await pool.query(statement);
        // Fresh statistics, as autovacuum would gather them on a real table: the planner then weighs the new
        // index against the app's own index on started_at with the table's real sizes.
        await pool.query("ANALYZE calls");
      },
      read: (ids) => readAppCalls(pool, ids),
      close,
    };
  },
};

export const runPostgresAppDemo = (opts: { out: NodeJS.WritableStream }): Promise<number> =>
  runAppTableDemo(opts, POSTGRES_SITE);
