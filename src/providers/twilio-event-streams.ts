/**
 * The account's Event Streams as call-reconciler needs them: a webhook Sink whose destination is the daemon's
 * events URL, subscribed to the voice status callback of a call's end. Shapes as Twilio's OpenAPI description
 * twilio_events_v1.json gives them: `/v1/Sinks` (SinkType `webhook`, SinkConfiguration
 * `{"destination", "method"}` as JSON, `status` initialized|validating|active|failed), `/v1/Subscriptions`
 * (`SinkSid`, `Types`: JSON objects `{"type", "schema_version"}`; "Sink must be active for the subscription to
 * be created"), `/v1/Subscriptions/{Sid}/SubscribedEvents`, and `/v1/Types/{Type}` with
 * `/v1/Schemas/{Id}/Versions` for the schema version to ask for. Everything goes through the official SDK
 * (`client.events.v1`), loaded at the first request.
 */
import type { TwilioCredentials } from "../config/config.js";
import { MAX_TWILIO_BODY_BYTES } from "./twilio-client.js";
import {
  type EventStreamsError,
  eventStreamsError,
  httpStatusOf,
  step,
  UnexpectedAnswer,
} from "./twilio-event-streams-errors.js";
import type { SdkClient } from "./twilio-sdk-resources.js";

export type { EventStreamsError, EventStreamsErrorReason } from "./twilio-event-streams-errors.js";

/**
 * The type whose events end calls. Twilio sends the `completed` status callback for every end (CallStatus
 * completed, busy, failed, no-answer or canceled), so it is the only one a nudge needs.
 */
export const CALL_END_EVENT_TYPES = ["com.twilio.voice.status-callback.call.completed"] as const;

/** What marks a sink or subscription as call-reconciler's: teardown removes only those. */
const MARK = "call-reconciler";
export const SINK_DESCRIPTION = `${MARK}: voice status callbacks of call ends, for its events endpoint`;
export const SUBSCRIPTION_DESCRIPTION = `${MARK}: call ends (voice status callback, completed)`;
export const isDaemons = (description: unknown): boolean =>
  typeof description === "string" && description.startsWith(MARK);

/** Lists are read whole, at Twilio's largest page. */
const PAGE_SIZE = 1000;

export interface SubscribedType {
  type: string;
  schemaVersion: number;
}

export interface SinkFound {
  sid: string;
  /** initialized, validating, active or failed. */
  status: string;
  /** The sink's `sink_configuration.method`: the events endpoint takes POST only. */
  method: string | null;
  description: string;
  ours: boolean;
}

export interface SubscriptionFound {
  sid: string;
  sinkSid: string;
  description: string;
  ours: boolean;
  types: SubscribedType[];
}

/** The webhook sinks whose destination is the URL, and their subscriptions. */
export interface EventStreamsState {
  kind: "state";
  account: string;
  sinks: SinkFound[];
  subscriptions: SubscriptionFound[];
}

export interface SetUp {
  kind: "set_up";
  account: string;
  sink: SinkFound & { created: boolean };
  /** null while the sink is not active: Twilio subscribes only an active sink. */
  subscription: { sid: string; created: boolean; added: SubscribedType[]; types: SubscribedType[] } | null;
}

export interface TornDown {
  kind: "torn_down";
  account: string;
  removedSubscriptions: string[];
  removedSinks: string[];
  /** The daemon's sinks left because another's subscription still uses them. */
  keptSinks: string[];
  /** Sinks at the URL that are not the daemon's: never touched. */
  foreignSinks: string[];
}

export interface EventStreams {
  account: string;
  inspect(url: string): Promise<EventStreamsState | EventStreamsError>;
  setup(url: string): Promise<SetUp | EventStreamsError>;
  teardown(url: string): Promise<TornDown | EventStreamsError>;
}

export interface EventStreamsOptions {
  credentials: TwilioCredentials;
  /** TWILIO_API_BASE_URL: for a *.twilio.com URL the SDK's events.twilio.com, else this host. */
  baseUrl: string;
  timeoutMs: number;
  keepAlive?: boolean;
}

