/** One check of `doctor`, its mark, and the exit code of a set of them. */
import { errorMessage } from "../error-message.js";
import type { DoctorFinding } from "../model/index.js";
import { EXIT, explainFatal } from "./errors.js";
import { terminalText } from "./terminal-text.js";

/** A provider's line and the database's (model/database.ts) are one kind of line. */
export type Check = DoctorFinding;
export type CheckState = Check["state"];

const MARK: Record<CheckState, string> = { pass: "✓", warn: "!", fail: "✗" };

/** Exit codes: 0 every check passed, 1 some only warn, 2 some failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => c.state === "fail")) return EXIT.badConfig;
  return checks.some((c) => c.state === "warn") ? EXIT.zombiesLeft : EXIT.ok;
}

/**
 * A detail's longest fix (the GRANTs) fits in this many characters; an account id as long as a page, read from
 * the app's table, does not. `--json` has every detail whole.
 */
const DETAIL_WIDTH = 1000;

/**
 * Details quote what the checks met: provider errors, database errors, the account ids of the app's rows. They
 * are shown escaped, so that none of it can act on the terminal or break the one line a check has.
 */
export function doctorReport(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => `${MARK[c.state]} ${c.name.padEnd(width)}  ${terminalText(c.detail, DETAIL_WIDTH)}`)
    .join("\n");
}

/** An error as a line's detail: the one line an operator can act on, else its message. */
export const explainCheck = (err: unknown): string => explainFatal(err) ?? errorMessage(err);

export const failed = (name: string, err: unknown): Check => ({
  name,
  state: "fail",
  detail: explainCheck(err),
});
