import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { listenLocal } from "./listen.js";
import { seededRandom } from "./seeded-random.js";
import { createEventHub } from "./twilio-sim-event-hub.js";
import type {
  SimCallEnd,
  SimCallProgress,
  SimCloudEvent,
  SimEventDeliveryOptions,
  SimEventSinkInput,
  SimEventStats,
} from "./twilio-sim-event-types.js";
import { applyFault, type FaultSlot, slotFor } from "./twilio-sim-fault.js";
import {
  matchRoute,
  notFound,
  parseBasicAuth,
  type Reply,
  type Route,
  sendReply,
  twilioError,
} from "./twilio-sim-http.js";
import { PhoneNumbers, type SimPhoneNumber } from "./twilio-sim-numbers.js";
import { listCallEvents, listCallNotifications, recordsTiming } from "./twilio-sim-records.js";
import type { SimCallRecords } from "./twilio-sim-records-types.js";
import { callResource, ListOrder, listCalls } from "./twilio-sim-resources.js";
import { AccountWindows, countRoute, emptyAccountStats, emptyStats } from "./twilio-sim-stats.js";
import type {
  SimAccountStats,
  SimFault,
  SimTwilioCall,
  SimTwilioOptions,
  SimTwilioStats,
  StoredCall,
} from "./twilio-sim-types.js";
import { SlidingWindow } from "./twilio-sim-window.js";

export * from "./twilio-sim-event-types.js";
export type { SimPhoneNumber } from "./twilio-sim-numbers.js";
export type * from "./twilio-sim-records-types.js";
export type {
  SimAccountStats,
  SimFault,
  SimTwilioCall,
  SimTwilioOptions,
  SimTwilioStats,
} from "./twilio-sim-types.js";

export interface TwilioSimulator {
  /** e.g. `http://127.0.0.1:12345`, no trailing slash. */
  readonly url: string;
  /** A snapshot: read it again after more requests. */
  readonly stats: SimTwilioStats;
  /**
   * Requests received whose response is neither complete nor closed by the client: what a client that gives
   * up on an answer must bring back to 0 (it closes the connection).
   */
  readonly openResponses: number;
  resetStats(): void;
  /** Replaces the call with this SID. Its `fault`, when given, replaces the SID's fault and countdown. */
  upsertCall(call: SimTwilioCall): void;
  /** Makes an account a subaccount of the simulator's parent: the parent's credentials reach its Calls. */
  addSubaccount(accountSid: string): void;
  /** Later fetches of this SID answer 404, as for a call in another (sub)account. */
  removeCall(sid: string): boolean;
  getCall(sid: string): SimTwilioCall | undefined;
  /** Replaces what Twilio recorded for a known call (its Events and Notifications); false for an unknown SID. */
  setCallRecords(sid: string, records: SimCallRecords | undefined): boolean;
  /** Replaces the IncomingPhoneNumber with the same SID. */
  upsertNumber(number: SimPhoneNumber): void;
  removeNumber(sid: string): boolean;
  /** Faults fetches of one SID (known or not); `undefined` clears it. Restarts the `times` countdown. */
  setFault(sid: string, fault: SimFault | undefined): void;
  /** Applies to every request before anything else, e.g. a full outage or revoked credentials. */
  setAccountFault(fault: SimFault | undefined): void;
  /** The share of requests answered 500 at random from now on (a partial outage); 0 ends it. */
  setServerErrorShare(share: number): void;
  /**
   * Ends a known call (status, end time, duration) and, when it asked for status callbacks, hands its
   * `call.completed` event to every active sink of its account subscribed to that type (under either name).
   * `upsertCall` never delivers: a call seeded already ended is one whose events went out before the test.
   * Returns the event (undefined when the call sends no status callbacks); throws for an unknown SID or a
   * status that is not terminal.
   */
  endCall(sid: string, end?: SimCallEnd): SimCloudEvent | undefined;
  /**
   * Moves a live call to a step before its end (`queued`, `ringing`, `in-progress`; answering sets its start
   * time if it had none) and delivers that step's status callback event as `endCall` does, to sinks
   * subscribed to it. Throws for an unknown or ended call.
   */
  progressCall(sid: string, step: SimCallProgress, opts?: { at?: Date }): SimCloudEvent | undefined;
  /** An active webhook sink and its subscription (default: the current call-completed type) without the API. */
  addEventSink(sink: SimEventSinkInput): { sinkSid: string; subscriptionSid: string };
  /**
   * Hands any events (a replay, a made-up event) to the account's sinks subscribed to each event's type,
   * signed as any other; a sink added with another `authToken` gets forged signatures.
   */
  deliverEvents(events: readonly SimCloudEvent[], opts?: { accountSid?: string }): void;
  /** Replaces the simulator-wide delivery options (sinks' own ones still win) for events handed on from now. */
  setEventDelivery(options: SimEventDeliveryOptions): void;
  /** A snapshot of Event Streams' deliveries and API requests; `resetStats` clears it too. */
  readonly eventStats: SimEventStats;
  /**
   * Also drops idle keep-alive sockets and requests still waiting on a delay fault or on `latencyMs`, and
   * stops every pending Event Streams delivery.
   */
  close(): Promise<void>;
}

