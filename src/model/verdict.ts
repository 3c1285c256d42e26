import type { EndSource } from "./call.js";
import type { ProviderErrorReason } from "./evidence.js";

/** Bounded set: used as a metric label. */
export type UnverifiedReason =
  /** A provider did not answer clearly. */
  | ProviderErrorReason
  | "not_found"
  | "no_end_time"
  | "end_time_in_future"
  | "no_provider"
  | "absence_unconfirmed"
  /** Not asked this pass: its last check failed, and it waits out its backoff. */
  | "backoff";

export type Verdict =
  | { action: "end"; newStatus: string; endedAt: Date; source: EndSource; why: string }
  | { action: "keep"; why: "too_young" | "twilio_live" | "openai_live" }
  | { action: "unverified"; reason: UnverifiedReason; why: string };

export type EndVerdict = Extract<Verdict, { action: "end" }>;
