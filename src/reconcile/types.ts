import type { ProviderErrorReason } from "../providers/evidence.js";

/** One row of the app's calls table as the daemon sees it, whatever the table's real column names. */
export interface ActiveCall {
  id: string;
  twilioSid: string | null;
  openaiId: string | null;
  status: string;
  startedAt: Date;
}

export interface DecisionPolicy {
  /** Younger rows may still get their webhook: never touched. */
  minCallAgeSeconds: number;
  /** Age bound: Twilio caps a call at 24 h, so an older row that nobody confirms live is over. */
  maxCallDurationSeconds: number;
  /** An absence (OpenAI session gone) must be seen again at least this long after the first sighting. */
  absenceConfirmSeconds: number;
}

export type EndSource = "twilio" | "openai" | "age_bound";

/** Bounded set: used as a metric label. */
export type UnverifiedReason =
  /** A provider did not answer clearly. */
  | ProviderErrorReason
  | "not_found"
  | "no_end_time"
  | "end_time_in_future"
  | "no_provider"
  | "absence_unconfirmed";

export type Verdict =
  | { action: "end"; newStatus: string; endedAt: Date; source: EndSource; why: string }
  | { action: "keep"; why: "too_young" | "twilio_live" | "openai_live" }
  | { action: "unverified"; reason: UnverifiedReason; why: string };
