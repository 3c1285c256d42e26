/**
 * What Twilio recorded about one call: the requests it sent to the app (and the answers), and the call's
 * error notifications. Seeded per call; served by `Calls/{CallSid}/Events.json` and `Notifications.json`.
 */
import type { SimFault } from "./twilio-sim-fault.js";

export type HttpMethod = "GET" | "POST";

/** How the call came to be: the app's create request to Twilio, or a caller dialling one of its numbers. */
export type SimCallOrigin =
  | {
      kind: "api";
      /** When the create request was answered; default the call's `dateCreated`. */
      date?: Date;
      /** The TwiML URL given at create time. */
      url: string;
      /** Left out of the recorded request when not given, as Twilio shows only what was sent. */
      statusCallback?: string;
      statusCallbackMethod?: HttpMethod;
      /** An array is recorded as a JSON array, a string as given (the recorded form is not documented). */
      statusCallbackEvent?: string[] | string;
    }
  | { kind: "inbound" };

/** One request Twilio sent to the app during the call (a TwiML fetch or a status callback) and its answer. */
export interface SimWebhookDelivery {
  /** The `call_status` parameter Twilio sent. */
  callStatus: string;
  url: string;
  /** Default POST. */
  method?: HttpMethod;
  /** null: no answer at all (timed out or the connection failed). */
  responseCode: number | null;
  /** Milliseconds Twilio waited for the answer. */
  requestDuration: number;
  /** When Twilio sent it. */
  date: Date;
  /** Default: empty for a status callback, a short TwiML document for a TwiML fetch. */
  responseBody?: string | null;
  contentType?: string | null;
  /** A TwiML fetch (answered with instructions) rather than a status callback. Default false. */
  twiml?: boolean;
  /** Extra request parameters (snake_case), merged over the ones Twilio always sends. */
  parameters?: Record<string, string>;
}

/** One entry of the call's Notifications list. */
export interface SimCallNotification {
  /** e.g. 11200 HTTP retrieval failure, 11205 connection failure, 15003 callback answered 4xx/5xx. */
  errorCode: number;
  requestUrl: string;
  /** Default POST. */
  requestMethod?: HttpMethod;
  messageDate: Date;
  /** 0 = error, 1 = warning. */
  log: 0 | 1;
  messageText: string;
  /** Default derived from the call SID and the entry's position. */
  sid?: string;
}

export interface SimCallRecords {
  origin: SimCallOrigin;
  deliveries?: SimWebhookDelivery[];
  notifications?: SimCallNotification[];
  /** The caller and callee as Twilio recorded them; default the call's `from` / `to`. */
  from?: string;
  to?: string;
  /** Faults both lists of this call (the call's own fetch keeps its own fault). */
  fault?: SimFault;
}
