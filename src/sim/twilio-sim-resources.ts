import { formatRfc2822 } from "./rfc2822.js";
import { jsonReply, type Reply, twilioError } from "./twilio-sim-http.js";
import type { StoredCall } from "./twilio-sim-types.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export const accountPath = (accountSid: string): string => `/2010-04-01/Accounts/${accountSid}`;

/** Twilio's magic test numbers: what a call seeded without `from` / `to` was between. */
export const DEFAULT_FROM = "+15005550006";
export const DEFAULT_TO = "+15005550001";

const rfc = (d: Date | null | undefined): string | null => (d ? formatRfc2822(d) : null);

/** The call resource as Twilio serialises it (snake_case, RFC 2822 dates, `duration` a string). */
export function callResource(call: StoredCall): Record<string, unknown> {
  const { accountSid } = call;
  const dateUpdated =
    call.dateUpdated !== undefined ? call.dateUpdated : (call.endTime ?? call.startTime ?? call.dateCreated);
  const from = call.from ?? DEFAULT_FROM;
  const to = call.to ?? DEFAULT_TO;
  const resource: Record<string, unknown> = {
    sid: call.answerAs?.sid ?? call.sid,
    account_sid: call.answerAs?.accountSid ?? accountSid,
    parent_call_sid: null,
    date_created: rfc(call.dateCreated),
    date_updated: rfc(dateUpdated),
    to,
    to_formatted: to,
    from,
    from_formatted: from,
    phone_number_sid: null,
    status: call.status,
    start_time: rfc(call.startTime),
    end_time: rfc(call.endTime),
    duration: call.duration,
    // The records say how the call came to be: an API create is outbound-api, anything else inbound.
    direction: call.records?.origin.kind === "api" ? "outbound-api" : "inbound",
    answered_by: null,
    annotation: null,
    forwarded_from: null,
    caller_name: null,
    group_sid: null,
    trunk_sid: null,
    queue_time: "0",
    price: null,
    price_unit: "USD",
    api_version: "2010-04-01",
    uri: `${accountPath(accountSid)}/Calls/${call.sid}.json`,
    subresource_uris: {},
  };
  for (const key of call.omitKeys ?? []) delete resource[key];
  return resource;
}

interface SortKey {
  ms: number;
  sid: string;
}

/** Newest first, then by SID: a total order, so a token naming one position is unambiguous. */
function compareKeys(a: SortKey, b: SortKey): number {
  if (a.ms !== b.ms) return b.ms - a.ms;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}

const keyOf = (c: StoredCall): SortKey => ({ ms: c.dateCreated.getTime(), sid: c.sid });

const compareCalls = (a: StoredCall, b: StoredCall): number => compareKeys(keyOf(a), keyOf(b));

/** What one listing selects: an account's calls, optionally of one status and within start times. */
export interface ListFilter {
  accountSid: string;
  status: string | null;
  /** `StartTime>` / `StartTime<`: inclusive; a call without a start time matches neither. */
  startedFrom: number | null;
  startedTo: number | null;
}

const matches = (c: StoredCall, f: ListFilter): boolean => {
  if (c.accountSid !== f.accountSid || (f.status !== null && c.status !== f.status)) return false;
  if (f.startedFrom === null && f.startedTo === null) return true;
  const start = c.startTime?.getTime();
  if (start === undefined) return false;
  return (f.startedFrom === null || start >= f.startedFrom) && (f.startedTo === null || start <= f.startedTo);
};

/**
 * The calls in list order, per filter, sorted again only after a change: paging through 100,000 calls costs
 * one sort, not one per page (the benchmark lists that many).
 */
export class ListOrder {
  private readonly sorted = new Map<string, StoredCall[]>();
  /** The calls by account: a listing of one of 20 subaccounts scans its own calls, not everyone's. */
  private byAccount: Map<string, StoredCall[]> | undefined;

  constructor(private readonly all: () => Iterable<StoredCall>) {}

  /** Call after any change to the calls. */
  invalidate(): void {
    this.sorted.clear();
    this.byAccount = undefined;
  }

  of(filter: ListFilter): readonly StoredCall[] {
    const key = JSON.stringify(filter);
    let list = this.sorted.get(key);
    if (list === undefined) {
      list = this.accountCalls(filter.accountSid).filter((c) => matches(c, filter));
      list.sort(compareCalls);
      this.sorted.set(key, list);
    }
    return list;
  }

  private accountCalls(accountSid: string): StoredCall[] {
    if (this.byAccount === undefined) {
      this.byAccount = new Map();
      for (const c of this.all()) {
        const calls = this.byAccount.get(c.accountSid);
        if (calls === undefined) this.byAccount.set(c.accountSid, [c]);
        else calls.push(c);
      }
    }
    return this.byAccount.get(accountSid) ?? [];
  }
}

