/**
 * The events v1 API (Sinks, their Test and Validate, Subscriptions and their SubscribedEvents) as the
 * official OpenAPI description and SDK shape it: form-encoded requests, snake_case JSON, lists paged with a
 * `meta` object. Each account sees only its own sinks and subscriptions.
 */
import type { IncomingMessage } from "node:http";
import { hex32 } from "./twilio-sim-event-cloud.js";
import {
  CALL_COMPLETED_TYPE,
  LEGACY_CALL_COMPLETED_TYPE,
  type SimCloudEvent,
  type SimEventDeliveryOptions,
  type SimEventSinkInput,
  type SimEventsApiRequest,
} from "./twilio-sim-event-types.js";
import { jsonReply, notFound, type Reply, twilioError } from "./twilio-sim-http.js";

export const TEST_EVENT_TYPE = "com.twilio.eventstreams.test-event";
const SINK_TYPES = ["kinesis", "webhook", "segment", "email"];
/** The schema version a subscribed type gets when the request names none: the status callbacks' latest. */
const DEFAULT_SCHEMA_VERSION = 2;

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

interface StoredSubscription {
  sid: string;
  accountSid: string;
  sinkSid: string;
  description: string;
  /** Type → schema version, in the order subscribed. */
  types: Map<string, number>;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface EventsRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  form: URLSearchParams;
  /** Who the credentials name: each account has its own sinks. */
  accountSid: string;
}

interface Deps {
  /** The simulator's base URL, for `url`, `links` and paging URLs a client follows. */
  baseUrl: () => string;
  now: () => Date;
  requireValidation: boolean;
  /** Sends a sink's test event (whatever its status). */
  sendTest: (sink: StoredSink, event: SimCloudEvent) => void;
}

/** Past this, a request's body is not a form a client sends: it is refused unread. */
const MAX_FORM_BYTES = 1024 * 1024;

