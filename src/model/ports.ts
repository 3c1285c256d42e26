/**
 * The two ports a pass works through: it asks the providers (ProviderProbes) and writes the calls table
 * (CallStore). reconcile/ knows only these; providers/ and db/ implement them, tests hand in fakes.
 */
import type { ActiveCall, EndSource } from "./call.js";
import {
  type HangupResult,
  type ProviderError,
  type RealtimeObservation,
  TWILIO_TERMINAL_STATUSES,
  type TwilioEvidence,
  type TwilioListAnswer,
  type TwilioLiveStatus,
} from "./evidence.js";

/** The providers as the pass sees them: already behind their rate limit, retries and breaker. */
export interface ProviderProbes {
  twilio: {
    /**
     * `account`: the (sub)account the call belongs to (ActiveCall.twilioAccount); null: the configured account.
     * Each account is asked under its own rate limit, concurrency cap and breaker, as Twilio limits each.
     */
    fetchCall(callSid: string, account: string | null, signal?: AbortSignal): Promise<TwilioEvidence>;
    /** One page of `query`; `pageUri` from the previous page of the same query, null for the first. */
    listCallsPage(
      query: TwilioListQuery,
      pageUri: string | null,
      signal?: AbortSignal,
    ): Promise<TwilioListAnswer>;
    /**
     * The first page of a call's Events or Notifications, raw (the diagnosis strips it). Optional: a probe
     * without it leaves every Twilio end's cause undiagnosed.
     */
    fetchCallRecords?(
      kind: CallRecordsKind,
      callSid: string,
      account: string,
      signal?: AbortSignal,
    ): Promise<CallRecordsAnswer>;
  } | null;
  /** null when OpenAI is not configured or OPENAI_PROBE=off. */
  openai: { probeSession(callId: string, signal?: AbortSignal): Promise<RealtimeObservation> } | null;
  /** null unless HANGUP_ORPHANED_REALTIME=true and OPENAI_API_KEY is set. */
  hangupRealtime: ((callId: string, signal?: AbortSignal) => Promise<HangupResult>) | null;
}

export type CallRecordsKind = "events" | "notifications";

/** A records page as Twilio sent it (JSON, not yet read), or why there is none. */
export type CallRecordsAnswer = { kind: "page"; body: unknown } | ProviderError;

/** One listing of an account's calls in one status, optionally a slice of them by start time. */
export interface TwilioListQuery {
  /** null: the configured account. */
  account: string | null;
  status: TwilioLiveStatus;
  /** Twilio's `StartTime>` and `StartTime<` filters, whole seconds, both inclusive; absent: unbounded. */
  startedFrom?: Date;
  startedTo?: Date;
}

/**
 * What probes saw of one realtime call: when the current streak of "gone" answers began (null: the last answer
 * was live or an error, so there is no streak) and when it was last seen live (null: never).
 */
export interface Sighting {
  firstGoneAt: Date | null;
  lastLiveAt: Date | null;
}

/** Where the next keyset page starts: the last row of the previous page, exact to the microsecond. */
export interface PageCursor {
  startedAt: string;
  id: string;
}

/** The most Call SIDs one `CallStore.activeByCallSids` takes: one statement's worth, a bounded parameter. */
export const MAX_CALL_SIDS_PER_READ = 500;

export interface ActivePage {
  rows: ActiveCall[];
  next: PageCursor | null;
  /**
   * The ids among `rows` held (`call-reconciler hold`, or a revert) when the page was read: read with the
   * rows themselves, so that a page costs one statement.
   */
  held: ReadonlySet<string>;
}

/**
 * Every status an end may carry in `EndRequest.newStatus`: Twilio's terminal statuses (an OpenAI end is
 * `completed`) and `timeout` (the age bound). These are the keys STATUS_MAP may map to the app's own values.
 */
export const END_STATUSES = [...TWILIO_TERMINAL_STATUSES, "timeout"] as const;

export interface EndRequest {
  call: ActiveCall;
  /** The provider's status (one of END_STATUSES); the store writes it through STATUS_MAP. */
  newStatus: string;
  endedAt: Date;
  /** The call's length in seconds, as the verdict decided it: written only when CALLS_COL_DURATION is set. */
  durationSeconds: number;
  source: EndSource;
  runId: string;
  evidence: unknown;
  decidedAt: Date;
}

/** What a batched end did, by call id (as `id::text`, the form `listActivePage` gives). */
export interface EndBatchResult {
  /** Ended now, each with its audit row and `pg_notify`. */
  ended: Set<string>;
  /**
   * Still active but not ended: the app holds a lock on the row (say, its webhook handler's transaction), and
   * the daemon never waits for it. Try again on a later pass. An id in neither set was no longer active (a
   * webhook won the race) or does not exist.
   */
  locked: Set<string>;
}

export interface StartShares {
  rows: number;
  cuts: Date[];
}

export interface ActiveSummary {
  active: number;
  oldestStartedAt: Date | null;
}

