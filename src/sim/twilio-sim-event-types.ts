/** What the Twilio simulator's Event Streams (events v1 Sinks and Subscriptions, and their deliveries) offer. */

/** The status-callback type Twilio delivers for a call's end, whatever the terminal status. */
export const CALL_COMPLETED_TYPE = "com.twilio.voice.status-callback.call.completed";
/** Its deprecated name: still accepted in a Subscription, and delivered under that name. */
export const LEGACY_CALL_COMPLETED_TYPE = "com.twilio.voice.webhook.status-callback.call.completed";

/** A CloudEvent as Event Streams delivers it, in a JSON array. */
export interface SimCloudEvent {
  specversion: string;
  type: string;
  source: string;
  id: string;
  dataschema: string;
  datacontenttype: string;
  time: string;
  data: Record<string, unknown>;
}

/**
 * How deliveries to a sink go wrong or get late. Simulator-wide (`SimTwilioOptions.eventDelivery`,
 * `setEventDelivery`), each overridable per sink (`addEventSink`). Random draws come from the simulator's
 * seeded generator (`randomSeed`), so a run can be replayed.
 */
export interface SimEventDeliveryOptions {
  /** Each event waits this long before it may be sent. Default 0. */
  deliveryDelayMs?: number;
  /** This share of events (0..1) is sent twice, the copy with the same CloudEvent id. Default 0. */
  duplicateShare?: number;
  /** This share of events (0..1) is never sent. Default 0. */
  dropShare?: number;
  /** Events ready together are sent in a shuffled order (within and across batches). Default false. */
  reorder?: boolean;
  /** At most this many events per POST. Default 100; a sink whose configuration says `batch_events: false`, 1. */
  batchMaxEvents?: number;
  /** A ready event waits this long for others to share its POST. Default 0 (those ready in the same tick). */
  batchWindowMs?: number;
  /**
   * After a failed POST (an answer other than 2xx, no connection, or no answer within `responseTimeoutMs`),
   * the batch is sent again after each of these delays in turn, then given up. Default [1000, 2000, 5000, 10000].
   */
  retryDelaysMs?: readonly number[];
  /** Default 5000, as Twilio waits for a sink's answer. */
  responseTimeoutMs?: number;
}

/** A webhook sink and its subscription created without the API (tests that are not about the setup). */
export interface SimEventSinkInput extends SimEventDeliveryOptions {
  /** The destination, exactly as Twilio signs it. */
  url: string;
  /** Default the simulator's `accountSid`. */
  accountSid?: string;
  /** The key of the signature; default the simulator's `authToken`. */
  authToken?: string;
  /** Default both names of the call-completed status callback. */
  types?: readonly string[];
  description?: string;
}

/** A step of a call before its end, each with a status callback of its own (`progressCall`). */
export type SimCallProgress = "initiated" | "ringing" | "answered";

/**
 * How a call ended, for `endCall`. A call already ended at the simulator (seeded with a terminal status) keeps
 * its own status, end time and duration where these are not given: its late event is what is wanted.
 */
export interface SimCallEnd {
  /** A terminal status: completed, busy, failed, no-answer or canceled. Default completed. */
  status?: string;
  /** Default the simulator's clock (`now`). */
  endTime?: Date;
  /** Whole seconds; default from the call's start time to `endTime`, else 0. */
  duration?: string;
  /** What the app answered to the status callback (`data.response.responseCode`); null: no answer. Default 200. */
  appResponseCode?: number | null;
}

/** One request to the events v1 API, as received: for tests of what a client sends. */
export interface SimEventsApiRequest {
  method: string;
  path: string;
  /** The query string's parameters, each name with all its values in order. */
  query: Record<string, string[]>;
  /** The form-encoded body's parameters, likewise. */
  form: Record<string, string[]>;
  /** The status it was answered with. */
  status: number;
  /** The account it was authenticated as. */
  accountSid: string;
}

export interface SimEventStats {
  /** Events (not POSTs) a sink answered 2xx for, duplicates and retried ones included. */
  delivered: number;
  /** POSTs that failed: an answer other than 2xx, a refused connection, or no answer in time. */
  failedDeliveries: number;
  /** POSTs sent again after a failure. */
  retries: number;
  /** Events never sent (`dropShare`). */
  dropped: number;
  /** Events sent a second time (`duplicateShare`). */
  duplicates: number;
  /** Events of batches given up after the last retry. */
  gaveUp: number;
  /** POSTs sent, retries included. */
  posts: number;
  /** Events waiting for their delay, their batch, an answer or a retry. */
  pending: number;
  /** Requests to /v1/ (Sinks, Subscriptions, Types, Schemas), in order of arrival. */
  apiRequests: SimEventsApiRequest[];
}
