import pLimit from "p-limit";
import { errorMessage } from "../error-message.js";
import type { ActiveCall, StartShares } from "../model/index.js";
import { rowAccount } from "./account-key.js";
import type { LiveSet, LiveSets } from "./evidence-gathering.js";
import { listLiveCalls, type Twilio } from "./list-live-calls.js";
import { listQueries, MAX_SLICES } from "./list-slices.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";

/**
 * List pages asked at once in a pass, over all accounts and slices. A page is read as it arrives, one call at a
 * time (twilio-list-page.ts), so a page in flight costs little memory; enough of them keep the rate budget busy
 * while each waits for its round trip and is read (at 8, listing 100,000 live calls took 2.9 s of a 100 req/s
 * budget's 1.1 s; at 16, 1.1 s).
 */
const LIST_PAGES_IN_FLIGHT = 16;

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