/** Twilio's StartTime values: a date (midnight UTC) or an ISO date-time; NaN when neither. */
function startTimeParam(value: string | null): number | null {
  if (value === null) return null;
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

const DAY_MS = 86_400_000;

/**
 * As a provider that honours only what Twilio's docs promise, a `YYYY-MM-DD` date in UTC: the time of day is
 * dropped, a lower bound is the start of its day and an upper bound the end of it (both inclusive).
 */
function toWholeDays(from: number | null, to: number | null): [number | null, number | null] {
  const day = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
  return [from === null ? null : day(from), to === null ? null : day(to) + DAY_MS - 1];
}

/** Index of the first call that sorts after `key` (`strict`) or at/after it, by binary search. */
function firstAfter(sorted: readonly StoredCall[], key: SortKey, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keyOf(sorted[mid] as StoredCall), key);
    if (c > 0 || (!strict && c === 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `PA…` = the page after this position, `PB…` = the page before it. Encoding the position rather
 * than an offset keeps paging consistent while calls are added or removed between requests.
 */
const encodeToken = (dir: "PA" | "PB", k: SortKey): string => `${dir}${k.ms}_${k.sid}`;

function decodeToken(token: string): { dir: "PA" | "PB"; key: SortKey } | null {
  const m = /^(PA|PB)(-?\d+)_(.+)$/.exec(token);
  if (!m?.[1] || !m[2] || !m[3]) return null;
  return { dir: m[1] as "PA" | "PB", key: { ms: Number(m[2]), sid: m[3] } };
}

function intParam(value: string | null, fallback: number): number {
  const n = value === null ? Number.NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

export function listCalls(
  accountSid: string,
  order: ListOrder,
  params: URLSearchParams,
  opts: { startTimeByDate?: boolean } = {},
): Reply {
  const status = params.get("Status");
  const asked = [startTimeParam(params.get("StartTime>")), startTimeParam(params.get("StartTime<"))];
  if (Number.isNaN(asked[0]) || Number.isNaN(asked[1])) return twilioError(400, "Invalid StartTime");
  const [startedFrom, startedTo] =
    opts.startTimeByDate === true
      ? toWholeDays(asked[0] ?? null, asked[1] ?? null)
      : [asked[0] ?? null, asked[1] ?? null];
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, intParam(params.get("PageSize"), DEFAULT_PAGE_SIZE)));
  const page = Math.max(0, intParam(params.get("Page"), 0));
  const rawToken = params.get("PageToken");
  const token = rawToken ? decodeToken(rawToken) : null;
  if (rawToken && !token) return twilioError(400, `Invalid PageToken: ${rawToken}`);

  const sorted = order.of({ accountSid, status, startedFrom, startedTo });

  // [from, from + items.length) of `sorted`.
  let from: number;
  if (!token) {
    from = Math.min(page * pageSize, sorted.length);
  } else if (token.dir === "PA") {
    from = firstAfter(sorted, token.key, true);
  } else {
    from = Math.max(0, firstAfter(sorted, token.key, false) - pageSize);
  }
  const to = !token || token.dir === "PA" ? from + pageSize : firstAfter(sorted, token.key, false);
  const items = sorted.slice(from, to);

  const base = `${accountPath(accountSid)}/Calls.json`;
  const uri = (p: number, t?: string): string => {
    const q = new URLSearchParams();
    if (status !== null) q.set("Status", status);
    for (const bound of ["StartTime>", "StartTime<"]) {
      const v = params.get(bound);
      if (v !== null) q.set(bound, v);
    }
    q.set("PageSize", String(pageSize));
    q.set("Page", String(p));
    if (t) q.set("PageToken", t);
    return `${base}?${q.toString()}`;
  };
  const first = items[0];
  const last = items[items.length - 1];
  const hasNext = last !== undefined && from + items.length < sorted.length;
  const hasPrev = page > 0 && first !== undefined && from > 0;
  const start = page * pageSize;

  return jsonReply(200, {
    calls: items.map((c) => callResource(c)),
    end: Math.max(start, start + items.length - 1),
    first_page_uri: uri(0),
    next_page_uri: hasNext && last ? uri(page + 1, encodeToken("PA", keyOf(last))) : null,
    page,
    page_size: pageSize,
    previous_page_uri: hasPrev && first ? uri(page - 1, encodeToken("PB", keyOf(first))) : null,
    start,
    uri: uri(page, rawToken ?? undefined),
  });
}
