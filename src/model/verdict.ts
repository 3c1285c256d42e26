import type { EndSource } from "./call.js";
import type { ProviderErrorReason } from "./evidence.js";

/** Bounded set: used as a metric label. */
export type UnverifiedReason =
  /** A provider did not answer clearly. */
  | ProviderErrorReason
  | "not_found"
  | "no_end_time"
  | "end_time_in_future"
  /** Twilio's end time is before the row's `started_at` (beyond rounding): not an end of this call. */
  | "end_before_start"
  /** Twilio's end time is before Twilio's own `start_time`: the answer contradicts itself. */
  | "end_before_twilio_start"
  | "no_provider"
  | "absence_unconfirmed"
  /**
   * A time the judgement rests on is no time (an Invalid Date, or `-infinity` in the table): the row's
   * started_at, the clock, a sighting, or the end computed from them.
   */
  | "invalid_time"
  /** A realtime call seen live after the latest time its absence says it can have ended. */
  | "sightings_conflict"
  /** Not asked this pass: its last check failed, and it waits out its backoff. */
  | "backoff"
  /** Not asked and never ended, not even by the age bound: held (`hold`, or a revert) until `release`. */
  | "held"
  /** A realtime-only call younger than OpenAI's session cap: not probed (OPENAI_PROBE=after-cap). */
  | "within_session_cap"
  /**
   * The row's id, in the one column that holds both providers' ids, has neither provider's shape: the app's
   * data, asked of nobody, never a provider's failure.
   */
  | "unrecognised_id";

export type Verdict =
  | {
      action: "end";
      newStatus: string;
      endedAt: Date;
      /**
       * How long the call lasted, in seconds (to the millisecond): Twilio's own `duration` for a Twilio end
       * that gave one, else `endedAt` minus the row's start. Written only when CALLS_COL_DURATION is set.
       */
      durationSeconds: number;
      source: EndSource;
      why: string;
      /**
       * `session_cap`: a realtime absence seen only past OpenAI's session cap, which no live session outlasts:
       * two independent signals, so the guards that protect younger realtime calls do not hold it back.
       */
      trust?: "session_cap";
    }
  | { action: "keep"; why: "too_young" | "twilio_live" | "openai_live" }
  | { action: "unverified"; reason: UnverifiedReason; why: string };

export type EndVerdict = Extract<Verdict, { action: "end" }>;
