/**
 * The events v1 API (Sinks, their Test and Validate, Subscriptions and their SubscribedEvents, and the
 * catalogue of Types and Schemas) as the official OpenAPI description and SDK shape it: form-encoded
 * requests, snake_case JSON, lists paged with a `meta` object. Each account sees only its own sinks and
 * subscriptions.
 */
import { catalogReply } from "./twilio-sim-event-catalog.js";
import { hex32 } from "./twilio-sim-event-cloud.js";
import {
  badRequest,
  DEFAULT_SCHEMA_VERSION,
  missing,
  notAllowed,
  paramsOf,
  parseJsonObject,
  parseTypes,
  webhookConfigError,
} from "./twilio-sim-event-requests.js";
import {
  metaPage,
  type StoredSink,
  type StoredSubscription,
  sinkJson,
  subscribedEventJson,
  subscriptionJson,
} from "./twilio-sim-event-resources.js";
import {
  CALL_COMPLETED_TYPE,
  LEGACY_CALL_COMPLETED_TYPE,
  type SimCloudEvent,
  type SimEventSinkInput,
  type SimEventsApiRequest,
} from "./twilio-sim-event-types.js";
import { jsonReply, notFound, type Reply } from "./twilio-sim-http.js";

export const TEST_EVENT_TYPE = "com.twilio.eventstreams.test-event";
const SINK_TYPES = ["kinesis", "webhook", "segment", "email"];

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
      query: paramsOf(req.query),
      form: paramsOf(req.form),
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
    if (collection === "Types" || collection === "Schemas")
      return catalogReply(this.deps.baseUrl(), req, parts);
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
      return metaPage(this.deps.baseUrl(), req, list, "sinks", (s) => sinkJson(this.deps.baseUrl(), s), [
        "InUse",
        "Status",
      ]);
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
    return jsonReply(201, sinkJson(this.deps.baseUrl(), sink));
  }

  private sinkInstance(req: EventsRequest, sink: StoredSink): Reply {
    if (req.method === "GET") return jsonReply(200, sinkJson(this.deps.baseUrl(), sink));
    if (req.method === "POST") {
      const description = req.form.get("Description");
      if (description === null) return missing("Description");
      sink.description = description;
      sink.dateUpdated = this.deps.now();
      return jsonReply(200, sinkJson(this.deps.baseUrl(), sink));
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
      return metaPage(
        this.deps.baseUrl(),
        req,
        list,
        "subscriptions",
        (s) => subscriptionJson(this.deps.baseUrl(), s),
        ["SinkSid"],
      );
    }
    if (req.method !== "POST") return notAllowed("GET, POST");
    const description = req.form.get("Description");
    const sinkSid = req.form.get("SinkSid");
    const rawTypes = req.form.getAll("Types");
    if (description === null) return missing("Description");
    if (sinkSid === null) return missing("SinkSid");
    if (rawTypes.length === 0) return missing("Types");
    const types = parseTypes(rawTypes);
    if (typeof types === "string") return badRequest(types);
    const refused = this.usableSink(sinkSid, req.accountSid);
    if (refused) return refused;
    const sub = this.newSubscription(req.accountSid, sinkSid, description, this.deps.now());
    for (const [t, v] of types) sub.types.set(t, v);
    return jsonReply(201, subscriptionJson(this.deps.baseUrl(), sub));
  }

  private subscriptionInstance(req: EventsRequest, s: StoredSubscription): Reply {
    if (req.method === "GET") return jsonReply(200, subscriptionJson(this.deps.baseUrl(), s));
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
    return jsonReply(200, subscriptionJson(this.deps.baseUrl(), s));
  }

  private subscribedEvents(req: EventsRequest, s: StoredSubscription): Reply {
    if (req.method === "GET") {
      return metaPage(this.deps.baseUrl(), req, [...s.types.keys()], "types", (t) =>
        subscribedEventJson(this.deps.baseUrl(), s, t),
      );
    }
    if (req.method !== "POST") return notAllowed("GET, POST");
    const type = req.form.get("Type");
    if (type === null || type === "") return missing("Type");
    const version = this.schemaVersion(req);
    if (typeof version !== "number") return version;
    s.types.set(type, version);
    s.dateUpdated = this.deps.now();
    return jsonReply(201, subscribedEventJson(this.deps.baseUrl(), s, type));
  }

  private schemaVersion(req: EventsRequest): number | Reply {
    const raw = req.form.get("SchemaVersion");
    if (raw === null) return DEFAULT_SCHEMA_VERSION;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 ? n : badRequest(`Invalid SchemaVersion: ${raw}`);
  }

  private subscribedEvent(req: EventsRequest, s: StoredSubscription, type: string): Reply {
    if (!s.types.has(type)) return notFound(req.pathname);
    if (req.method === "GET") return jsonReply(200, subscribedEventJson(this.deps.baseUrl(), s, type));
    if (req.method === "DELETE") {
      s.types.delete(type);
      return { status: 204, body: "" };
    }
    if (req.method !== "POST") return notAllowed("GET, POST, DELETE");
    const version = this.schemaVersion(req);
    if (typeof version !== "number") return version;
    s.types.set(type, version);
    return jsonReply(200, subscribedEventJson(this.deps.baseUrl(), s, type));
  }
}
