import { type ProviderProbes, TWILIO_LIVE_STATUSES } from "../model/index.js";
import { LiveCalls } from "./live-calls.js";

/** Enough for 10 million live calls at 1,000 a page: a runaway paging loop ends here instead of never. */
const MAX_PAGES = 10_000;

export type LiveSetResult =
  | { ok: true; live: LiveCalls; requests: number }
  | { ok: false; detail: string; requests: number };

/**
 * Lists Twilio's live calls (queued, ringing, in-progress: one status per request, as the API filters),
 * following next_page_uri. Any failure abandons the list: the caller then asks per call.
 */
export async function listLiveCalls(
  twilio: NonNullable<ProviderProbes["twilio"]>,
  signal?: AbortSignal,
): Promise<LiveSetResult> {
  const live = new LiveCalls();
  let requests = 0;
  for (const status of TWILIO_LIVE_STATUSES) {
    let pageUri: string | null = null;
    do {
      if (requests >= MAX_PAGES) return { ok: false, detail: `more than ${MAX_PAGES} list pages`, requests };
      const page = await twilio.listCallsPage(status, pageUri, signal);
      requests++;
      if (page.kind === "error")
        return { ok: false, detail: `listing ${status} calls: ${page.detail}`, requests };
      for (const c of page.calls) {
        // The Status filter should already guarantee it; a call listed with another status is not trusted.
        if (c.status === status) live.add(c.sid, status);
      }
      pageUri = page.nextPageUri;
    } while (pageUri !== null);
  }
  return { ok: true, live: live.seal(), requests };
}
