import { setMaxListeners } from "node:events";
import pLimit, { type LimitFunction } from "p-limit";
import { errorMessage } from "../error-message.js";
import type {
  ActiveCall,
  ProviderProbes,
  StartShares,
  TwilioListAnswer,
  TwilioListQuery,
} from "../model/index.js";
import { rowAccount } from "./account-key.js";
import type { LiveSet, LiveSets } from "./evidence-gathering.js";
import { listQueries, MAX_SLICES } from "./list-slices.js";
import { LiveCalls } from "./live-calls.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";

/** Enough for 10 million live calls at 1,000 a page: a runaway paging loop ends here instead of never. */
const MAX_PAGES = 10_000;
/**
 * List pages asked at once in a pass, over all accounts and slices. A page is read as it arrives, one call at a
 * time (twilio-list-page.ts), so a page in flight costs little memory; enough of them keep the rate budget busy
 * while each waits for its round trip and is read (at 8, listing 100,000 live calls took 2.9 s of a 100 req/s
 * budget's 1.1 s; at 16, 1.1 s).
 */
const LIST_PAGES_IN_FLIGHT = 16;

type Twilio = NonNullable<ProviderProbes["twilio"]>;

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

/**
 * List-diff, per Twilio account: one listing of an account's live calls replaces a fetch
 * per live call. An account is listed once the pass has met enough of its rows (TWILIO_LIST_DIFF_THRESHOLD in
 * `auto`, the first in `list-diff`); its rows met before that are asked per call. Rows read after the listing
 * started wait for it, so a page is never asked about twice.
 */
export class AccountLiveSets implements LiveSets {
  private readonly rowsSeen = new Map<string, number>();
  private readonly listings = new Map<string, Promise<LiveSet | null>>();
  private requests = 0;
  private listed = 0;
  /** Shared by every account's listing: bounds the list pages in flight in the whole pass. */
  private readonly pages = pLimit(LIST_PAGES_IN_FLIGHT);
  /** Where each account's in-progress listing is cut, read once, when the first listing starts. */
  private shares: Promise<Map<string | null, StartShares>> | undefined;

  constructor(
    private readonly twilio: Twilio,
    private readonly threshold: number,
    private readonly configuredAccount: string | undefined,
    private readonly deps: Pick<PassDeps, "logger" | "store">,
    private readonly opts: PassOptions,
    /** Accounts found to filter StartTime by the date only, kept across passes (see TwilioStrategy). */
    private readonly datesOnly?: Set<string>,
    private readonly onDatesOnly?: () => void,
  ) {}

  /** One key per account: "" for the configured one. */
  private keyOf(account: string | null): string {
    return rowAccount(account, this.configuredAccount) ?? "";
  }

  /** Counts a page's rows per account; an account that reaches the threshold starts its listing now. */
  note(rows: readonly ActiveCall[]): void {
    for (const row of rows) {
      if (row.twilioSid === null) continue;
      const key = this.keyOf(row.twilioAccount);
      const seen = (this.rowsSeen.get(key) ?? 0) + 1;
      this.rowsSeen.set(key, seen);
      if (seen >= this.threshold && !this.listings.has(key))
        this.listings.set(key, this.list(key === "" ? null : key));
    }
  }

  forAccount(account: string | null): Promise<LiveSet | null> {
    return this.listings.get(this.keyOf(account)) ?? Promise.resolve(null);
  }

  /** What listing cost this pass, and whether any account's listing was used. */
  summary(): { listRequests: number; listedAccounts: number } {
    return { listRequests: this.requests, listedAccounts: this.listed };
  }

  private async list(account: string | null): Promise<LiveSet | null> {
    const { logger } = this.deps;
    const fields = account === null ? {} : { account };
    const key = account ?? "";
    const byDate = this.datesOnly?.has(key) === true;
    const queries = listQueries(account, byDate ? undefined : await this.sharesOf(account));
    let listed = await listLiveCalls(this.twilio, queries, this.opts.signal, this.pages);
    this.requests += listed.requests;
    if (!listed.ok && listed.slicesIgnored === true) {
      // Twilio's docs promise StartTime as a date only: this account's answers show the time of day is not
      // honoured, so its calls are listed whole from now on (slices of one day would each return the day).
      this.datesOnly?.add(key);
      this.onDatesOnly?.();
      logger.warn(
        { ...fields, detail: listed.detail },
        "Twilio filters this account's calls by StartTime's date only: listing them without slices from now on",
      );
      listed = await listLiveCalls(
        this.twilio,
        listQueries(account, undefined),
        this.opts.signal,
        this.pages,
      );
      this.requests += listed.requests;
    }
    if (!listed.ok) {
      logger.warn(
        { ...fields, detail: listed.detail },
        "could not list Twilio's live calls; asking per call",
      );
      return null;
    }
    this.listed++;
    logger.debug(
      { ...fields, live: listed.live.size, requests: listed.requests, queries: queries.length },
      "listed Twilio's live calls",
    );
    return listed.live;
  }

  /**
   * The configured account's rows may come as NULL and as its SID, two groups of the database's answer: their
   * rows add up, and the larger group's cuts stand for both (cuts only place the slices).
   */
  private async sharesOf(account: string | null): Promise<StartShares | undefined> {
    const shares = await this.startShares();
    if (account !== null) return shares.get(account);
    const named = this.configuredAccount === undefined ? undefined : shares.get(this.configuredAccount);
    const groups = [shares.get(null), named].filter((g): g is StartShares => g !== undefined);
    if (groups.length < 2) return groups[0];
    const [a, b] = groups as [StartShares, StartShares];
    return { rows: a.rows + b.rows, cuts: (a.rows >= b.rows ? a : b).cuts };
  }

  /** Without them (no such read, or it failed) every account is listed whole: slower, never wrong. */
  private startShares(): Promise<Map<string | null, StartShares>> {
    this.shares ??= (this.deps.store.activeStartShares?.(MAX_SLICES) ?? Promise.resolve(new Map())).catch(
      (err: unknown) => {
        this.deps.logger.warn(
          { err: errorMessage(err) },
          "could not read where to slice Twilio's listing; listing each account whole",
        );
        return new Map();
      },
    );
    return this.shares;
  }
}

/** How this pass asks Twilio: per account, listed once enough of its rows are met; null: always per call. */
export function liveSetsFor(
  deps: Pick<PassDeps, "probes" | "twilioStrategy" | "logger" | "store">,
  opts: PassOptions,
): AccountLiveSets | null {
  const strategy = deps.twilioStrategy;
  if (strategy.mode === "per-call" || deps.probes.twilio === null) return null;
  const threshold = strategy.mode === "list-diff" ? 1 : Math.max(1, strategy.listDiffThreshold);
  return new AccountLiveSets(
    deps.probes.twilio,
    threshold,
    strategy.configuredAccount,
    deps,
    opts,
    strategy.datesOnlyAccounts,
    strategy.onDatesOnly,
  );
}
