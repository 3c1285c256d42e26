import pLimit from "p-limit";
import type { ActiveCall, PageCursor } from "../model/index.js";
import { checkPage } from "./check-page.js";
import { passEvidence } from "./evidence-gathering.js";
import { planTwilio } from "./live-set.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";
import { addCheck, addFindings, addWrite, newPassResult, type PassResult } from "./pass-result.js";
import { writeEnds } from "./write-ends.js";

export * from "./pass-deps.js";
export * from "./pass-result.js";

/** Pages being checked at once: enough to keep a provider busy, few enough to keep memory flat. */
const PAGES_IN_FLIGHT = 3;
const DEFAULT_MAX_FINDINGS = 10_000;
/** Due rows kept for the end of the pass, in pages. */
const MAX_DEFERRED_PAGES = 20;

type Gather = ReturnType<typeof passEvidence>["gather"];

/**
 * One level-triggered pass: page through the active rows, ask the providers, decide, end the confirmed
 * zombies. Running it twice changes nothing the second time. Throws only when the database cannot be read.
 */
export async function runPass(deps: PassDeps, opts: PassOptions): Promise<PassResult> {
  const startedAt = deps.clock();
  const result = newPassResult(opts.runId, opts.dryRun, startedAt);
  const maxFindings = deps.maxFindings ?? DEFAULT_MAX_FINDINGS;
  const limit = pLimit(deps.concurrency);
  const cutoff = new Date(startedAt.getTime() - deps.policy.minCallAgeSeconds * 1000);
  const stopped = () => opts.signal?.aborted === true || result.leadershipLost || result.databaseLost;
  deps.absences.beginPass();
  deps.backoff?.beginPass();
  // Rows that failed before and are due again wait here until the fresh rows are done; beyond the cap they
  // are simply asked in place, so a large outage cannot make this list grow with the table.
  const deferred: ActiveCall[] = [];
  const defer = (row: ActiveCall): boolean => {
    if (deferred.length >= deps.pageSize * MAX_DEFERRED_PAGES) return false;
    deferred.push(row);
    return true;
  };

  /** Decided on the first page: how Twilio is asked this pass (list-diff or per call). */
  const evidenceFor = async (firstPage: ActiveCall[]) => {
    const plan = await planTwilio(firstPage, deps, opts);
    result.listRequests = plan.listRequests;
    if (plan.liveSet !== null) result.twilioStrategy = "list-diff";
    return passEvidence({ ...deps, liveSet: plan.liveSet }).gather;
  };

  /** Page -> evidence -> verdicts -> one batch write; its tallies are added to the pass's result. */
  const processPage = async (rows: ActiveCall[], gather: Gather, last = false): Promise<void> => {
    const checked = await checkPage(rows, { deps, opts, gather, limit, stopped, ...(last ? {} : { defer }) });
    addCheck(result, checked.tally);
    addFindings(result, checked.findings, maxFindings);
    // Even when shutting down: these were decided before the signal, and their ends are one transaction.
    const written = await writeEnds(checked.toEnd, deps, opts);
    addWrite(result, written.tally);
    addFindings(result, written.findings, maxFindings);
  };

  // A few pages overlap: while one page's last provider answers come in, the next is already read and
  // asked about, so a page that needs few requests (list-diff) does not leave the budget idle. Memory
  // stays bounded by PAGES_IN_FLIGHT pages, and provider load by the shared concurrency limit.
  const inFlight: Promise<void>[] = [];
  let cursor: PageCursor | null = null;
  let gather: Gather | null = null;
  try {
    do {
      if (stopped()) break;
      const page = await deps.store.listActivePage(cursor, cutoff, deps.pageSize);
      deps.onProgress?.();
      gather ??= await evidenceFor(page.rows);
      inFlight.push(processPage(page.rows, gather));
      if (inFlight.length >= PAGES_IN_FLIGHT) await inFlight.shift();
      cursor = page.next;
    } while (cursor !== null);
    await Promise.all(inFlight.splice(0));
    for (let i = 0; i < deferred.length && gather !== null && !stopped(); i += deps.pageSize)
      await processPage(deferred.slice(i, i + deps.pageSize), gather, true);
  } finally {
    // Also when reading a page failed: the pages already being checked finish (and write) first.
    await Promise.all(inFlight);
  }

  result.aborted = opts.signal?.aborted ?? false;
  if (!stopped()) {
    deps.absences.endCompletePass();
    deps.backoff?.endCompletePass();
  }
  result.finishedAt = deps.clock();
  return result;
}