/** A sink as the SDK lists it: `sinkConfiguration` is the sink's JSON (an object, or its text). */
export interface ListedSink {
  sid: string;
  status: string;
  sinkType: string;
  sinkConfiguration: unknown;
  description: string | null;
}

function foundSink(s: ListedSink): SinkFound {
  const method = configuration(s.sinkConfiguration).method;
  return {
    sid: s.sid,
    status: s.status,
    method: typeof method === "string" ? method : null,
    description: s.description ?? "",
    ours: isDaemons(s.description),
  };
}

/** The sinks whose type is webhook and whose destination is exactly `url`. */
export function sinksAt(url: string, sinks: readonly ListedSink[]): SinkFound[] {
  return sinks
    .filter((s) => s.sinkType === "webhook" && configuration(s.sinkConfiguration).destination === url)
    .map(foundSink);
}

function configuration(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return {};
    }
  }
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

const posts = (s: SinkFound): boolean => s.method?.toUpperCase() === "POST";

/** The sink setup uses: the daemon's own if there is one, else any that POSTs to the URL. */
export function chosenSink(sinks: readonly SinkFound[]): SinkFound | null {
  return sinks.find((s) => posts(s) && s.ours) ?? sinks.find(posts) ?? null;
}

/** The call-end types no subscription of the sink carries yet. */
export function missingTypes(sinkSid: string, subscriptions: readonly SubscriptionFound[]): string[] {
  const have = new Set(
    subscriptions.filter((s) => s.sinkSid === sinkSid).flatMap((s) => s.types.map((t) => t.type)),
  );
  return CALL_END_EVENT_TYPES.filter((t) => !have.has(t));
}

async function inspect(client: SdkClient, account: string, url: string): Promise<EventStreamsState> {
  const events = client.events.v1;
  const all = await step("listing the sinks", () => events.sinks.list({ pageSize: PAGE_SIZE }));
  const sinks = sinksAt(url, all);
  const subscriptions: SubscriptionFound[] = [];
  for (const sink of sinks) {
    const found = await step(`listing the subscriptions of sink ${sink.sid}`, () =>
      events.subscriptions.list({ sinkSid: sink.sid, pageSize: PAGE_SIZE }),
    );
    // The filter is Twilio's; a subscription of another sink is not this sink's, whatever a list returns.
    for (const sub of found.filter((s) => s.sinkSid === sink.sid)) {
      const types = await step(`listing the event types of subscription ${sub.sid}`, () =>
        events.subscriptions(sub.sid).subscribedEvents.list({ pageSize: PAGE_SIZE }),
      );
      subscriptions.push({
        sid: sub.sid,
        sinkSid: sub.sinkSid,
        description: sub.description ?? "",
        ours: isDaemons(sub.description),
        types: types.map((t) => ({ type: t.type, schemaVersion: t.schemaVersion })),
      });
    }
  }
  return { kind: "state", account, sinks, subscriptions };
}

/** The newest schema version of an event type: the Type names its schema, the schema lists its versions. */
async function schemaVersionOf(client: SdkClient, type: string): Promise<number> {
  const events = client.events.v1;
  const eventType = await step(`reading event type ${type}`, () => events.eventTypes(type).fetch());
  if (typeof eventType.schemaId !== "string" || eventType.schemaId === "")
    throw new UnexpectedAnswer(`Twilio names no schema for event type ${type}`);
  const versions = await step(`listing the versions of schema ${eventType.schemaId}`, () =>
    events.schemas(eventType.schemaId).versions.list({ pageSize: PAGE_SIZE }),
  );
  const newest = Math.max(...versions.map((v) => v.schemaVersion).filter((v) => Number.isInteger(v)));
  if (!Number.isFinite(newest))
    throw new UnexpectedAnswer(
      `Twilio lists no version of schema ${eventType.schemaId} (event type ${type})`,
    );
  return newest;
}

