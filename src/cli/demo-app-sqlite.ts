/**
 * `demo --sqlite`: the app's table in its own SQLite file, `call_history.db` in a temporary folder, as its
 * Python code creates and writes it. No PostgreSQL: DATABASE_URL names the file, and the daemon's tables go
 * into it beside the app's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APP_SQLITE_DDL, createAppFile, execAppFile, readAppFile, seedAppFile } from "../dev/app-sqlite.js";
import { type AppTableSite, runAppTableDemo } from "./demo-app-table.js";

const SQLITE_SITE: AppTableSite = {
  title: "an app's own calls table in its SQLite file, as it is",
  open: async (_say, calls) => {
    const dir = mkdtempSync(join(tmpdir(), "call-reconciler-demo-"));
    const path = join(dir, "call_history.db");
    const close = async () => rmSync(dir, { recursive: true, force: true });
    try {
      createAppFile(path);
      seedAppFile(path, calls);
    } catch (err) {
      await close();
      throw err;
    }
    const url = `sqlite://${path}`;
    return {
      url,
      where: `SQLite file at ${path} (DATABASE_URL=${url}), removed when the demo ends; no PostgreSQL`,
      ddl: APP_SQLITE_DDL,
      runAsOwner: async (statement) => execAppFile(path, statement),
      read: async (ids) => readAppFile(path, ids),
      close,
    };
  },
};

export const runSqliteAppDemo = (opts: { out: NodeJS.WritableStream }): Promise<number> =>
  runAppTableDemo(opts, SQLITE_SITE);
