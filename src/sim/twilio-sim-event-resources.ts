/**
 * The events v1 resources as stored and as Twilio serialises them: snake_case, ISO 8601 dates without
 * milliseconds, lists wrapped with a `meta` object whose URLs the SDK follows.
 */

import { badRequest } from "./twilio-sim-event-requests.js";
import type { SimEventDeliveryOptions } from "./twilio-sim-event-types.js";
import { jsonReply, type Reply } from "./twilio-sim-http.js";

export interface StoredSink {
  sid: string;
  accountSid: string;
  description: string;
  sinkType: string;
  configuration: Record<string, unknown>;
  status: "initialized" | "validating" | "active" | "failed";
  dateCreated: Date;
  dateUpdated: Date;
  /** The id of the last test event sent, which Validate must be given. */
  testId: string | null;
  /** The signature's key when not the simulator's token. */
  authToken?: string;
  delivery?: SimEventDeliveryOptions;
}

export interface StoredSubscription {
  sid: string;
  accountSid: string;
  sinkSid: string;
  description: string;
  /** Type → schema version, in the order subscribed. */
  types: Map<string, number>;
  dateCreated: Date;
  dateUpdated: Date;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function sinkJson(base: string, sink: StoredSink): Record<string, unknown> {
  const url = `${base}/v1/Sinks/${sink.sid}`;
  return {
    date_created: iso(sink.dateCreated),
    date_updated: iso(sink.dateUpdated),
    description: sink.description,
    sid: sink.sid,
    sink_configuration: sink.configuration,
    sink_type: sink.sinkType,
    status: sink.status,
    url,
    links: { sink_test: `${url}/Test`, sink_validate: `${url}/Validate` },
  };
}

export function subscriptionJson(base: string, s: StoredSubscription): Record<string, unknown> {
  const url = `${base}/v1/Subscriptions/${s.sid}`;
  return {
    account_sid: s.accountSid,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateUpdated),
    sid: s.sid,
    sink_sid: s.sinkSid,
    description: s.description,
    url,
    links: { subscribed_events: `${url}/SubscribedEvents` },
  };
}

export function subscribedEventJson(
  base: string,
  s: StoredSubscription,
  type: string,
): Record<string, unknown> {
  return {
    account_sid: s.accountSid,
    type,
    schema_version: s.types.get(type),
    subscription_sid: s.sid,
    url: `${base}/v1/Subscriptions/${s.sid}/SubscribedEvents/${encodeURIComponent(type)}`,
  };
}

/** One page in events v1's wrapper: the items under `key` and a `meta` whose URLs the SDK follows. */
export function metaPage<T>(
  base: string,
  req: { pathname: string; query: URLSearchParams },
  items: readonly T[],
  key: string,
  render: (item: T) => unknown,
  kept: readonly string[] = [],
): Reply {
  const int = (name: string, fallback: number) => {
    const n = Number.parseInt(req.query.get(name) ?? "", 10);
    return Number.isFinite(n) ? n : fallback;
  };
  const pageSize = Math.min(1000, Math.max(1, int("PageSize", 50)));
  const page = Math.max(0, int("Page", 0));
  const token = req.query.get("PageToken");
  const match = token === null ? null : /^PA(\d+)$/.exec(token);
  if (token !== null && match === null) return badRequest(`Invalid PageToken: ${token}`);
  const from = Math.min(items.length, match ? Number(match[1]) : page * pageSize);
  const slice = items.slice(from, from + pageSize);
  const url = (p: number, offset?: number): string => {
    const q = new URLSearchParams();
    for (const name of kept) {
      const v = req.query.get(name);
      if (v !== null) q.set(name, v);
    }
    q.set("PageSize", String(pageSize));
    q.set("Page", String(p));
    if (offset !== undefined) q.set("PageToken", `PA${offset}`);
    return `${base}${req.pathname}?${q.toString()}`;
  };
  const hasNext = from + slice.length < items.length;
  return jsonReply(200, {
    [key]: slice.map(render),
    meta: {
      page,
      page_size: pageSize,
      first_page_url: url(0),
      previous_page_url: page > 0 && from > 0 ? url(page - 1, Math.max(0, from - pageSize)) : null,
      url: match ? url(page, from) : url(page),
      next_page_url: hasNext ? url(page + 1, from + slice.length) : null,
      key,
    },
  });
}