async function setup(client: SdkClient, account: string, url: string): Promise<SetUp> {
  const events = client.events.v1;
  const state = await inspect(client, account, url);
  let sink: SetUp["sink"];
  const existing = chosenSink(state.sinks);
  if (existing !== null) {
    sink = { ...existing, created: false };
  } else {
    const made = await step("creating the sink", () =>
      events.sinks.create({
        description: SINK_DESCRIPTION,
        sinkConfiguration: { destination: url, method: "POST" },
        sinkType: "webhook",
      }),
    );
    sink = { ...foundSink(made), created: true };
  }
  if (sink.status !== "active") return { kind: "set_up", account, sink, subscription: null };

  const onSink = state.subscriptions.filter((s) => s.sinkSid === sink.sid);
  const missing = missingTypes(sink.sid, onSink);
  const ours = onSink.find((s) => s.ours);
  if (missing.length === 0) {
    const carrying = onSink.find((s) => s.types.some((t) => t.type === CALL_END_EVENT_TYPES[0])) ?? onSink[0];
    return {
      kind: "set_up",
      account,
      sink,
      subscription: carrying ? { sid: carrying.sid, created: false, added: [], types: carrying.types } : null,
    };
  }
  const added: SubscribedType[] = [];
  for (const type of missing) added.push({ type, schemaVersion: await schemaVersionOf(client, type) });
  if (ours !== undefined) {
    for (const t of added) {
      await step(`adding ${t.type} to subscription ${ours.sid}`, () =>
        events
          .subscriptions(ours.sid)
          .subscribedEvents.create({ type: t.type, schemaVersion: t.schemaVersion }),
      );
    }
    return {
      kind: "set_up",
      account,
      sink,
      subscription: { sid: ours.sid, created: false, added, types: [...ours.types, ...added] },
    };
  }
  const made = await step(`subscribing sink ${sink.sid}`, () =>
    events.subscriptions.create({
      description: SUBSCRIPTION_DESCRIPTION,
      sinkSid: sink.sid,
      types: added.map((t) => ({ type: t.type, schema_version: t.schemaVersion })),
    }),
  );
  return {
    kind: "set_up",
    account,
    sink,
    subscription: { sid: made.sid, created: true, added, types: added },
  };
}

/** A removal that finds the resource already gone has done its job. */
async function removed(what: string, remove: () => Promise<boolean>): Promise<void> {
  await step(what, async () => {
    try {
      await remove();
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
    }
  });
}

async function teardown(client: SdkClient, account: string, url: string): Promise<TornDown> {
  const events = client.events.v1;
  const state = await inspect(client, account, url);
  const done: TornDown = {
    kind: "torn_down",
    account,
    removedSubscriptions: [],
    removedSinks: [],
    keptSinks: [],
    foreignSinks: state.sinks.filter((s) => !s.ours).map((s) => s.sid),
  };
  for (const sub of state.subscriptions.filter((s) => s.ours)) {
    await removed(`removing subscription ${sub.sid}`, () => events.subscriptions(sub.sid).remove());
    done.removedSubscriptions.push(sub.sid);
  }
  for (const sink of state.sinks.filter((s) => s.ours)) {
    if (state.subscriptions.some((s) => s.sinkSid === sink.sid && !s.ours)) {
      done.keptSinks.push(sink.sid);
      continue;
    }
    await removed(`removing sink ${sink.sid}`, () => events.sinks(sink.sid).remove());
    done.removedSinks.push(sink.sid);
  }
  return done;
}

export function createEventStreams(opts: EventStreamsOptions): EventStreams {
  const account = opts.credentials.accountSid;
  let client: Promise<SdkClient> | undefined;
  // The SDK (about 100 ms to import) is loaded by the first request, not by the command's start.
  const sdk = () =>
    (client ??= import("./twilio-sdk-resources.js").then((m) =>
      m.createSdkResourceClient({
        credentials: opts.credentials,
        baseUrl: opts.baseUrl,
        timeoutMs: opts.timeoutMs,
        keepAlive: opts.keepAlive ?? true,
        maxBodyBytes: MAX_TWILIO_BODY_BYTES,
      }),
    ));
  const answer = async <T>(run: (c: SdkClient) => Promise<T>): Promise<T | EventStreamsError> => {
    const c = await sdk();
    try {
      return await run(c);
    } catch (err) {
      return eventStreamsError(err);
    }
  };
  return {
    account,
    inspect: (url) => answer((c) => inspect(c, account, url)),
    setup: (url) => answer((c) => setup(c, account, url)),
    teardown: (url) => answer((c) => teardown(c, account, url)),
  };
}
