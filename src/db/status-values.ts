import type pg from "pg";
import { type CallsTableMapping, mapStatus } from "../config/config.js";
import { quoteQualifiedIdentifier } from "../config/fields/identifiers.js";
import { END_STATUSES } from "../model/index.js";
import { SchemaMismatchError } from "./errors.js";
import { ENUM_LABELS_SQL } from "./sql.js";
import { evaluateStatusChecks } from "./status-checks.js";

/** What the start-up check of the status column could read, for the logs. */
export interface StatusValuesReport {
  /** `enum`: its labels were checked; `check`: CHECK constraints were; `none`: nothing to check. */
  checked: "enum" | "check" | "none";
  /** CHECK constraints on the column that PostgreSQL could not evaluate here, so were not checked: `name (why)`. */
  unreadableChecks: string[];
}

/**
 * Start-up check that every status the daemon may write (END_STATUSES, through STATUS_MAP) is one the status
 * column accepts: an enum's labels, and each CHECK constraint as PostgreSQL evaluates it (see
 * status-checks.ts). Throws SchemaMismatchError, one line naming the missing values and STATUS_MAP; for an
 * enum, also when an active status is not one of its labels (every listing would fail).
 */
export async function checkStatusValues(
  pool: pg.Pool,
  m: CallsTableMapping,
  statusMap: Readonly<Record<string, string>>,
  activeStatuses: readonly string[],
): Promise<StatusValuesReport> {
  const { report, problems } = await statusValueProblems(pool, m, statusMap, activeStatuses);
  if (problems[0] !== undefined) throw new SchemaMismatchError(problems[0]);
  return report;
}

/** checkStatusValues' findings, each problem its own line: `doctor` names them all. */
export async function statusValueProblems(
  pool: pg.Pool,
  m: CallsTableMapping,
  statusMap: Readonly<Record<string, string>>,
  activeStatuses: readonly string[],
): Promise<{ report: StatusValuesReport; problems: string[] }> {
  const params = [quoteQualifiedIdentifier(m.table), m.status];
  const writes = END_STATUSES.map((s) => ({ provider: s, value: mapStatus(statusMap, s) }));
  const where = `the status column ${m.table}.${m.status}`;
  const problems: string[] = [];

  const labels = await pool.query<{ label: string; type: string }>(ENUM_LABELS_SQL, params);
  const enumLabels = labels.rows.length > 0 ? new Set(labels.rows.map((r) => r.label)) : null;
  if (enumLabels !== null) {
    const what = `${where} (enum ${labels.rows[0]?.type})`;
    problems.push(...refusedWrites(writes, (v) => !enumLabels.has(v), what));
    const inactive = activeStatuses.filter((s) => !enumLabels.has(s));
    if (inactive.length > 0)
      problems.push(`ACTIVE_STATUSES names ${inactive.join(", ")}, which ${what} lacks`);
  }

  // A value the enum lacks is named above; cast to the enum it would fail before any CHECK is asked.
  const candidates = [...new Set(writes.map((w) => w.value))].filter((v) => enumLabels?.has(v) ?? true);
  const verdicts = await evaluateStatusChecks(pool, params[0] as string, m.status, candidates);
  const unreadableChecks: string[] = [];
  for (const v of verdicts) {
    if (v.kind === "unevaluated") unreadableChecks.push(`${v.name} (${v.why})`);
    else {
      const refused = new Set(v.refused);
      problems.push(...refusedWrites(writes, (w) => refused.has(w), `${where} (CHECK constraint ${v.name})`));
    }
  }
  const checked = enumLabels !== null ? "enum" : verdicts.length > unreadableChecks.length ? "check" : "none";
  return { report: { checked, unreadableChecks }, problems };
}

/** The one line naming what `what` refuses of what the daemon may write, with STATUS_MAP; none if nothing. */
function refusedWrites(
  writes: readonly { provider: string; value: string }[],
  refuses: (value: string) => boolean,
  what: string,
): string[] {
  const missing = writes.filter((w) => refuses(w.value));
  if (missing.length === 0) return [];
  const names = missing.map((w) =>
    w.value === w.provider ? w.value : `${w.value} (STATUS_MAP ${w.provider}:${w.value})`,
  );
  const example = missing[0]?.provider ?? "no-answer";
  return [
    `${what} does not accept ${[...new Set(names)].join(", ")}, which the daemon may write: add them, or map each ` +
      `to a value it accepts with STATUS_MAP (e.g. STATUS_MAP=${example}:<value>)`,
  ];
}
