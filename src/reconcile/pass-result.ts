import type {
  ActiveCall,
  EndSource,
  Evidence,
  PassOutcome,
  UnverifiedReason,
  Verdict,
} from "../model/index.js";
import { type DiagnosisTally, emptyDiagnosisTally } from "./diagnose-due.js";
import type { HangupOutcome } from "./pass-deps.js";

/** What happened to a row that was not simply live. */
export type FindingOutcome =
  | "ended"
  | "would_end"
  | "already_ended"
  | "write_failed"
  /** The app held the row locked: not waited for, tried again next pass. */
  | "locked"
  /** The calls table refused the values (an enum without the status): recorded once, see STATUS_MAP. */
  | "refused"
  /** Confirmed only by OpenAI's absence, in a pass whose realtime evidence was suspect: not written. */
  | "evidence_suspect"
  /** Confirmed only by the age bound, in a pass that would end an unusual share of its rows so: not written. */
  | "age_bound_share"
  /** Left for the next leader: this replica lost its lease during the pass. */
  | "not_leader"
  | "unverified";

export interface Finding {
  call: ActiveCall;
  ageSeconds: number;
  evidence: Evidence;
  verdict: Verdict;
  outcome: FindingOutcome;
}

/** What checking some rows found: returned by each page's check, added up by the pass. */
export interface CheckTally {
  checked: number;
  live: number;
  /** Confirmed zombies, by what confirmed them (in dry-run: would be ended). */
  zombies: Record<EndSource, number>;
  /** Of the `openai` zombies, those seen gone only past OpenAI's session cap (see decide.ts). */
  realtimePastCap: number;
  unverified: Partial<Record<UnverifiedReason, number>>;
  /** Rows a provider failed to answer for: the pass saw less than it should. */
  providerErrors: number;
}

/** What writing one page's zombies did: returned by the end writer, added up by the pass. */
export interface WriteTally {
  ended: number;
  /** Zombies whose row was no longer active at write time: a webhook won the race. */
  alreadyEnded: number;
  /** Ends the database failed to write (connection lost, timeout): the pass stopped writing. */
  writeFailures: number;
  /** Zombies whose row the app held locked: skipped, tried again next pass. */
  locked: number;
  /** Zombies whose end the table refused (new and already recorded refusals). */
  refused: number;
  /** Of those, refusals recorded for the first time by this pass. */
  refusedNew: number;
  /** A write failed for a reason that is not about its row (connection lost, timeout): the pass stops. */
  databaseLost: boolean;
  /** The lease could not be renewed: this batch was not written, and the pass stops writing. */
  leadershipLost: boolean;
  realtimeHangups: Record<HangupOutcome, number>;
}

export interface PassResult extends CheckTally, WriteTally {
  runId: string;
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date;
  aborted: boolean;
  /** Why this pass's realtime absences were not trusted (null: they were, or there were none). */
  realtimeSuspect: string | null;
  /** Zombies confirmed only by OpenAI's absence that were therefore not ended. */
  realtimeHeldBack: number;
  /** Why this pass's age-bound ends were not written (null: they were, or there were none). */
  ageBoundSuspect: string | null;
  /** Zombies confirmed only by the age bound that were therefore not ended. */
  ageBoundHeldBack: number;
  /** How far the host's clock was ahead of the database's at the start (decisions use the database's). */
  clockSkewMs: number;
  /** How Twilio was asked this pass, and how many list requests that took. */
  twilioStrategy: "per-call" | "list-diff";
  listRequests: number;
  /** The diagnoses of earlier Twilio ends read this pass (never in a dry run). */
  diagnoses: DiagnosisTally;
  findings: Finding[];
  findingsOmitted: number;
}

export function emptyCheckTally(): CheckTally {
  return {
    checked: 0,
    live: 0,
    zombies: { twilio: 0, openai: 0, age_bound: 0 },
    realtimePastCap: 0,
    unverified: {},
    providerErrors: 0,
  };
}

export function emptyWriteTally(): WriteTally {
  return {
    ended: 0,
    alreadyEnded: 0,
    writeFailures: 0,
    locked: 0,
    refused: 0,
    refusedNew: 0,
    databaseLost: false,
    leadershipLost: false,
    realtimeHangups: { hung_up: 0, already_gone: 0, error: 0 },
  };
}

/** An empty result, before the pass has looked at anything. */
export function newPassResult(runId: string, dryRun: boolean, startedAt: Date): PassResult {
  return {
    runId,
    dryRun,
    startedAt,
    finishedAt: startedAt,
    ...emptyCheckTally(),
    ...emptyWriteTally(),
    aborted: false,
    clockSkewMs: 0,
    realtimeSuspect: null,
    realtimeHeldBack: 0,
    ageBoundSuspect: null,
    ageBoundHeldBack: 0,
    twilioStrategy: "per-call",
    listRequests: 0,
    diagnoses: emptyDiagnosisTally(),
    findings: [],
    findingsOmitted: 0,
  };
}

/** Adds a page's check to the pass's result. */
export function addCheck(r: PassResult, t: CheckTally): void {
  r.checked += t.checked;
  r.live += t.live;
  r.providerErrors += t.providerErrors;
  r.realtimePastCap += t.realtimePastCap;
  for (const [source, n] of Object.entries(t.zombies)) r.zombies[source as EndSource] += n;
  for (const [reason, n] of Object.entries(t.unverified)) {
    const key = reason as UnverifiedReason;
    r.unverified[key] = (r.unverified[key] ?? 0) + (n ?? 0);
  }
}

/** Adds a page's write to the pass's result. */
export function addWrite(r: PassResult, w: WriteTally): void {
  r.ended += w.ended;
  r.alreadyEnded += w.alreadyEnded;
  r.writeFailures += w.writeFailures;
  r.locked += w.locked;
  r.refused += w.refused;
  r.refusedNew += w.refusedNew;
  r.databaseLost ||= w.databaseLost;
  r.leadershipLost ||= w.leadershipLost;
  for (const [outcome, n] of Object.entries(w.realtimeHangups))
    r.realtimeHangups[outcome as HangupOutcome] += n;
}

/** Keeps findings for the report up to `max`; beyond it they are only counted. */
export function addFindings(r: PassResult, findings: readonly Finding[], max: number): void {
  for (const f of findings) {
    if (r.findings.length < max) r.findings.push(f);
    else r.findingsOmitted++;
  }
}

export type { PassOutcome };

/**
 * A pass that lost the database did not do its job: failed. A new refusal makes it partial; a refusal already
 * recorded, or a row the app held locked, does not (they are counted, and the next pass tries again).
 */
export function passOutcome(r: PassResult): PassOutcome {
  if (r.databaseLost) return "failed";
  const failedSome = r.providerErrors > 0 || r.writeFailures > 0 || r.refusedNew > 0;
  return r.aborted || r.leadershipLost || failedSome ? "partial" : "success";
}

export function totalZombies(r: PassResult): number {
  return r.zombies.twilio + r.zombies.openai + r.zombies.age_bound;
}

export function totalUnverified(r: PassResult): number {
  return Object.values(r.unverified).reduce((a, b) => a + (b ?? 0), 0);
}