export async function startTwilioSimulator(
  opts: SimTwilioOptions,
  listen: { host?: string; port?: number } = {},
): Promise<TwilioSimulator> {
  const calls = new Map<string, StoredCall>();
  const listOrder = new ListOrder(() => calls.values());
  const callFaults = new Map<string, FaultSlot>();
  const recordFaults = new Map<string, FaultSlot>();
  const timing = recordsTiming(opts);
  const numbers = new PhoneNumbers(opts.accountSid);
  for (const n of opts.numbers ?? []) numbers.upsert(n);
  let accountFault: FaultSlot | undefined;
  let stats = emptyStats();
  // A Map, not a record: the account is whatever the URL says, before any authentication, and an account
  // named `__proto__` made a record's entry Object.prototype, whose counters every object then inherited.
  const byAccount = new Map<string, SimAccountStats>();
  const arrivals = new SlidingWindow();
  const accountWindows = new AccountWindows();
  const reachable = new Set([opts.accountSid, ...(opts.subaccounts ?? [])]);
  const closing = new AbortController();
  // Every request waiting on its latency or a delay fault listens on it: as many as are in flight.
  setMaxListeners(0, closing.signal);
  const latencyMs = opts.latencyMs ?? 0;
  if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${latencyMs}`);
  }
  const random = seededRandom(opts.randomSeed ?? 1);
  let serverErrorShare = shareOf(opts.randomServerErrorShare ?? 0);
  const credentials = new Map<string, string>([[opts.accountSid, opts.authToken]]);
  for (const key of opts.apiKeys ?? []) credentials.set(key.sid, key.secret);
  let baseUrl = "";

  function upsertCall(call: SimTwilioCall): void {
    const { fault, ...rest } = call;
    const dateCreated = call.dateCreated ?? calls.get(call.sid)?.dateCreated ?? call.startTime ?? new Date();
    calls.set(call.sid, { ...rest, dateCreated, accountSid: call.accountSid ?? opts.accountSid });
    listOrder.invalidate();
    if (fault) callFaults.set(call.sid, slotFor(fault));
    if (call.records?.fault) recordFaults.set(call.sid, slotFor(call.records.fault));
  }
  for (const call of opts.calls ?? []) upsertCall(call);
  const events = createEventHub({
    opts,
    calls,
    callsChanged: () => listOrder.invalidate(),
    baseUrl: () => baseUrl,
    // A generator of its own: the events' draws leave the sequence of random 429s and 500s as it was.
    random: seededRandom((opts.randomSeed ?? 1) ^ 0x5bd1e995),
  });

  const withFault = (slot: FaultSlot | undefined, next: () => Promise<Reply>) =>
    applyFault(slot, next, closing.signal);

  function accountStats(account: string): SimAccountStats {
    let a = byAccount.get(account);
    if (a === undefined) {
      a = emptyAccountStats();
      byAccount.set(account, a);
    }
    return a;
  }

  async function route(req: IncomingMessage, url: URL, r: Route): Promise<Reply> {
    if (opts.random429Share !== undefined && random() < opts.random429Share) {
      stats.rateLimited++;
      return twilioError(429, "Too Many Requests", { "Retry-After": "1" });
    }
    if (serverErrorShare > 0 && random() < serverErrorShare) return twilioError(500);
    if (opts.maxRps !== undefined && r !== null) {
      const now = performance.now();
      const served = accountWindows.of(r.account).served;
      if (served.count(now) >= opts.maxRps) {
        stats.rateLimited++;
        accountStats(r.account).rateLimited++;
        return twilioError(429, "Too Many Requests", { "Retry-After": "1" });
      }
      served.add(now);
    }
    const auth = parseBasicAuth(req.headers.authorization);
    if (!auth || credentials.get(auth.user) !== auth.pass) return twilioError(401);
    if (url.pathname.startsWith("/v1/")) return events.handle(req, url, auth.user);
    if (req.method !== "GET") return twilioError(405, undefined, { Allow: "GET" });
    if (!r) return notFound(url.pathname);
    // The parent's credentials reach its subaccounts; another account's resources are not found for them.
    if (!reachable.has(r.account)) return notFound(url.pathname);
    if (r.kind === "list")
      return listCalls(r.account, listOrder, url.searchParams, {
        startTimeByDate: opts.startTimeByDate === true,
      });
    if (r.kind === "numbers") return numbers.list(r.account, url.searchParams);
    const { sid, kind, account } = r;
    return withFault((kind === "fetch" ? callFaults : recordFaults).get(sid), async () => {
      const call = calls.get(sid);
      // A call of another (sub)account is not under this account's Calls: 404, as Twilio answers.
      if (!call || call.accountSid !== account) return notFound(url.pathname);
      if (kind === "events") return listCallEvents(call, timing, url.searchParams);
      if (kind === "notifications") return listCallNotifications(call, timing, url.searchParams);
      return { status: 200, body: JSON.stringify(callResource(call)) };
    });
  }

  let openResponses = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    openResponses++;
    res.once("close", () => {
      openResponses--;
      if (!res.writableFinished && !closing.signal.aborted) stats.abandoned++;
    });
    const arrivedAt = performance.now();
    stats.requests++;
    stats.maxRequestsInOneSecond = Math.max(stats.maxRequestsInOneSecond, arrivals.add(arrivedAt));
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    // Only the events API reads a body (a form); every other one is drained unread.
    if (!url.pathname.startsWith("/v1/")) req.resume();
    const r = matchRoute(url.pathname);
    if (r !== null) {
      countRoute(stats, r.kind);
      const a = accountStats(r.account);
      a.requests++;
      countRoute(a, r.kind);
      a.maxRequestsInOneSecond = Math.max(
        a.maxRequestsInOneSecond,
        accountWindows.of(r.account).arrivals.add(arrivedAt),
      );
    }
    let reply: Reply;
    try {
      reply = await withFault(accountFault, () => route(req, url, r));
      // The latency overlaps the time spent computing the answer (and a delay fault): it is a floor.
      const wait = latencyMs - (performance.now() - arrivedAt);
      if (wait > 0) await sleep(wait, undefined, { signal: closing.signal });
    } catch (err) {
      if (closing.signal.aborted) {
        res.destroy();
        return;
      }
      reply = twilioError(500, `Simulator error: ${(err as Error).message}`);
    }
    reply.headers = { "Twilio-Request-Id": `RQ${randomUUID().replaceAll("-", "")}`, ...reply.headers };
    if (sendReply(res, reply, closing.signal)) {
      stats.responsesByStatus[reply.status] = (stats.responsesByStatus[reply.status] ?? 0) + 1;
    }
  }

  const server = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    void handle(req, res);
  });
  const url = await listenLocal(server, listen);
  baseUrl = url;

  let closed: Promise<void> | undefined;
  return {
    url,
    get openResponses() {
      return openResponses;
    },
    get stats() {
      // fromEntries defines own properties: `__proto__` is an entry there like any other name.
      const accounts = Object.fromEntries([...byAccount].map(([k, v]) => [k, { ...v }]));
      return { ...stats, responsesByStatus: { ...stats.responsesByStatus }, byAccount: accounts };
    },
    get eventStats() {
      return events.stats;
    },
    resetStats() {
      stats = emptyStats();
      events.resetStats();
      byAccount.clear();
      arrivals.clear();
      accountWindows.clearArrivals();
    },
    upsertCall,
    addSubaccount(accountSid) {
      reachable.add(accountSid);
    },
    removeCall(sid) {
      listOrder.invalidate();
      return calls.delete(sid);
    },
    getCall(sid) {
      const call = calls.get(sid);
      if (!call) return undefined;
      const fault = callFaults.get(sid)?.fault;
      return { ...call, ...(fault ? { fault } : {}) };
    },
    setCallRecords(sid, records) {
      const call = calls.get(sid);
      if (!call) return false;
      calls.set(sid, { ...call, records });
      if (records?.fault) recordFaults.set(sid, slotFor(records.fault));
      else recordFaults.delete(sid);
      return true;
    },
    upsertNumber: (n) => numbers.upsert(n),
    removeNumber: (sid) => numbers.remove(sid),
    setFault(sid, fault) {
      if (fault) callFaults.set(sid, slotFor(fault));
      else callFaults.delete(sid);
    },
    setServerErrorShare(share) {
      serverErrorShare = shareOf(share);
    },
    setAccountFault(fault) {
      accountFault = fault ? slotFor(fault) : undefined;
    },
    endCall: (sid, end) => events.endCall(sid, end),
    progressCall: (sid, step, o) => events.progressCall(sid, step, o),
    addEventSink: (sink) => events.addEventSink(sink),
    deliverEvents: (list, o) => events.deliverEvents(list, o),
    setEventDelivery: (options) => events.setEventDelivery(options),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function shareOf(share: number): number {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`a share must be within 0..1, got ${share}`);
  return share;
}
