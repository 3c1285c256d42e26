/**
 * The status words the daemon would write (END_STATUSES through STATUS_MAP) against those the app writes when
 * a call ends, as its finished rows carry them. A text column accepts any word, so `canceled` written into a
 * table whose app says `cancelled` is accepted, and the app's own screens and reports then miss those calls.
 */
import type pg from "pg";
import type { CallsTableMapping } from "../config/config.js";
import { quoteIdentifier, quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import { compareStatusWords } from "../config/status-words.js";
import { finishedStatusesSql } from "./sql/finished-statuses.js";

export interface StatusWords {
  /** The distinct statuses of the latest finished rows (empty: no finished row to compare with). */
  finished: string[];
  /** One line per status written otherwise than the app writes it, each with the STATUS_MAP to set. */
  warnings: string[];
}

/** Reads the latest finished rows' statuses (a bounded read, see finishedStatusesSql) and compares. */
export async function readStatusWords(
  pool: pg.Pool,
  m: CallsTableMapping,
  statusMap: Readonly<Record<string, string>>,
  opts: { targetsAccepted: boolean },
): Promise<StatusWords> {
  const sql = finishedStatusesSql(quoteQualifiedIdentifier(m.table), {
    status: quoteIdentifier(m.status),
    startedAt: quoteIdentifier(m.startedAt),
    endedAt: quoteIdentifier(m.endedAt),
  });
  const { rows } = await pool.query<{ statuses: string[] }>(sql);
  const finished = rows[0]?.statuses ?? [];
  return { finished, warnings: compareStatusWords(statusMap, finished, m.table, opts) };
}
