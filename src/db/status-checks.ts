import type pg from "pg";
import { boundedText, errorMessage } from "../error-message.js";
import { pgCode } from "./errors.js";
import { CHECK_ROW_SQL, type CheckRowColumn, checkEvaluationSql, STATUS_CHECKS_SQL } from "./sql.js";

/** What PostgreSQL answered for one CHECK constraint on the status column. */
export type CheckVerdict =
  | { name: string; kind: "evaluated"; refused: string[] }
  /** Not evaluated: it reads other columns too, or PostgreSQL could not evaluate it here (see `why`). */
  | { name: string; kind: "unevaluated"; why: string };

/**
 * Asks PostgreSQL which of `values` each CHECK constraint on the status column refuses, by evaluating the
 * constraint's own expression for each value (see checkEvaluationSql), in a read-only transaction rolled back
 * at the end: nothing is written, not even by a function the expression calls. $1 of every statement is the
 * value: it is never spliced into the text.
 *
 * A constraint that also reads other columns is not evaluated: its answer depends on each row's values, which
 * a start-up check does not have. One PostgreSQL cannot evaluate (it calls a function this role may not
 * execute, or one that writes) is reported unevaluated with PostgreSQL's reason; the write itself still meets it.
 */
export async function evaluateStatusChecks(
  pool: pg.Pool,
  table: string,
  column: string,
  values: readonly string[],
): Promise<CheckVerdict[]> {
  const params = [table, column];
  const checks = await pool.query<{ name: string; expr: string; domain: boolean; others: string[] }>(
    STATUS_CHECKS_SQL,
    params,
  );
  if (checks.rows.length === 0) return [];
  const row = await pool.query<CheckRowColumn & { alias: string }>(CHECK_ROW_SQL, params);
  const alias = row.rows[0]?.alias ?? "";
  const subjectType = row.rows.find((c) => c.subject)?.type ?? "text";

  const client = await pool.connect();
  try {
    await client.query("BEGIN READ ONLY");
    const verdicts: CheckVerdict[] = [];
    for (const c of checks.rows) {
      if (c.others.length > 0) {
        verdicts.push({ name: c.name, kind: "unevaluated", why: `it also reads ${c.others.join(", ")}` });
        continue;
      }
      const sql = checkEvaluationSql(
        c.expr,
        c.domain ? { domainValueType: subjectType } : { alias, columns: row.rows },
      );
      verdicts.push(await evaluateOne(client, c.name, sql, values));
    }
    await client.query("ROLLBACK");
    return verdicts;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** One constraint, value by value, under a savepoint: an error leaves the transaction usable for the next. */
async function evaluateOne(
  client: pg.PoolClient,
  name: string,
  sql: string,
  values: readonly string[],
): Promise<CheckVerdict> {
  await client.query("SAVEPOINT status_check");
  try {
    const refused: string[] = [];
    for (const value of values) {
      const { rows } = await client.query<{ accepts: boolean | null }>(sql, [value]);
      if (rows[0]?.accepts === false) refused.push(value);
    }
    await client.query("RELEASE SAVEPOINT status_check");
    return { name, kind: "evaluated", refused };
  } catch (err) {
    if (!isEvaluationError(err)) throw err;
    await client.query("ROLLBACK TO SAVEPOINT status_check");
    return { name, kind: "unevaluated", why: boundedText(errorMessage(err)) };
  }
}

/**
 * An error of the expression itself (a privilege, a read-only transaction, a failing function), as opposed to
 * one of the connection or the server (classes 08, 53, 57, 58), which is the caller's to handle.
 */
function isEvaluationError(err: unknown): boolean {
  const code = pgCode(err);
  return code !== undefined && code.length === 5 && !/^(08|53|57|58)/.test(code);
}
