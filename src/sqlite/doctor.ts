/** `doctor`'s lines that only a SQLite file has: its journal mode, and the status words its app writes. */

import type { CallsTableMapping } from "../config/config.js";
import { compareStatusWords } from "../config/status-words.js";
import { errorMessage } from "../error-message.js";
import type { DoctorFinding } from "../model/index.js";
import type { SqliteFile } from "./file.js";
import { journalMode } from "./migrate.js";
import { finishedStatusesSql } from "./sql/status-words.js";

export { fileFinding } from "./doctor-file.js";

const ROLLBACK = new Set(["delete", "truncate", "persist"]);

/**
 * The file's journal mode. A rollback journal (Python's default) and WAL both keep the file whole through a
 * crash; `memory` and `off` do not, and a daemon writing beside the app makes a crash mid-write likelier to matter.
 */
export async function journalModeFinding(file: SqliteFile): Promise<DoctorFinding> {
  const name = "journal mode";
  let mode: string;
  try {
    mode = (await journalMode(file)).toLowerCase();
  } catch (err) {
    return { name, state: "fail", detail: `cannot read the file's journal mode: ${errorMessage(err)}` };
  }
  if (ROLLBACK.has(mode)) {
    return {
      name,
      state: "pass",
      detail: `${mode} (a rollback journal): the app and the daemon take turns on the file's lock, each of the daemon's writes one short transaction`,
    };
  }
  if (mode === "wal") {
    return {
      name,
      state: "pass",
      detail:
        "wal: readers never wait for the writer; the -wal and -shm files beside the file must be writable by the app and the daemon, and the file must be on a local disk (not a network share)",
    };
  }
  return {
    name,
    state: "warn",
    detail: `${mode}: a crash in the middle of a write can corrupt the file; set SQLITE_JOURNAL_MODE=delete (or wal) and run \`call-reconciler migrate\``,
  };
}

/** The distinct statuses of the newest finished rows (empty: none finished yet). */
export async function readFinishedStatuses(file: SqliteFile, m: CallsTableMapping): Promise<string[]> {
  const sql = finishedStatusesSql(m);
  const rows = await file.read((db) => db.prepare(sql).all() as Array<{ status: string }>);
  return rows.map((r) => r.status);
}

/** The status words check on a SQLite file: the finished rows' statuses, and one warning per misspelt one. */
export async function readStatusWords(
  file: SqliteFile,
  m: CallsTableMapping,
  statusMap: Readonly<Record<string, string>>,
  opts: { targetsAccepted: boolean } = { targetsAccepted: false },
): Promise<{ finished: string[]; warnings: string[] }> {
  const finished = await readFinishedStatuses(file, m);
  return { finished, warnings: compareStatusWords(statusMap, finished, m.table, opts) };
}
