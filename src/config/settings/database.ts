import { z } from "zod";
import { databaseUrlProblem } from "../fields/database-url.js";
import { identifier } from "../fields/env-fields.js";
import { numberSetting } from "../fields/number-setting.js";
import { inGroup } from "./setting.js";

export const DATABASE_SETTINGS = inGroup("database", {
  DATABASE_URL: {
    about:
      "`postgres://…` of the app's database, as `pg` reads it: percent-encode special characters of the user name and password (`#` as `%23`, `/` as `%2F`, `?` as `%3F`, `@` as `%40`, `%` as `%25`). Never repeated in an error or a log. Or the app's SQLite file: `sqlite:///absolute/path/calls.db`, `sqlite:relative/path/calls.db` (see [SQLite](sqlite.md))",
    shown: "(required)",
    field: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        const problem = v === undefined ? null : databaseUrlProblem(v);
        if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
      }),
  },
  RECONCILER_SCHEMA: {
    about:
      "the schema of the daemon's own tables (`call_reconciler_*`); every statement names it, so the role's `search_path` never decides where they are. `migrate` creates it if it is missing and prints where it wrote. The state there belongs to one `CALLS_TABLE`: a copy of the table (a trial) needs a schema of its own. A schema of its own (`call_reconciler`) is recommended: see [Database privileges](operations.md#database-privileges)",
    field: identifier("public"),
  },
  SQLITE_BUSY_TIMEOUT_MS: {
    about:
      "SQLite only: how long a statement of the daemon waits for the app's lock on the file before it gives up (a pass then leaves those rows for the next one). Waited in short blocking steps with pauses between, so the daemon stays responsive",
    field: numberSetting({ whole: true, min: 0, max: 60_000, unit: "milliseconds", example: 5_000 }).default(
      5_000,
    ),
  },
  SQLITE_JOURNAL_MODE: {
    about:
      "SQLite only: the journal mode `migrate` sets on the file (`wal`, `delete`, `truncate`, `persist`). Unset: the file's mode is left as the app made it. See [SQLite](sqlite.md#journal-mode) before choosing `wal`",
    field: z
      .enum(["wal", "delete", "truncate", "persist"], { error: "must be wal, delete, truncate or persist" })
      .optional(),
  },
  DB_PAGE_SIZE: {
    about: "rows per keyset page of the listing of active calls",
    field: numberSetting({ whole: true, min: 1, max: 10_000, unit: "rows", example: 500 }).default(500),
  },
  DB_STATEMENT_TIMEOUT_MS: {
    about:
      "the server cancels a statement after this long; the client gives up 5 s later. Bounds the listing's scan of a table without [the index the listing needs](operations.md#the-index-the-listing-needs)",
    field: numberSetting({
      whole: true,
      min: 1_000,
      max: 3_600_000,
      unit: "milliseconds",
      example: 30_000,
    }).default(30_000),
  },
});
