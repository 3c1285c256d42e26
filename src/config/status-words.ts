/**
 * The status words the daemon would write (END_STATUSES through STATUS_MAP) against those the app writes when
 * a call ends, as its finished rows carry them: the comparison both stores' `doctor` make, pure.
 */
import { type DoctorFinding, END_STATUSES } from "../model/index.js";
import { mapStatus } from "./status-map.js";

/**
 * For each status the daemon writes that no finished row carries: a warning when a row carries it spelt
 * otherwise (case, separators, a doubled letter: `cancelled`, `No_Answer`), with the STATUS_MAP to set (every such
 * fix in one value); and
 * when STATUS_MAP maps it to a value no row carries, unless the column's enum or CHECK accepts every target
 * (`targetsAccepted`: then the target is one of the app's words, only not met yet). A status never seen and
 * not mapped says nothing: an app may simply have had no busy call yet.
 */
export function compareStatusWords(
  statusMap: Readonly<Record<string, string>>,
  finished: readonly string[],
  table: string,
  opts: { targetsAccepted: boolean } = { targetsAccepted: false },
): string[] {
  if (finished.length === 0) return [];
  const seen = new Set(finished);
  const unseen = END_STATUSES.map((status) => ({ status, written: mapStatus(statusMap, status) })).filter(
    (w) => !seen.has(w.written),
  );
  const fixes = new Map<string, string>();
  for (const w of unseen) {
    const near = finished.find((v) => spelling(v) === spelling(w.written));
    if (near !== undefined) fixes.set(w.status, near);
  }
  // Every fix in the one value to set: applying one warning's setting must not undo another's.
  const setting = Object.entries({ ...statusMap, ...Object.fromEntries(fixes) })
    .map(([k, v]) => `${k}:${v}`)
    .join(",");
  const warnings: string[] = [];
  for (const { status, written } of unseen) {
    const near = fixes.get(status);
    const mapped = Object.hasOwn(statusMap, status);
    if (near !== undefined) {
      const what = mapped ? `${written} (STATUS_MAP ${status}:${written})` : written;
      warnings.push(
        `the daemon would write ${what}, which no finished row of ${table} carries, but ${JSON.stringify(near)} does: set STATUS_MAP=${setting}`,
      );
    } else if (mapped && !opts.targetsAccepted) {
      warnings.push(
        `STATUS_MAP maps ${status} to ${written}, which no finished row of ${table} carries (they carry ${quoted(finished)}): map ${status} to the status the app gives such calls`,
      );
    }
  }
  return warnings;
}

/** A status word without case, separators or doubled letters: `Cancelled` and `canceled`, `no_answer` and `no-answer`. */
function spelling(word: string): string {
  return word
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "")
    .replace(/(.)\1+/gu, "$1");
}

const quoted = (values: readonly string[]): string =>
  `${values
    .slice(0, 10)
    .map((v) => JSON.stringify(v))
    .join(", ")}${values.length > 10 ? ", ..." : ""}`;

/**
 * `doctor`'s status words lines, from what the finished rows carry (`finished`) and the warnings of
 * compareStatusWords: one line per warning, or one line saying all is well or that there is nothing to compare.
 */
export function statusWordFindings(
  words: { finished: readonly string[]; warnings: readonly string[] },
  columns: { table: string; endedAt: string },
): DoctorFinding[] {
  const name = "status words";
  if (words.finished.length === 0) {
    return [
      {
        name,
        state: "pass",
        detail: `no finished rows (with an end time in ${columns.endedAt}) yet: nothing to compare the statuses the daemon would write with`,
      },
    ];
  }
  if (words.warnings.length > 0) return words.warnings.map((detail) => ({ name, state: "warn", detail }));
  return [
    {
      name,
      state: "pass",
      detail: `the finished rows of ${columns.table} carry ${words.finished.map((v) => JSON.stringify(v)).join(", ")}: no status the daemon would write is spelt otherwise there`,
    },
  ];
}