/** The daemon's whole view of the calls table. Tests hand in the real implementation on a real Postgres. */
export interface CallStore {
  listActivePage(cursor: PageCursor | null, startedAtOrBefore: Date, limit: number): Promise<ActivePage>;
  /**
   * The active rows whose Twilio Call SID is one of `callSids` (an event named them), in the form
   * `listActivePage` gives (held ids included), started at any time, in start order, with `next` null.
   * Unknown or no longer active SIDs are simply absent. At most MAX_CALL_SIDS_PER_READ SIDs a call (callers
   * batch): more throw a RangeError.
   */
  activeByCallSids(callSids: readonly string[]): Promise<ActivePage>;
  /**
   * `ended` when this call was ended now; `not_active` when it no longer was (a webhook won the race);
   * `locked` when the app holds its row locked (never waited for). Throws RowRefusedError when the table
   * refuses this row's values, RowLockedError when a lock the end needs stayed taken for the whole
   * lock_timeout (a table lock, a lock an app trigger waits for); anything else thrown is the database's.
   */
  endCall(req: EndRequest): Promise<"ended" | "not_active" | "locked">;
  /**
   * Ends a batch in one statement and one transaction, each call only if still active and not locked by
   * someone else (`FOR NO KEY UPDATE SKIP LOCKED`), with its audit row and its `pg_notify`; all or nothing.
   * An id given twice is ended once, with its first request. Throws like `endCall`, for the whole batch.
   */
  endCalls(reqs: readonly EndRequest[]): Promise<EndBatchResult>;
  /**
   * Records once that the table refused this end (RowRefusedError): an audit row with outcome `refused`,
   * the proposed status and end time, the evidence and `detail` (the database's message). Nothing is
   * written when a refusal of this call with this (mapped) status is already recorded. True when recorded now.
   */
  recordRefusal(req: EndRequest, detail: string): Promise<boolean>;
  /**
   * The ids of `reqs` whose end, with the status each request would write now, was already recorded as
   * refused: a pass may try those alone, so one known refusal does not fail every batch it is in.
   */
  refusedBefore(reqs: readonly EndRequest[]): Promise<Set<string>>;
  activeSummary(): Promise<ActiveSummary>;
  /**
   * For each Twilio account (null: the configured one), how many active rows have a Call SID, and the start
   * times that cut them into `parts` equal shares (parts − 1 of them, ascending): where a listing of that
   * account's live calls can be cut into slices of similar size. Optional: without it, accounts are listed whole.
   */
  activeStartShares?(parts: number): Promise<Map<string | null, StartShares>>;
  /**
   * Which of `ids` (as `listActivePage` gives them) are held (`call-reconciler hold`, or a revert) until
   * `release`: a pass asks no provider about those and never ends them, not even by the age bound. A page
   * says it of its own rows (`ActivePage.held`); this is for rows asked about long after their page was read.
   */
  heldAmong(ids: readonly string[]): Promise<Set<string>>;
  /** The database's clock: every decision of a pass is timed on it, never on the host's. */
  now(): Promise<Date>;
  /** What probes saw of these realtime calls on earlier passes (absent: never probed). */
  sightings(realtimeIds: readonly string[]): Promise<Map<string, Sighting>>;
  /** Keeps what this pass saw, for the next pass, the next leader, the next process. */
  saveSightings(sightings: ReadonlyMap<string, Sighting>): Promise<void>;
  /** The last time any probe saw a live realtime session (the positive control); null: never, or long ago. */
  lastLiveSighting(): Promise<Date | null>;
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

/**
 * A lock the end needs stayed taken for the whole `lock_timeout` (SQLSTATE 55P03): the app holds the table
 * (a migration's `ALTER TABLE`) or something an app trigger needs. A problem of the rows involved, not of
 * the database: the pass goes on and tries them again later. (Rows the app holds locked are not an error:
 * they come back in `EndBatchResult.locked`.)
 */
export class RowLockedError extends Error {
  override name = "RowLockedError";
  readonly code = "55P03";
}

/** A Twilio end whose cause is due to be read from Twilio's records of the call. */
export interface DueDiagnosis {
  callId: string;
  callSid: string;
  accountSid: string;
  /** Twilio's `direction` of the call, when it gave one. */
  direction: string | null;
  startedAt: Date | null;
  providerEndedAt: Date;
  /** Attempts so far (each failed read counts one). */
  attempts: number;
}

/**
 * The queue of diagnoses in the daemon's own table: filled by the ends themselves (in their transaction), so a
 * restarted daemon or a new leader goes on where the last one stopped.
 */
export interface DiagnosisQueue {
  /** Due now, oldest first, at most `limit`. */
  due(limit: number): Promise<DueDiagnosis[]>;
  /** The cause found (or `unknown` for good), with what the report needs; never overwrites a settled one. */
  settle(callId: string, cause: string, detail: unknown): Promise<void>;
  /** Asked again at `dueAt`: the records could not be read, or may not be complete yet. */
  retry(callId: string, dueAt: Date, error: string): Promise<void>;
  backlog(): Promise<{ queued: number; due: number }>;
}
