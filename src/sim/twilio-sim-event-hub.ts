/**
 * The Twilio simulator's Event Streams as one piece: the events v1 API, the sinks' deliveries, and the end
 * of a call that sets them off. twilio-sim.ts routes `/v1/` here and exposes the methods.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { TWILIO_TERMINAL_STATUSES } from "../model/index.js";
import { asksForStatusCallbacks, progressTypes, statusCallbackEvent } from "./twilio-sim-event-cloud.js";
import {
  checkDeliveryOptions,
  DEFAULT_DELIVERY,
  type DeliveryTarget,
  EventDelivery,
} from "./twilio-sim-event-delivery.js";
import { readForm } from "./twilio-sim-event-requests.js";
import type { StoredSink } from "./twilio-sim-event-resources.js";
import { EventStreams } from "./twilio-sim-event-streams.js";
import {
  CALL_COMPLETED_TYPE,
  type SimCallEnd,
  type SimCallProgress,
  type SimCloudEvent,
  type SimEventDeliveryOptions,
  type SimEventSinkInput,
  type SimEventStats,
} from "./twilio-sim-event-types.js";
import type { Reply } from "./twilio-sim-http.js";
import type { SimTwilioOptions, StoredCall } from "./twilio-sim-types.js";

export interface EventHub {
  /** Answers an authenticated request to `/v1/`; `user` is who the Basic credentials name. */
  handle(req: IncomingMessage, url: URL, user: string): Promise<Reply>;
  endCall(sid: string, end?: SimCallEnd): SimCloudEvent | undefined;
  progressCall(sid: string, step: SimCallProgress, opts?: { at?: Date }): SimCloudEvent | undefined;
  addEventSink(sink: SimEventSinkInput): { sinkSid: string; subscriptionSid: string };
  deliverEvents(events: readonly SimCloudEvent[], opts?: { accountSid?: string }): void;
  setEventDelivery(options: SimEventDeliveryOptions): void;
  readonly stats: SimEventStats;
  resetStats(): void;
  close(): void;
}

export interface EventHubDeps {
  opts: SimTwilioOptions;
  /** The simulator's calls, which `endCall` updates in place. */
  calls: Map<string, StoredCall>;
  /** Called after `endCall` changed a call (list orders depend on it). */
  callsChanged: () => void;
  /** The simulator's base URL once it listens. */
  baseUrl: () => string;
  /** A seeded generator of the events' own, so that their draws leave others' sequences as they were. */
  random: () => number;
}

export function createEventHub(deps: EventHubDeps): EventHub {
  const { opts, calls } = deps;
  const now = opts.now ?? (() => new Date());
  if (opts.eventDelivery) checkDeliveryOptions(opts.eventDelivery);
  let simulatorWide: SimEventDeliveryOptions = opts.eventDelivery ?? {};

  const targetOf = (sink: StoredSink): DeliveryTarget => {
    // An option given as undefined leaves the one below it in place, as one not given does.
    const given = (o: SimEventDeliveryOptions = {}): SimEventDeliveryOptions =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const options: Required<SimEventDeliveryOptions> = {
      ...DEFAULT_DELIVERY,
      ...given(simulatorWide),
      ...given(sink.delivery),
    };
    if (sink.configuration.batch_events === false) options.batchMaxEvents = 1;
    const url = String(sink.configuration.destination);
    return { sinkSid: sink.sid, url, authToken: sink.authToken ?? opts.authToken, options };
  };
  const streams = new EventStreams({
    baseUrl: deps.baseUrl,
    now,
    requireValidation: opts.requireSinkValidation === true,
    sendTest: (sink, event) => delivery.enqueue(targetOf(sink), [event], false),
  });
  const delivery = new EventDelivery({ random: deps.random, alive: (sid) => streams.hasSink(sid) });

  function publish(accountSid: string, events: readonly SimCloudEvent[]): void {
    for (const event of events) {
      for (const sink of streams.sinksFor(accountSid, event.type)) delivery.enqueue(targetOf(sink), [event]);
    }
  }

  /** Publishes a step's status callback under both its names (a sink subscribed to the deprecated one gets it). */
  function announce(
    call: StoredCall,
    step: SimCallProgress | "completed",
    at: Date,
    appResponseCode: number | null,
  ): SimCloudEvent | undefined {
    if (!asksForStatusCallbacks(call, step)) return undefined;
    const event = statusCallbackEvent(call, step, at, appResponseCode);
    const legacy = { ...event, type: progressTypes(step)[1], id: `EV${randomUUID().replaceAll("-", "")}` };
    publish(call.accountSid, [event, legacy]);
    return event;
  }

  const isEnd = (status: string) => (TWILIO_TERMINAL_STATUSES as readonly string[]).includes(status);

  return {
    async handle(req, url, user) {
      // An API key acts for the account that made it: the parent.
      const accountSid = user.startsWith("AC") ? user : opts.accountSid;
      const form = await readForm(req);
      const method = req.method ?? "GET";
      return streams.handle({ method, pathname: url.pathname, query: url.searchParams, form, accountSid });
    },
    endCall(sid, end = {}) {
      const call = calls.get(sid);
      if (!call) throw new RangeError(`endCall: no call ${sid}`);
      // A call Twilio already ended (a zombie seeded ended) keeps its own end unless told otherwise.
      const wasEnded = isEnd(call.status);
      const status = end.status ?? (wasEnded ? call.status : "completed");
      if (!isEnd(status)) throw new RangeError(`endCall: ${status} is not a terminal status`);
      const endTime = end.endTime ?? (wasEnded ? call.endTime : null) ?? now();
      const started = call.startTime?.getTime();
      const seconds =
        started === undefined ? 0 : Math.max(0, Math.round((endTime.getTime() - started) / 1000));
      const duration = end.duration ?? (wasEnded ? call.duration : null) ?? String(seconds);
      const ended = {
        ...call,
        status,
        endTime,
        duration,
        dateUpdated: endTime,
      };
      calls.set(sid, ended);
      deps.callsChanged();
      return announce(
        ended,
        "completed",
        endTime,
        end.appResponseCode === undefined ? 200 : end.appResponseCode,
      );
    },
    progressCall(sid, step, o = {}) {
      const call = calls.get(sid);
      if (!call) throw new RangeError(`progressCall: no call ${sid}`);
      if (isEnd(call.status))
        throw new RangeError(`progressCall: call ${sid} already ended (${call.status})`);
      const at = o.at ?? now();
      const status = { initiated: "queued", ringing: "ringing", answered: "in-progress" }[step];
      const startTime = step === "answered" ? (call.startTime ?? at) : call.startTime;
      const moved = { ...call, status, startTime, dateUpdated: at };
      calls.set(sid, moved);
      deps.callsChanged();
      return announce(moved, step, at, 200);
    },
    addEventSink(sink) {
      checkDeliveryOptions(sink);
      const types = sink.types ?? [CALL_COMPLETED_TYPE];
      return streams.addSink({ ...sink, types }, sink.accountSid ?? opts.accountSid);
    },
    deliverEvents(events, o = {}) {
      publish(o.accountSid ?? opts.accountSid, events);
    },
    setEventDelivery(options) {
      checkDeliveryOptions(options);
      simulatorWide = options;
    },
    get stats() {
      return { ...delivery.stats, apiRequests: [...streams.requests] };
    },
    resetStats() {
      delivery.resetStats();
      streams.requests = [];
    },
    close() {
      delivery.close();
    },
  };
}
