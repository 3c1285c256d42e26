/**
 * What a provider told us about one call, normalised so that `decide()` never sees SDK types.
 * Anything that is not a clear, well-formed answer is an `error`: "unknown" is never "finished".
 */

export const TWILIO_LIVE_STATUSES = ["queued", "ringing", "in-progress"] as const;
export const TWILIO_TERMINAL_STATUSES = ["completed", "busy", "no-answer", "canceled", "failed"] as const;

/** The values of a call's `direction` in Twilio's OpenAPI description (`call_enum_direction`). */
export const TWILIO_DIRECTIONS = [
  "inbound",
  "outbound-api",
  "outbound-dial",
  "trunking-terminating",
  "trunking-originating",
] as const;
export type TwilioDirection = (typeof TWILIO_DIRECTIONS)[number];

export type TwilioLiveStatus = (typeof TWILIO_LIVE_STATUSES)[number];
export type TwilioTerminalStatus = (typeof TWILIO_TERMINAL_STATUSES)[number];

/** Which field of the Twilio resource supplied the end time, in the order of preference. */
export type EndTimeSource = "end_time" | "start_time+duration" | "date_updated";

/** Every reason a provider gave no clear answer: a bounded set, so the metrics can start each at 0. */
export const PROVIDER_ERROR_REASONS = [
  "timeout",
  "network",
  "rate_limited",
  "server_error",
  "auth_failed",
  "bad_request",
  "malformed_response",
  "unknown_status",
  "circuit_open",
  /** A clear answer about something else than what was asked (another call's SID, another account). */
  "answer_mismatch",
] as const;

export type ProviderErrorReason = (typeof PROVIDER_ERROR_REASONS)[number];

/**
 * What an answer is about, kept with it so that an audit row lets anyone ask the provider again: the resource
 * asked for and the provider's id of the request that answered. Identifiers only, never a credential (the
 * account is the Account SID the URL names, never an API key). Set by the adapters on every answer about a
 * well-formed id, including errors and answers the policy gave without asking (circuit open, timeout).
 */
export interface Asked {
  /** Twilio: the Call SID asked for (`CA…`). */
  sid?: string;
  /** Twilio: the Account SID whose Calls resource was asked (`AC…`). */
  account?: string;
  /** OpenAI: the realtime call id asked for (`rtc_…`). */
  callId?: string;
  /** The provider's request id: Twilio's `Twilio-Request-Id` (`RQ…`), OpenAI's `x-request-id` (`req_…`). Absent when no answer carried one. */
  requestId?: string;
}

/** Every variant of a provider answer, with what was asked. */
export type WithAsked<T> = T & { asked?: Asked };

export type TwilioEvidence = WithAsked<
  | { kind: "live"; status: TwilioLiveStatus }
  | {
      kind: "ended";
      status: TwilioTerminalStatus;
      /** null when Twilio gave no usable time at all: the end is confirmed, its time is not. */
      endedAt: Date | null;
      endTimeSource: EndTimeSource | null;
      /**
       * Twilio's own `start_time`, parsed (null when empty). The normaliser always sets it; absent only in
       * hand-built evidence, where `decide()` then cannot check the end against it.
       */
      startedAt?: Date | null;
      /**
       * Twilio's `duration`, whole seconds (null when empty). The normaliser always sets it; absent only in
       * hand-built evidence, where the written length is then the end minus the row's start.
       */
      durationSeconds?: number | null;
      /**
       * Twilio's `direction` (`inbound`, `outbound-api`, `outbound-dial`, `trunking-…`), kept for the diagnosis:
       * which kind of call lost its end. null when Twilio gave none or one outside that set.
       */
      direction?: TwilioDirection | null;
      raw: TwilioRawTimes;
    }
  | { kind: "not_found" }
  | ProviderError
>;

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

/**
 * OpenAI's runtime surfaces: `realtime` (the Realtime API's sideband, `/v1/realtime?call_id=`) and `live` (the
 * Live API's observer sideband, `/v1/live/sessions/{id}/attach`). The first successful accept selects a call's
 * surface, and the other one may not know the call: it is gone only when every surface asked says so.
 */
export const REALTIME_SURFACES = ["live", "realtime"] as const;
export type RealtimeSurface = (typeof REALTIME_SURFACES)[number];

export type OpenAIEvidence = WithAsked<
  | { kind: "live" }
  /**
   * The realtime session is gone. `firstSeenGoneAt`: when an earlier pass first saw it gone in the current
   * streak (null: this is the first sighting); `lastSeenLiveAt`: when a probe last saw it live (null: never).
   */
  | { kind: "gone"; firstSeenGoneAt: Date | null; lastSeenLiveAt: Date | null }
  | { kind: "error"; reason: ProviderErrorReason; detail: string }
>;

/** `skipped` = not asked: no id on the row (or not this provider's), provider not configured, or not needed. */
export interface Evidence {
  twilio: TwilioEvidence | { kind: "skipped"; why: SkipReason };
  openai: OpenAIEvidence | { kind: "skipped"; why: SkipReason };
}

/**
 * `backing_off`: the row's last check failed and its backoff has not passed yet (not asked this pass).
 * `held`: the call is held (`hold`, or a revert): never asked, never ended, until `release`.
 * `within_session_cap`: a realtime call that may still be live: by default it is not even looked at.
 */
export type SkipReason =
  | "no_id"
  | "not_configured"
  | "not_needed"
  | "backing_off"
  | "held"
  /** A realtime call younger than OpenAI's session cap (and a grace): not connected to unless OPENAI_PROBE=early. */
  | "within_session_cap"
  /** One column holds both providers' ids, and this row's is the other provider's (`rtc_…` is not Twilio's). */
  | "other_provider"
  /** One column holds both providers' ids, and this row's has neither's shape: asked of nobody. */
  | "unrecognised_id";

/**
 * What the sideband WebSocket told us about one realtime call: `live` = the handshake completed (101), `gone` =
 * refused with 404 `call_id_not_found`. Anything unclear is an `error`.
 */
export type RealtimeObservation = WithAsked<{ kind: "live" } | { kind: "gone" } | ProviderError>;

export type HangupResult = WithAsked<
  | { kind: "hung_up" }
  /** 404 `call_id_not_found`: the call had already ended (or never existed); any other 404 is an error. */
  | { kind: "already_gone" }
  | ProviderError
>;

/** One page of Twilio's call list, reduced to what the list-diff needs. */
export interface TwilioCallsPage {
  kind: "page";
  /** `startTime`: Twilio's `start_time` (null when empty or unreadable), to check a slice was honoured. */
  calls: { sid: string; status: string; startTime?: Date | null }[];
  /** Relative URI of the next page (it carries the PageToken), or null on the last page. */
  nextPageUri: string | null;
}

export type TwilioListAnswer = TwilioCallsPage | ProviderError;
