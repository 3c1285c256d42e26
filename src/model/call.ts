/** One row of the app's calls table as the daemon sees it, whatever the table's real column names. */
export interface ActiveCall {
  id: string;
  twilioSid: string | null;
  /**
   * The Twilio (sub)account the call belongs to, as the table holds it (not validated yet: a malformed one is
   * never put in a URL). null: the configured TWILIO_ACCOUNT_SID.
   */
  twilioAccount: string | null;
  openaiId: string | null;
  status: string;
  startedAt: Date;
  /**
   * Set only when one column holds both providers' ids (CALLS_COL_TWILIO_SID = CALLS_COL_OPENAI_ID) and the row
   * has one: the value, and whose id its shape says it is (see routeSharedId). twilioSid and openaiId then
   * hold it only for its owner.
   */
  sharedId?: { value: string; owner: IdOwner };
}

/** Whose id a value of a shared id column is: `neither` is of no provider's shape, and asked of nobody. */
/** A row of the listing as both stores read it: ids as text, a blank one (or only spaces) is no id. */
export interface ListedCallRow {
  id: string;
  twilio_sid: string | null;
  twilio_account: string | null;
  openai_id: string | null;
  status: string;
}

export function listedCall(r: ListedCallRow, startedAt: Date): ActiveCall {
  return {
    id: r.id,
    twilioSid: blankToNull(r.twilio_sid),
    twilioAccount: blankToNull(r.twilio_account),
    openaiId: blankToNull(r.openai_id),
    status: r.status,
    startedAt,
  };
}

function blankToNull(v: string | null): string | null {
  return v === null || v.trim() === "" ? null : v.trim();
}

/**
 * A call's length in seconds as a duration column takes it, in either store: whole seconds (rounded) for an
 * integer column, else to the millisecond.
 */
export function writtenDuration(whole: boolean, seconds: number): number {
  return whole ? Math.round(seconds) : Math.round(seconds * 1000) / 1000;
}

export type IdOwner = "twilio" | "openai" | "neither";

/** What confirmed an end; a bounded set, used as a metric label. */
export const END_SOURCES = ["twilio", "openai", "age_bound"] as const;
export type EndSource = (typeof END_SOURCES)[number];

export interface DecisionPolicy {
  /** Younger rows may still get their webhook: never touched. */
  minCallAgeSeconds: number;
  /** Age bound: Twilio caps a call at 24 h, so an older row that nobody confirms live is over. */
  maxCallDurationSeconds: number;
  /** An absence (OpenAI session gone) must be seen again at least this long after the first sighting. */
  absenceConfirmSeconds: number;
  /** OpenAI caps a realtime session's length: no realtime-only call can have ended later than this after it started. */
  openaiMaxSessionSeconds: number;
  /**
   * false once a realtime call was seen live past that cap: the cap is wrong, so neither end times nor trust
   * are taken from it. Default true.
   */
  sessionCapTrusted?: boolean;
}