/** The form-encoded body of a request (empty for any other body). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new RangeError(`a form body over ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const type = req.headers["content-type"] ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const all = (p: URLSearchParams): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const key of new Set(p.keys())) out[key] = p.getAll(key);
  return out;
};

/** Twilio's answer to a request it refuses: code 20001 for a bad parameter. */
const badRequest = (message: string): Reply => {
  const reply = twilioError(400, message);
  const body = JSON.parse(reply.body) as Record<string, unknown>;
  return jsonReply(400, { ...body, code: 20001, more_info: "https://www.twilio.com/docs/errors/20001" });
};
const missing = (name: string): Reply => badRequest(`Missing required parameter ${name} in the post body`);
const notAllowed = (allow: string): Reply => twilioError(405, undefined, { Allow: allow });

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function webhookConfigError(config: Record<string, unknown>): string | null {
  const destination = config.destination;
  if (typeof destination !== "string") return "SinkConfiguration of a webhook sink needs a destination";
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return `SinkConfiguration destination is not a URL: ${destination}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return "SinkConfiguration destination must be http(s)";
  const method = config.method;
  if (typeof method !== "string" || method.toUpperCase() !== "POST") {
    return "SinkConfiguration method must be POST (the simulator delivers webhook sinks by POST only)";
  }
  if (config.batch_events !== undefined && typeof config.batch_events !== "boolean") {
    return "SinkConfiguration batch_events must be a boolean";
  }
  return null;
}

export class EventStreams {
  private readonly sinks = new Map<string, StoredSink>();
  private readonly subscriptions = new Map<string, StoredSubscription>();
  requests: SimEventsApiRequest[] = [];

  constructor(private readonly deps: Deps) {}

  /** Answers one request to /v1/ and records it. */
  handle(req: EventsRequest): Reply {
    const reply = this.route(req);
    this.requests.push({
      method: req.method,
      path: req.pathname,
      query: all(req.query),
      form: all(req.form),
      status: reply.status,
      accountSid: req.accountSid,
    });
    return reply;
  }

  /** Active webhook sinks of the account with a subscription to `type`. */
  sinksFor(accountSid: string, type: string): StoredSink[] {
    const out = new Set<StoredSink>();
    for (const sub of this.subscriptions.values()) {
      if (sub.accountSid !== accountSid || !sub.types.has(type)) continue;
      const sink = this.sinks.get(sub.sinkSid);
      if (sink?.status === "active" && sink.sinkType === "webhook") out.add(sink);
    }
    return [...out];
  }

  /** Whether the sink still exists: a deleted sink's pending deliveries stop. */
  hasSink(sid: string): boolean {
    return this.sinks.has(sid);
  }

  /** An active webhook sink and its subscription, as if created through the API. */
  addSink(input: SimEventSinkInput, accountSid: string): { sinkSid: string; subscriptionSid: string } {
    const { url, authToken, types, description, accountSid: _, ...delivery } = input;
    const error = webhookConfigError({ destination: url, method: "POST" });
    if (error) throw new RangeError(error);
    const now = this.deps.now();
    const sink: StoredSink = {
      sid: `DG${hex32()}`,
      accountSid,
      description: description ?? "simulator sink",
      sinkType: "webhook",
      configuration: { destination: url, method: "POST", batch_events: true },
      status: "active",
      dateCreated: now,
      dateUpdated: now,
      testId: null,
      ...(authToken !== undefined ? { authToken } : {}),
      delivery,
    };
    this.sinks.set(sink.sid, sink);
    const sub = this.newSubscription(accountSid, sink.sid, sink.description, now);
    for (const t of types ?? [CALL_COMPLETED_TYPE, LEGACY_CALL_COMPLETED_TYPE]) {
      sub.types.set(t, DEFAULT_SCHEMA_VERSION);
    }
    return { sinkSid: sink.sid, subscriptionSid: sub.sid };
  }

  private newSubscription(accountSid: string, sinkSid: string, description: string, now: Date) {
    const sub: StoredSubscription = {
      sid: `DF${hex32()}`,
      accountSid,
      sinkSid,
      description,
      types: new Map(),
      dateCreated: now,
      dateUpdated: now,
    };
    this.subscriptions.set(sub.sid, sub);
    return sub;
  }

  private route(req: EventsRequest): Reply {
    const parts = req.pathname.split("/").slice(2).map(decodeURIComponent);
    const [collection, sid, sub, type, ...rest] = parts;
    if (rest.length > 0) return notFound(req.pathname);
    if (collection === "Sinks") {
      if (sid === undefined) return this.sinksCollection(req);
      const sink = this.sinks.get(sid);
      if (sink === undefined || sink.accountSid !== req.accountSid) return notFound(req.pathname);
      if (sub === undefined) return this.sinkInstance(req, sink);
      if (type !== undefined) return notFound(req.pathname);
      if (sub === "Test") return req.method === "POST" ? this.testSink(sink) : notAllowed("POST");
      if (sub === "Validate")
        return req.method === "POST" ? this.validateSink(req, sink) : notAllowed("POST");
      return notFound(req.pathname);
    }
    if (collection === "Subscriptions") {
      if (sid === undefined) return this.subscriptionsCollection(req);
      const s = this.subscriptions.get(sid);
      if (s === undefined || s.accountSid !== req.accountSid) return notFound(req.pathname);
      if (sub === undefined) return this.subscriptionInstance(req, s);
      if (sub !== "SubscribedEvents") return notFound(req.pathname);
      return type === undefined ? this.subscribedEvents(req, s) : this.subscribedEvent(req, s, type);
    }
    return notFound(req.pathname);
  }

  private sinkJson(sink: StoredSink): Record<string, unknown> {
    const url = `${this.deps.baseUrl()}/v1/Sinks/${sink.sid}`;
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

  private subscriptionJson(s: StoredSubscription): Record<string, unknown> {
    const url = `${this.deps.baseUrl()}/v1/Subscriptions/${s.sid}`;
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

  private subscribedEventJson(s: StoredSubscription, type: string): Record<string, unknown> {
    return {
      account_sid: s.accountSid,
      type,
      schema_version: s.types.get(type),
      subscription_sid: s.sid,
      url: `${this.deps.baseUrl()}/v1/Subscriptions/${s.sid}/SubscribedEvents/${encodeURIComponent(type)}`,
    };
  }

  private sinksCollection(req: EventsRequest): Reply {
    if (req.method === "GET") {
      const inUse = req.query.get("InUse");
      const status = req.query.get("Status");
      const used = new Set([...this.subscriptions.values()].map((s) => s.sinkSid));
      const list = [...this.sinks.values()].filter(
        (s) =>
          s.accountSid === req.accountSid &&
          (status === null || s.status === status) &&
          (inUse === null || used.has(s.sid) === (inUse === "true")),
      );
      return this.page(req, list, "sinks", (s) => this.sinkJson(s), ["InUse", "Status"]);
    }
    if (req.method !== "POST") return notAllowed("GET, POST");
    const description = req.form.get("Description");
    const rawConfig = req.form.get("SinkConfiguration");
    const sinkType = req.form.get("SinkType");
    if (description === null) return missing("Description");
    if (rawConfig === null) return missing("SinkConfiguration");
    if (sinkType === null) return missing("SinkType");
    if (!SINK_TYPES.includes(sinkType)) return badRequest(`Invalid SinkType: ${sinkType}`);
    const configuration = parseJsonObject(rawConfig);
    if (configuration === null) return badRequest("SinkConfiguration must be a JSON object");
    if (sinkType === "webhook") {
      const error = webhookConfigError(configuration);
      if (error) return badRequest(error);
    }
    const now = this.deps.now();
    const sink: StoredSink = {
      sid: `DG${hex32()}`,
      accountSid: req.accountSid,
      description,
      sinkType,
      configuration,
      status: this.deps.requireValidation ? "initialized" : "active",
      dateCreated: now,
      dateUpdated: now,
      testId: null,
    };
    this.sinks.set(sink.sid, sink);
    return jsonReply(201, this.sinkJson(sink));
  }

  private sinkInstance(req: EventsRequest, sink: StoredSink): Reply {
    if (req.method === "GET") return jsonReply(200, this.sinkJson(sink));
    if (req.method === "POST") {
      const description = req.form.get("Description");
      if (description === null) return missing("Description");
      sink.description = description;
      sink.dateUpdated = this.deps.now();
      return jsonReply(200, this.sinkJson(sink));
    }
    if (req.method !== "DELETE") return notAllowed("GET, POST, DELETE");
    const users = [...this.subscriptions.values()].filter((s) => s.sinkSid === sink.sid).map((s) => s.sid);
    if (users.length > 0) {
      return badRequest(`Sink ${sink.sid} is used by Subscription ${users.join(", ")}: delete it first`);
    }
    this.sinks.delete(sink.sid);
    return { status: 204, body: "" };
  }

  private testSink(sink: StoredSink): Reply {
    const testId = `TE${hex32()}`;
    sink.testId = testId;
    if (sink.status === "initialized") sink.status = "validating";
    const now = this.deps.now();
    this.deps.sendTest(sink, {
      specversion: "1.0",
      type: TEST_EVENT_TYPE,
      source: `/v1/Sinks/${sink.sid}/Test`,
      id: `EV${hex32()}`,
      dataschema: "https://events-schemas.twilio.com/EventStreams.TestSink/1",
      datacontenttype: "application/json",
      time: now.toISOString(),
      data: { test_id: testId },
    });
    return jsonReply(201, { result: "submitted" });
  }

  private validateSink(req: EventsRequest, sink: StoredSink): Reply {
    const testId = req.form.get("TestId");
    if (testId === null) return missing("TestId");
    if (sink.testId === null || testId !== sink.testId) return badRequest(`Invalid TestId: ${testId}`);
    sink.status = "active";
    sink.dateUpdated = this.deps.now();
    return jsonReply(201, { result: "valid" });
  }

  /** `Types` entries: JSON objects `{"type": T, "schema_version": N}` (schema_version optional). */
  private parseTypes(raw: string[]): Map<string, number> | string {
    const types = new Map<string, number>();
    for (const text of raw) {
      const t = parseJsonObject(text);
      if (t === null || typeof t.type !== "string" || t.type === "") return `Invalid Types entry: ${text}`;
      const version = t.schema_version ?? DEFAULT_SCHEMA_VERSION;
      if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
        return `Invalid schema_version in Types entry: ${text}`;
      }
      types.set(t.type, version);
    }
    return types;
  }

  /** The sink a subscription may use, or the answer refusing it. */
  private usableSink(sinkSid: string, accountSid: string): Reply | null {
    const sink = this.sinks.get(sinkSid);
    if (sink === undefined || sink.accountSid !== accountSid) return badRequest(`Sink not found: ${sinkSid}`);
    if (sink.status !== "active") return badRequest(`Sink ${sinkSid} must be active, it is ${sink.status}`);
    return null;
  }

  private subscriptionsCollection(req: EventsRequest): Reply {
    if (req.method === "GET") {
      const sinkSid = req.query.get("SinkSid");
      const list = [...this.subscriptions.values()].filter(
        (s) => s.accountSid === req.accountSid && (sinkSid === null || s.sinkSid === sinkSid),
      );
      return this.page(req, list, "subscriptions", (s) => this.subscriptionJson(s), ["SinkSid"]);
    }
    if (req.method !== "POST") return notAllowed("GET, POST");
    const description = req.form.get("Description");
    const sinkSid = req.form.get("SinkSid");
    const rawTypes = req.form.getAll("Types");
    if (description === null) return missing("Description");
    if (sinkSid === null) return missing("SinkSid");
    if (rawTypes.length === 0) return missing("Types");
    const types = this.parseTypes(rawTypes);
    if (typeof types === "string") return badRequest(types);
    const refused = this.usableSink(sinkSid, req.accountSid);
    if (refused) return refused;
    const sub = this.newSubscription(req.accountSid, sinkSid, description, this.deps.now());
    for (const [t, v] of types) sub.types.set(t, v);
    return jsonReply(201, this.subscriptionJson(sub));
  }

  private subscriptionInstance(req: EventsRequest, s: StoredSubscription): Reply {
    if (req.method === "GET") return jsonReply(200, this.subscriptionJson(s));
    if (req.method === "DELETE") {
      this.subscriptions.delete(s.sid);
      return { status: 204, body: "" };
    }
    if (req.method !== "POST") return notAllowed("GET, POST, DELETE");
    const description = req.form.get("Description");
    const sinkSid = req.form.get("SinkSid");
    if (sinkSid !== null) {
      const refused = this.usableSink(sinkSid, req.accountSid);
      if (refused) return refused;
      s.sinkSid = sinkSid;
    }
    if (description !== null) s.description = description;
    s.dateUpdated = this.deps.now();
    return jsonReply(200, this.subscriptionJson(s));
  }

  private subscribedEvents(req: EventsRequest, s: StoredSubscription): Reply {
    if (req.method === "GET") {
      return this.page(req, [...s.types.keys()], "types", (t) => this.subscribedEventJson(s, t));
    }
    if (req.method !== "POST") return notAllowed("GET, POST");
    const type = req.form.get("Type");
    if (type === null || type === "") return missing("Type");
    const version = this.schemaVersion(req);
    if (typeof version !== "number") return version;
    s.types.set(type, version);
    s.dateUpdated = this.deps.now();
    return jsonReply(201, this.subscribedEventJson(s, type));
  }

  private schemaVersion(req: EventsRequest): number | Reply {
    const raw = req.form.get("SchemaVersion");
    if (raw === null) return DEFAULT_SCHEMA_VERSION;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 ? n : badRequest(`Invalid SchemaVersion: ${raw}`);
  }

  private subscribedEvent(req: EventsRequest, s: StoredSubscription, type: string): Reply {
    if (!s.types.has(type)) return notFound(req.pathname);
    if (req.method === "GET") return jsonReply(200, this.subscribedEventJson(s, type));
    if (req.method === "DELETE") {
      s.types.delete(type);
      return { status: 204, body: "" };
    }
    if (req.method !== "POST") return notAllowed("GET, POST, DELETE");
    const version = this.schemaVersion(req);
    if (typeof version !== "number") return version;
    s.types.set(type, version);
    return jsonReply(200, this.subscribedEventJson(s, type));
  }

  /** One page in events v1's wrapper: the items under `key` and a `meta` whose URLs the SDK follows. */
  private page<T>(
    req: EventsRequest,
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
      return `${this.deps.baseUrl()}${req.pathname}?${q.toString()}`;
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
}
