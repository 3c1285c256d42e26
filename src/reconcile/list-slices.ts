import { type StartShares, TWILIO_LIVE_STATUSES, type TwilioListQuery } from "../model/index.js";

/** Rows one list page covers (Twilio's largest page): how many pages an account's listing will take. */
export const LIST_PAGE_ROWS = 1000;
/** At most this many in-progress slices per account: the cuts the pass asks the database for. */
export const MAX_SLICES = 16;

const wholeSecond = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

/**
 * How one account's live calls are listed. Queued and ringing calls are few: each listed whole. In-progress
 * calls are most of them: when the table says the account has more rows than one page holds, they are cut by
 * Twilio's `StartTime` filter into slices of similar size (at the start times that cut the account's active
 * rows into equal shares), each paged on its own, so the pages of one account are asked side by side instead
 * of one after another.
 *
 * The slices cover every whole second once: the first has no lower bound, the last no upper one, and as both
 * of Twilio's bounds are inclusive, a slice ends one second before the next begins (Twilio's start times are
 * whole seconds). The app's `started_at` only places the cuts: a live call whose Twilio start time differs is
 * still in some slice. And a call that no slice lists is fetched on its own anyway (the list-diff trusts a list
 * only to say "live"): slicing can cost a request, never an answer.
 */
export function listQueries(account: string | null, shares: StartShares | undefined): TwilioListQuery[] {
  const queries: TwilioListQuery[] = TWILIO_LIVE_STATUSES.filter((s) => s !== "in-progress").map(
    (status) => ({
      account,
      status,
    }),
  );
  const slices = shares === undefined ? 1 : Math.min(MAX_SLICES, Math.ceil(shares.rows / LIST_PAGE_ROWS));
  const cuts = slices <= 1 || shares === undefined ? [] : pickCuts(shares.cuts, slices);
  let from: Date | undefined;
  for (const cut of cuts) {
    const to = new Date(cut.getTime() - 1000);
    queries.push({ account, status: "in-progress", ...(from ? { startedFrom: from } : {}), startedTo: to });
    from = cut;
  }
  queries.push({ account, status: "in-progress", ...(from ? { startedFrom: from } : {}) });
  return queries;
}

/** `slices − 1` of the cuts (made for MAX_SLICES shares), evenly spaced, whole seconds, without repeats. */
function pickCuts(cuts: readonly Date[], slices: number): Date[] {
  const picked: Date[] = [];
  for (let j = 1; j < slices; j++) {
    const cut = cuts[Math.round((j * (cuts.length + 1)) / slices) - 1];
    if (cut === undefined) continue;
    const second = wholeSecond(cut);
    const last = picked[picked.length - 1];
    if (last === undefined || second.getTime() > last.getTime()) picked.push(second);
  }
  return picked;
}
