import { setMaxListeners } from "node:events";
import type { LimitFunction } from "p-limit";
import type { ProviderProbes, TwilioListAnswer, TwilioListQuery } from "../model/index.js";
import { LiveCalls } from "./live-calls.js";

/** Enough for 10 million live calls at 1,000 a page: a runaway paging loop ends here instead of never. */
const MAX_PAGES = 10_000;

export type Twilio = NonNullable<ProviderProbes["twilio"]>;

export type LiveSetResult =
  | { ok: true; live: LiveCalls; requests: number }
  /** `slicesIgnored`: a slice listed a call that started outside it: the provider filters by the date only. */
  | { ok: false; detail: string; requests: number; slicesIgnored?: true };

/** Twilio's start times are whole seconds and a slice's upper bound is its last whole second, inclusive. */
const SECOND_MS = 1000;

/** Whether a listed call's start lies outside the slice that listed it (unknown starts prove nothing). */
function outsideSlice(query: TwilioListQuery, start: Date | null | undefined): boolean {
  if (start === null || start === undefined) return false;
  const t = start.getTime();
  return (
    (query.startedFrom !== undefined && t < query.startedFrom.getTime()) ||
    (query.startedTo !== undefined && t >= query.startedTo.getTime() + SECOND_MS)
  );
}

/**
 * Lists one account's live calls: one chain of pages per query (queued, ringing, in-progress, or slices of
 * them), all chains at once so that the account's rate budget is not left idle while one page is answered.
 * Any failure abandons the whole list (the other chains stop): the caller then asks per call.
 */
export async function listLiveCalls(
  twilio: Twilio,
  queries: readonly TwilioListQuery[],
  signal: AbortSignal | undefined,
  /** Shared by every listing of the pass: bounds the list pages in flight. */
  pages: LimitFunction,
): Promise<LiveSetResult> {
  const live = new LiveCalls();
  const failed = new AbortController();
  const chainSignal = signal === undefined ? failed.signal : AbortSignal.any([signal, failed.signal]);
  // Every page in flight or queued listens on it (up to one per slice): not a leak.
  setMaxListeners(0, chainSignal);
  let requests = 0;
  let failure: string | null = null;
  let slicesIgnored = false;
  const fail = (detail: string) => {
    failure ??= detail;
    failed.abort();
  };
  const chain = async (query: TwilioListQuery) => {
    let pageUri: string | null = null;
    // A next page already read is a loop (a broken or hostile answer): given up at once, not 10,000 times.
    const read = new Set<string>();
    do {
      if (failed.signal.aborted) return;
      if (requests >= MAX_PAGES) return fail(`more than ${MAX_PAGES} list pages`);
      requests++;
      const uri: string | null = pageUri;
      const page: TwilioListAnswer = await pages(
        (): Promise<TwilioListAnswer> => twilio.listCallsPage(query, uri, chainSignal),
      );
      if (page.kind === "error") return fail(`listing ${query.status} calls: ${page.detail}`);
      for (const c of page.calls) {
        if (outsideSlice(query, c.startTime)) {
          slicesIgnored = true;
          return fail(
            `a call listed for StartTime ${sliceText(query)} started at ${c.startTime?.toISOString()}`,
          );
        }
        // The Status filter should already guarantee it; a call listed with another status is not trusted.
        if (c.status === query.status) live.add(c.sid, query.status);
      }
      if (page.nextPageUri !== null && read.has(page.nextPageUri))
        return fail(`listing ${query.status} calls: the next page is one already read (the list repeats)`);
      if (page.nextPageUri !== null) read.add(page.nextPageUri);
      pageUri = page.nextPageUri;
    } while (pageUri !== null);
  };
  await Promise.all(queries.map(chain));
  if (failure === null) return { ok: true, live: live.seal(), requests };
  return { ok: false, detail: failure, requests, ...(slicesIgnored ? { slicesIgnored: true as const } : {}) };
}

const sliceText = (q: TwilioListQuery) =>
  `${q.startedFrom?.toISOString() ?? "…"} to ${q.startedTo?.toISOString() ?? "…"}`;
