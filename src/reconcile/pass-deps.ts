import type { Logger } from "../log.js";
import type {
  CallStore,
  DecisionPolicy,
  DiagnosisQueue,
  EndSource,
  HangupOutcome,
  ProviderProbes,
  UnverifiedReason,
} from "../model/index.js";
import type { RowBackoff } from "./row-backoff.js";
import type { SessionCapCheck } from "./session-cap.js";

/**
 * What a pass works with. Its settings come from passSettings (pass-settings.ts), for the daemon, the audit, the
 * bench and the tests alike; the ports and hooks are each caller's own.
 */
export interface PassDeps {
  store: CallStore;
  probes: ProviderProbes;
  /** When OpenAI's absences are trusted (see realtime-guard.ts). */
  realtimeTrust: { liveControlSeconds: number; maxEndShare: number };
  /**
   * OPENAI_PROBE: `after-cap` connects only to realtime calls past OpenAI's session cap, `early` to younger ones
   * too; `cap` remembers whether a live call disproved that cap.
   */
  realtimeProbe: { mode: "after-cap" | "early"; cap: SessionCapCheck };
  /** AGE_BOUND_MAX_END_SHARE (see age-bound-guard.ts). */
  ageBoundMaxEndShare: number;
  /** Rows whose check failed, backed off across passes (the daemon keeps one for its lifetime). */
  backoff?: RowBackoff;
  /** Told whenever the pass moves forward (a page read, an answer, a write): the daemon's stall detector. */
  onProgress?: () => void;
  /**
   * Aborted once this replica can no longer count on being the leader (its lease could not be renewed in
   * time). The pass then stops writing at once; the next leader picks the rest up. Absent: always the writer.
   */
  leadership?: AbortSignal;
  /** The record step: what the pass tells as it goes (the daemon's metrics, the downstream webhook). */
  record?: Partial<PassRecord>;
  /** How Twilio is asked. */
  twilioStrategy: TwilioStrategy;
  policy: DecisionPolicy;
  logger: Logger;
  pageSize: number;
  /** Rows checked at once: bounds both provider load and memory. */
  concurrency: number;
  /**
   * The diagnosis queue and the requests a pass may spend on it (see diagnose-due.ts). Absent: Twilio ends are
   * queued but never diagnosed by this pass.
   */
  diagnosis?: { queue: DiagnosisQueue; maxRequests: number; onSettled?: (cause: string) => void };
  /** Findings kept for the report; beyond it they are only counted (the pass itself stays flat in memory). */
  maxFindings: number;
}

/**
 * What the steps of one pass work with: the deps, and the pass's clock, the database's `now()` read once at
 * the start of the pass and carried forward on the monotonic clock (the host's wall clock may be hours off).
 */
export type PassRun = PassDeps & { clock: () => Date };

export interface TwilioStrategy {
  mode: "auto" | "list-diff" | "per-call";
  listDiffThreshold: number;
  /**
   * TWILIO_ACCOUNT_SID: a row that names it in its account column is in the same account as a row with none
   * (see account-key.ts): one listing, one stop, and the configured account's messages.
   */
  configuredAccount?: string | undefined;
  /**
   * Accounts whose answers showed that StartTime is honoured by the date only (as Twilio documents it): listed
   * without slices. The daemon keeps one set for its lifetime; absent: found again each pass.
   */
  datesOnlyAccounts?: Set<string>;
  /** Told when an account joins that set (the metric); must not throw. */
  onDatesOnly?: () => void;
}

export interface PassOptions {
  runId: string;
  dryRun: boolean;
  /** Aborting stops taking new rows; ends already started commit or roll back on their own. */
  signal?: AbortSignal;
  /** The operator confirms a realtime backlog is real: OpenAI's absences are written even if suspect. */
  confirmRealtimeAbsences?: boolean;
  /** The operator confirms an unusual share of age-bound ends is real: they are written anyway. */
  confirmAgeBound?: boolean;
  /**
   * After the ends, read the due diagnoses (the daemon's passes). A one-shot `audit` leaves them to the daemon:
   * it ends what it must and exits, whatever Twilio's records cost.
   */
  diagnose?: boolean;
  /**
   * Only the active rows of these Twilio Call SIDs (Event Streams reported their calls' ends), in one page,
   * whatever their start (the policy says what age a decision needs). Each is still checked and decided as any
   * pass does: the event is the reason to look, never the evidence.
   */
  callSids?: readonly string[];
}

/** What a pass records; each must not throw or block. */
export interface PassRecord {
  /** An end, once it committed. */
  ended(event: EndedEvent): void;
  /** A row whose provider check failed (not a clear answer), by reason. */
  rowCheckFailed(reason: UnverifiedReason): void;
  /** How the hang-up of an orphaned realtime session went. */
  hangup(outcome: HangupOutcome): void;
}

export interface EndedEvent {
  callId: string;
  /** The row's Twilio Call SID, if it has one. */
  callSid: string | null;
  status: string;
  endedAt: Date;
  /** When the daemon decided the end (the database's clock): `decidedAt − endedAt` is how long it was a zombie. */
  decidedAt: Date;
  source: EndSource;
  runId: string;
}

export type { HangupOutcome };
