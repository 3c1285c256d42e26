import { type ActiveCall, type ProviderProbes, TWILIO_LIVE_STATUSES } from "../model/index.js";
import { LiveCalls } from "./live-calls.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";

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

/** How this pass asks Twilio: the live set when it was listed (list-diff), and what listing it cost. */
export interface TwilioPlan {
  liveSet: LiveCalls | null;
  listRequests: number;
}

/**
 * List-diff (DESIGN.md step 2): one listing of Twilio's live calls replaces a fetch per live call. Decided on
 * the first page: listed when forced, or in auto mode when enough of its rows have a SID.
 */
export async function planTwilio(
  firstPage: readonly ActiveCall[],
  deps: Pick<PassDeps, "probes" | "twilioStrategy" | "logger">,
  opts: PassOptions,
): Promise<TwilioPlan> {
  const strategy = deps.twilioStrategy ?? { mode: "per-call", listDiffThreshold: 0 };
  if (strategy.mode === "per-call" || deps.probes.twilio === null) return { liveSet: null, listRequests: 0 };
  const withSid = firstPage.filter((r) => r.twilioSid !== null).length;
  if (strategy.mode === "auto" && withSid < strategy.listDiffThreshold)
    return { liveSet: null, listRequests: 0 };
  const listed = await listLiveCalls(deps.probes.twilio, opts.signal);
  if (!listed.ok) {
    deps.logger.warn(
      { runId: opts.runId, detail: listed.detail },
      "could not list Twilio's live calls; asking per call",
    );
    return { liveSet: null, listRequests: listed.requests };
  }
  deps.logger.debug(
    { runId: opts.runId, live: listed.live.size, requests: listed.requests },
    "listed Twilio's live calls",
  );
  return { liveSet: listed.live, listRequests: listed.requests };
}
