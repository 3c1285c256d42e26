/**
 * Telling the operator whether an index serves the listing of active calls: the gauge, a warning with the
 * statement to run, and the lines `audit` prints. Without one, a pass reads the whole calls table.
 */

import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ListingIndex } from "../model/index.js";
import { terminalText } from "./terminal-text.js";

/**
 * The store's `onListingIndex`: sets the gauge on every answer (start-up and every pass) and logs when the
 * answer changes (first answer included), so a daemon says it once, not every interval.
 */
export function watchListingIndex(
  metrics: Metrics,
  logger: Logger,
  table: string,
): (found: ListingIndex) => void {
  let last: boolean | undefined;
  return (found) => {
    metrics.listingIndexUsable.set(found.usable ? 1 : 0);
    if (found.usable === last) return;
    if (!found.usable) {
      logger.warn(
        { table, statement: found.statement },
        `no index serves the listing of active calls: each pass reads the whole table ${table}, history included. Create one: ${found.statement}`,
      );
    } else if (last === false) {
      logger.info({ table, index: found.index }, "an index now serves the listing of active calls");
    }
    last = found.usable;
  };
}

/** For `audit`'s table: nothing when an index serves the listing, else the warning and the statement. */
export function listingIndexNote(found: ListingIndex | null): string {
  if (found === null || found.usable) return "";
  return [
    "",
    "WARNING: no index serves the listing of active calls: every pass reads the whole calls table, history",
    "included, on the app's database. Create this one (it holds only the active rows, so it stays small):",
    "",
    // Built from validated names, but ACTIVE_STATUSES values are quoted into it as they were given.
    `  ${terminalText(found.statement)};`,
  ].join("\n");
}
