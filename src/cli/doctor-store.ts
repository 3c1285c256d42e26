/**
 * `doctor`'s lines read through the store, the same on every database: the listing index, the active rows,
 * their start times. Asked only once the tables are usable: they would only fail again on what is named above.
 */
import type { Config } from "../config/config.js";
import type { DoctorFinding as Check, CommandStore } from "../model/index.js";

export async function storeChecks(
  config: Config,
  store: CommandStore,
  failed: (name: string, err: unknown) => Check,
): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const index = await store.listingIndex();
    checks.push(
      index.usable
        ? { name: "listing index", state: "pass", detail: "an index serves the listing of active calls" }
        : {
            name: "listing index",
            state: "warn",
            detail: `every pass scans the whole table: ${index.statement}`,
          },
    );
  } catch (err) {
    checks.push(failed("listing index", err));
  }
  try {
    const summary = await store.activeSummary();
    const statuses = config.activeStatuses.join(",");
    checks.push(
      summary.active > 0
        ? {
            name: "active rows",
            state: "pass",
            detail: `${summary.active} rows hold ACTIVE_STATUSES (${statuses})`,
          }
        : {
            name: "active rows",
            state: "warn",
            detail: `no row's ${config.calls.status} holds ${statuses}: if calls are live now, CALLS_COL_STATUS or ACTIVE_STATUSES is wrong`,
          },
    );
  } catch (err) {
    checks.push(failed("active rows", err));
  }
  try {
    const bad = await store.unparseableStarts();
    if (bad.count > 0) {
      checks.push({
        name: "start times",
        state: "warn",
        detail: `${bad.count} active rows have a ${config.calls.startedAt} that names no time (e.g. ${JSON.stringify(bad.example)}): they are never ended`,
      });
    }
  } catch (err) {
    checks.push(failed("start times", err));
  }
  return checks;
}

/** The distinct Twilio account SIDs of the active rows, beside the configured account (for the credential checks). */
export async function subaccountsOf(config: Config, store: CommandStore): Promise<string[]> {
  if (config.calls.twilioAccount === undefined) return [];
  const shares = await store.activeStartShares(2).catch(() => new Map<string | null, unknown>());
  return [...shares.keys()].filter((a): a is string => a !== null && a !== config.twilio?.accountSid);
}
