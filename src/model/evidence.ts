/**
 * What a provider told us about one call, normalised so that `decide()` never sees SDK types.
 * Anything that is not a clear, well-formed answer is an `error`: "unknown" is never "finished".
 */

export const TWILIO_LIVE_STATUSES = ["queued", "ringing", "in-progress"] as const;
export const TWILIO_TERMINAL_STATUSES = ["completed", "busy", "no-answer", "canceled", "failed"] as const;

export type TwilioLiveStatus = (typeof TWILIO_LIVE_STATUSES)[number];
export type TwilioTerminalStatus = (typeof TWILIO_TERMINAL_STATUSES)[number];

/** Which field of the Twilio resource supplied the end time, in the order of preference. */
export type EndTimeSource = "end_time" | "start_time+duration" | "date_updated";

export type ProviderErrorReason =
  | "timeout"
  | "network"
  | "rate_limited"
  | "server_error"
  | "auth_failed"
  | "bad_request"
  | "malformed_response"
  | "unknown_status"
  | "circuit_open";

export type TwilioEvidence =
  | { kind: "live"; status: TwilioLiveStatus }
  | {
      kind: "ended";
      status: TwilioTerminalStatus;
      /** null when Twilio gave no usable time at all: the end is confirmed, its time is not. */
      endedAt: Date | null;
      endTimeSource: EndTimeSource | null;
      raw: TwilioRawTimes;
    }
  | { kind: "not_found" }
  | ProviderError;

/** A provider that did not answer clearly: never evidence of an end. */
export interface ProviderError {
  kind: "error";
  reason: ProviderErrorReason;
  detail: string;
  httpStatus?: number;
  /** The provider's Retry-After, when it gave one: the minimum wait before asking again. */
  retryAfterMs?: number;
}

/** The untouched time fields, kept so the audit row shows exactly what Twilio said. */
export interface TwilioRawTimes {
  start_time: string | null;
  end_time: string | null;
  duration: string | null;
  date_updated: string | null;
}

export type OpenAIEvidence =
  | { kind: "live" }
  /** The realtime session is gone. `firstSeenGoneAt` is when a previous pass first saw it gone (null: first sighting). */
  | { kind: "gone"; firstSeenGoneAt: Date | null }
  | { kind: "error"; reason: ProviderErrorReason; detail: string };

/** `skipped` = not asked: no id on the row, provider not configured, or not needed. */
export interface Evidence {
  twilio: TwilioEvidence | { kind: "skipped"; why: SkipReason };
  openai: OpenAIEvidence | { kind: "skipped"; why: SkipReason };
}

/** `backing_off`: the row's last check failed and its backoff has not passed yet (not asked this pass). */
export type SkipReason = "no_id" | "not_configured" | "not_needed" | "backing_off";

/** What the sideband WebSocket told us about one realtime call. Anything unclear is an `error`. */
export type RealtimeObservation = { kind: "live" } | { kind: "gone" } | ProviderError;

export type HangupResult =
  | { kind: "hung_up" }
  /** 404: the call had already ended (or never existed): fine for an idempotent hang-up. */
  | { kind: "already_gone" }
  | ProviderError;

/** One page of Twilio's call list, reduced to what the list-diff needs. */
export interface TwilioCallsPage {
  kind: "page";
  calls: { sid: string; status: string }[];
  /** Relative URI of the next page (it carries the PageToken), or null on the last page. */
  nextPageUri: string | null;
}

export type TwilioListAnswer = TwilioCallsPage | ProviderError;
