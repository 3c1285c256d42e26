import { jsonReply, type Reply, twilioError } from "./twilio-sim-http.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

function intParam(value: string | null, fallback: number): number {
  const n = value === null ? Number.NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * One page of a short, fixed list (a call's events, an account's numbers) in Twilio's list wrapper: the same
 * fields as the Calls list. These lists do not change while a client pages through them, so the token is a
 * plain offset (`PA<offset>`), unlike the Calls list's position tokens.
 */
export function pageOf<T>(
  all: readonly T[],
  base: string,
  params: URLSearchParams,
  key: string,
  render: (item: T) => unknown,
  /** Query parameters that select the list, repeated in every page URI. */
  kept: readonly string[] = [],
): Reply {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, intParam(params.get("PageSize"), DEFAULT_PAGE_SIZE)));
  const page = Math.max(0, intParam(params.get("Page"), 0));
  const rawToken = params.get("PageToken");
  const tokenMatch = rawToken ? /^PA(\d+)$/.exec(rawToken) : null;
  if (rawToken && !tokenMatch) return twilioError(400, `Invalid PageToken: ${rawToken}`);
  const from = Math.min(all.length, tokenMatch ? Number(tokenMatch[1]) : page * pageSize);
  const items = all.slice(from, from + pageSize);

  const uri = (p: number, offset?: number): string => {
    const q = new URLSearchParams();
    for (const name of kept) {
      const v = params.get(name);
      if (v !== null) q.set(name, v);
    }
    q.set("PageSize", String(pageSize));
    q.set("Page", String(p));
    if (offset !== undefined) q.set("PageToken", `PA${offset}`);
    return `${base}?${q.toString()}`;
  };
  const start = page * pageSize;
  const hasNext = from + items.length < all.length;
  const hasPrev = page > 0 && from > 0;
  return jsonReply(200, {
    [key]: items.map(render),
    end: Math.max(start, start + items.length - 1),
    first_page_uri: uri(0),
    next_page_uri: hasNext ? uri(page + 1, from + items.length) : null,
    page,
    page_size: pageSize,
    previous_page_uri: hasPrev ? uri(page - 1, Math.max(0, from - pageSize)) : null,
    start,
    uri: tokenMatch ? uri(page, from) : uri(page),
  });
}
