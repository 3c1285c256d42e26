/**
 * The two ports a pass works through: it asks the providers (ProviderProbes) and writes the calls table
 * (CallStore). reconcile/ knows only these; providers/ and db/ implement them, tests hand in fakes.
 */
import type { ActiveCall, EndSource } from "./call.js";
import type {
  HangupResult,
  RealtimeObservation,
  TwilioEvidence,
  TwilioListAnswer,
  TwilioLiveStatus,
} from "./evidence.js";

/** The providers as the pass sees them: already behind their rate limit, retries and breaker. */
export interface ProviderProbes {
  twilio: {
    fetchCall(callSid: string, signal?: AbortSignal): Promise<TwilioEvidence>;
    listCallsPage(
      status: TwilioLiveStatus,
      pageUri: string | null,
      signal?: AbortSignal,
    ): Promise<TwilioListAnswer>;
  } | null;
  /** null when OpenAI is not configured or OPENAI_PROBE=off. */
  openai: { probeSession(callId: string, signal?: AbortSignal): Promise<RealtimeObservation> } | null;
  /** null unless HANGUP_ORPHANED_REALTIME=true and OPENAI_API_KEY is set. */
  hangupRealtime: ((callId: string, signal?: AbortSignal) => Promise<HangupResult>) | null;
}

/** Where the next keyset page starts: the last row of the previous page, exact to the microsecond. */
export interface PageCursor {
  startedAt: string;
  id: string;
}

export interface ActivePage {
  rows: ActiveCall[];
  next: PageCursor | null;
}

export interface EndRequest {
  call: ActiveCall;
  newStatus: string;
  endedAt: Date;
  source: EndSource;
  runId: string;
  evidence: unknown;
  decidedAt: Date;
}

export interface ActiveSummary {
  active: number;
  oldestStartedAt: Date | null;
}

/** The daemon's whole view of the calls table. Tests hand in the real implementation on a real Postgres. */
export interface CallStore {
  listActivePage(cursor: PageCursor | null, startedAtOrBefore: Date, limit: number): Promise<ActivePage>;
  /**
   * True when this call was ended now; false when it was no longer active (a webhook won the race).
   * Throws RowRefusedError when the table refuses this row's values; anything else thrown is the database's.
   */
  endCall(req: EndRequest): Promise<boolean>;
  /**
   * Ends a batch in one statement and one transaction, each call only if still active, with its audit row
   * and its `pg_notify`; all or nothing. Returns the ids (as `id::text`, the form `listActivePage` gives)
   * of the calls ended now. An id given twice is ended once, with its first request.
   */
  endCalls(reqs: readonly EndRequest[]): Promise<Set<string>>;
  activeSummary(): Promise<ActiveSummary>;
}

/**
 * The table refused one row's values (a data or integrity error: an enum that lacks the status, a check
 * constraint): a problem of that row, not of the database, so the rows after it can still be ended.
 */
export class RowRefusedError extends Error {
  override name = "RowRefusedError";
  constructor(
    message: string,
    /** The SQLSTATE the database gave. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
