import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { ActiveCall, ActivePage, CallStore, PageCursor } from "../model/index.js";
import { checkPage, type PendingEnd } from "./check-page.js";
import { diagnoseAfterPass } from "./diagnose-due.js";
import { passEvidence } from "./evidence-gathering.js";
import { hangupOrphans } from "./hangup-orphans.js";
import { liveSetsFor } from "./live-set.js";
import { PagesInFlight } from "./pages-in-flight.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";
import { passGuards } from "./pass-guards.js";
import { addCheck, addFindings, addWrite, type PassResult } from "./pass-result.js";
import { startPass } from "./pass-start.js";
import { DeferredRows } from "./row-backoff.js";
import { PassSightings } from "./sightings.js";
import { writeEnds } from "./write-ends.js";

export * from "./pass-deps.js";
export * from "./pass-result.js";

/**
 * Pages being checked at once: enough to keep providers busy (with many Twilio accounts, a page's few fetches
 * go to accounts that are each far from their limit, so pages must overlap more), few enough to keep memory
 * flat (a page is DB_PAGE_SIZE rows, about 150 KB at 500).
 */
const PAGES_IN_FLIGHT = 8;
/** Due rows kept for the end of the pass, in pages. */
const MAX_DEFERRED_PAGES = 20;

/**
 * One level-triggered pass: list the active rows page by page, gather the providers' evidence, decide, write
 * the confirmed zombies' ends, record them. Running it twice changes nothing the second time. Throws when the
 * database cannot be read, after every page it had started has settled: nothing of a pass runs on once it has
 * returned.
 *
 * Every request of the pass listens on a signal that aborts when the pass ends, however it ends, when a page
 * fails, and when this replica stops leading: a deposed leader asks no provider anything more, and a listing
 * started for rows the pass then skipped stops with it instead of running on.
 */
export async function runPass(passDeps: PassDeps, opts: PassOptions): Promise<PassResult> {
  const ended = new AbortController();
  const sources = [ended.signal, opts.signal, passDeps.leadership].filter((s) => s !== undefined);
  const signal = AbortSignal.any(sources);
  // Every request in flight or queued listens on it: not a leak.
  setMaxListeners(0, signal);
  try {
    return await passWithin(passDeps, { ...opts, signal }, opts.signal, (why) => ended.abort(why));
  } finally {
    ended.abort();
  }
}

async function passWithin(
  passDeps: PassDeps,
  opts: PassOptions & { signal: AbortSignal },
  outer: AbortSignal | undefined,
  stop: (why: unknown) => void,
): Promise<PassResult> {
  const { deps, result } = await startPass(passDeps, opts);
  const { maxFindings } = deps;
  const limit = pLimit(deps.concurrency);
  const cutoff = new Date(result.startedAt.getTime() - deps.policy.minCallAgeSeconds * 1000);
  const stopped = () => opts.signal.aborted || result.leadershipLost || result.databaseLost;
  const sightings = new PassSightings(deps.store);
  const guards = passGuards(deps, opts);
  const deferred = new DeferredRows(deps.pageSize * MAX_DEFERRED_PAGES);
  deps.backoff?.beginPass();
  // How Twilio is asked this pass: each account listed once enough of its rows are met, or per call.
  // A pass of a few named calls asks Twilio about each: listing accounts would cost more.
  const liveSets = opts.callSids === undefined ? liveSetsFor(deps, opts) : null;
  const configuredAccount = deps.twilioStrategy.configuredAccount;
  const gather = passEvidence({ ...deps, sightings, liveSets, configuredAccount }).gather;

  /** Write, then record each end that committed, then hang up the realtime sessions they left billing. */
  const write = async (pending: readonly PendingEnd[]) => {
    const written = await writeEnds(pending, deps, opts);
    for (const end of written.ended) deps.record?.ended?.(end);
    written.tally.realtimeHangups = await hangupOrphans(written.orphans, deps, opts);
    addWrite(result, written.tally);
    addFindings(result, written.findings, maxFindings);
  };

  /** Gather and decide for a page's rows (handed over: checkPage empties it as it goes), then write. */
  const processPage = async (rows: ActiveCall[], held: ReadonlySet<string>, last = false): Promise<void> => {
    const realtimeIds = rows.flatMap((r) => (r.openaiId === null ? [] : [r.openaiId]));
    await sightings.load(realtimeIds);
    const defer = last ? {} : { defer: (row: ActiveCall) => deferred.offer(row) };
    const checked = await checkPage(rows, { deps, opts, held, gather, limit, stopped, ...defer });
    await sightings.save(realtimeIds);
    addCheck(result, checked.tally);
    addFindings(result, checked.findings, maxFindings);
    // Even when shutting down: these were decided before the signal, and their ends are one transaction.
    await write(guards.takeAside(checked.toEnd));
  };

  // List. A few pages overlap: while one page's last provider answers come in, the next is already read and
  // asked about, so a page that needs few requests (list-diff) does not leave the budget idle. Memory
  // stays bounded by PAGES_IN_FLIGHT pages, and provider load by the shared concurrency limit. The first page
  // that fails stops the others (no new row, requests abandoned) and fails the pass once they have settled.
  const pages = new PagesInFlight(PAGES_IN_FLIGHT, stop);
  let cursor: PageCursor | null = null;
  try {
    do {
      if (stopped()) break;
      const page = await listPage(deps.store, opts.callSids, cursor, cutoff, deps.pageSize);
      deps.onProgress?.();
      liveSets?.note(page.rows);
      await pages.add(processPage(page.rows, page.held));
      cursor = page.next;
    } while (cursor !== null);
    await pages.settle();
    pages.throwIfFailed();
    // Asked about long after their page was read: whether they are held is read again.
    for (const rows of deferred.pages(deps.pageSize))
      if (!stopped()) await processPage(rows, await deps.store.heldAmong(rows.map((r) => r.id)), true);
  } finally {
    // Also when reading a page failed: the pages already being checked finish (and write) first.
    await pages.settle();
    const listing = liveSets?.summary();
    result.listRequests = listing?.listRequests ?? 0;
    if ((listing?.listedAccounts ?? 0) > 0) result.twilioStrategy = "list-diff";
  }

  // The ends the guards set aside, written now, all or none.
  await guards.settle(result, sightings, write);
  result.aborted = outer?.aborted ?? false;
  if (deps.leadership?.aborted === true) result.leadershipLost = true;
  if (!stopped()) deps.backoff?.endCompletePass();
  // After the ends: a diagnosis never delays one. Not in a dry run, which writes nothing.
  if (opts.diagnose === true && !opts.dryRun && !stopped())
    result.diagnoses = await diagnoseAfterPass(deps, opts.signal);
  result.finishedAt = deps.clock();
  return result;
}

/** The next page of active rows: the keyset listing, or, for named calls, their rows in one page. */
function listPage(
  store: CallStore,
  callSids: readonly string[] | undefined,
  cursor: PageCursor | null,
  cutoff: Date,
  pageSize: number,
): Promise<ActivePage> {
  if (callSids === undefined) return store.listActivePage(cursor, cutoff, pageSize);
  return store.activeByCallSids(callSids);
}
