import type { SimEventDeliveryOptions } from "./twilio-sim-event-types.js";
import type { SimFault } from "./twilio-sim-fault.js";
import type { SimPhoneNumber } from "./twilio-sim-numbers.js";
import type { SimCallRecords } from "./twilio-sim-records-types.js";

export type { SimFault } from "./twilio-sim-fault.js";

export interface SimTwilioCall {
  sid: string;
  /** The (sub)account the call belongs to; default the simulator's `accountSid` (the parent). */
  accountSid?: string;
  status: string;
  startTime: Date | null;
  endTime: Date | null;
  duration: string | null;
  /** Defaults to `startTime`, else the time of the first upsert. Lists are ordered by it. */
  dateCreated?: Date;
  /** Defaults to `endTime ?? startTime ?? dateCreated`; an explicit null stays null. */
  dateUpdated?: Date | null;
  from?: string;
  to?: string;
  /** JSON keys left out entirely (e.g. "end_time"), to reproduce the SDK's missing-key trap. */
  omitKeys?: string[];
  /** Answers with another call's sid or account_sid (a mock or proxy that answers about the wrong call). */
  answerAs?: { sid?: string; accountSid?: string };
  fault?: SimFault;
  /** What Twilio sent to the app for this call and what it answered; none = empty Events and Notifications. */
  records?: SimCallRecords;
  /**
   * Whether Twilio sends this call's status callbacks, which Event Streams copies to its sinks when the call
   * ends (`endCall`). False for a leg that never has any (an Elastic SIP Trunking call). Default: what the
   * records show (a create request with a status callback for `completed`), else true.
   */
  statusCallbacks?: boolean;
}

export interface SimTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Subaccounts of `accountSid`: the parent's credentials reach their Calls too. Any other account's URLs answer 404. */
  subaccounts?: string[];
  apiKeys?: { sid: string; secret: string }[];
  calls?: SimTwilioCall[];
  /**
   * Above this many served requests in any sliding second, answer 429 (code 20429, Retry-After: 1). Counted per
   * account in the URL, as Twilio limits each subaccount on its own.
   */
  maxRps?: number;
  /**
   * Honour `StartTime>` / `StartTime<` by the date only, as Twilio's docs describe them (`YYYY-MM-DD`, UTC),
   * ignoring a time of day. Default false: to the second, as the SDK's values suggest.
   */
  startTimeByDate?: boolean;
  /**
   * This share of requests (0..1), drawn at random, is answered 429 with Retry-After: 1 whatever the rate: a
   * provider under load elsewhere. The draw is seeded (`randomSeed`, default 1) so a run can be replayed.
   */
  random429Share?: number;
  /**
   * This share of requests (0..1), drawn at random from the same seeded generator, is answered 500: a partial
   * outage. Changed while running with `setServerErrorShare`.
   */
  randomServerErrorShare?: number;
  randomSeed?: number;
  /**
   * Every answer (429s and faults included) is sent this many milliseconds after its request arrived, at the
   * earliest: a fixed server + network latency. Requests wait side by side, never one behind another; they
   * are counted, rate-limited and routed on arrival as without it. Default 0.
   */
  latencyMs?: number;
  numbers?: SimPhoneNumber[];
  /** A call's Events and Notifications read as empty until this long after its end. Default 15 minutes. */
  recordsAvailableAfterMs?: number;
  /** A call's Events read as empty once it ended longer ago than this. Default 30 days. */
  eventsRetentionMs?: number;
  /** The simulator's clock for the two windows above and for Event Streams. Default the wall clock. */
  now?: () => Date;
  /** How Event Streams deliveries go (delays, duplicates, drops, batches, retries); per sink overridable. */
  eventDelivery?: SimEventDeliveryOptions;
  /**
   * A webhook sink created through the API starts `initialized` and must pass its Test and Validate before a
   * Subscription may use it, as at Twilio. Default false: it is `active` at once.
   */
  requireSinkValidation?: boolean;
}

/** What one account's URLs received. */
export interface SimAccountStats {
  requests: number;
  fetches: number;
  lists: number;
  events: number;
  notifications: number;
  numbers: number;
  rateLimited: number;
  maxRequestsInOneSecond: number;
}

export interface SimTwilioStats {
  /** Every request received, including rejected ones. */
  requests: number;
  /** Requests to the fetch-one-call route, whatever their outcome. */
  fetches: number;
  /** Requests to the list-calls route, whatever their outcome. */
  lists: number;
  /** Requests to a call's Events, its Notifications, and the IncomingPhoneNumbers list, likewise. */
  events: number;
  notifications: number;
  numbers: number;
  responsesByStatus: Record<number, number>;
  /** 429s caused by `maxRps` (not by injected faults). */
  rateLimited: number;
  /** Most requests received (served or not) within any 1-second sliding window: the client's real rate. */
  maxRequestsInOneSecond: number;
  /** Responses the client closed before they were complete (it gave up on a slow or dripping answer). */
  abandoned: number;
  /** The same, per account SID in the request's URL (requests to no account's URL are left out). */
  byAccount: Record<string, SimAccountStats>;
}

/** A stored call: `dateCreated` is always known so that list ordering is total and stable. */
export type StoredCall = Omit<SimTwilioCall, "fault" | "dateCreated" | "accountSid"> & {
  dateCreated: Date;
  accountSid: string;
};
