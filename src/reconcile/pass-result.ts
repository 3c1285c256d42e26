import type { ActiveCall, EndSource, Evidence, UnverifiedReason, Verdict } from "../model/index.js";

/** What happened to a row that was not simply live. */
export type FindingOutcome =
  | "ended"
  | "would_end"
  | "already_ended"
  | "write_failed"
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

export interface PassResult {
  runId: string;
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date;
  checked: number;
  live: number;
  /** Confirmed zombies, by what confirmed them (in dry-run: would be ended). */
  zombies: Record<EndSource, number>;
  ended: number;
  /** Zombies whose row was no longer active at write time: a webhook won the race. */
  alreadyEnded: number;
  writeFailures: number;
  /** A write failed for a reason that is not about its row (connection lost, timeout): the pass stopped. */
  databaseLost: boolean;
  unverified: Partial<Record<UnverifiedReason, number>>;
  /** True when a provider failed to answer for some rows: the pass saw less than it should. */
  providerErrors: number;
  aborted: boolean;
  /** How Twilio was asked this pass, and how many list requests that took. */
  twilioStrategy: "per-call" | "list-diff";
  listRequests: number;
  /** The lease could not be renewed during the pass: it stopped writing. */
  leadershipLost: boolean;
  realtimeHangups: { hung_up: number; already_gone: number; error: number };
  findings: Finding[];
  findingsOmitted: number;
}

/** An empty result, before the pass has looked at anything. */
export function newPassResult(runId: string, dryRun: boolean, startedAt: Date): PassResult {
  return {
    runId,
    dryRun,
    startedAt,
    finishedAt: startedAt,
    checked: 0,
    live: 0,
    zombies: { twilio: 0, openai: 0, age_bound: 0 },
    ended: 0,
    alreadyEnded: 0,
    writeFailures: 0,
    databaseLost: false,
    unverified: {},
    providerErrors: 0,
    aborted: false,
    twilioStrategy: "per-call",
    listRequests: 0,
    leadershipLost: false,
    realtimeHangups: { hung_up: 0, already_gone: 0, error: 0 },
    findings: [],
    findingsOmitted: 0,
  };
}

export type PassOutcome = "success" | "partial" | "failed";

/** A pass that lost the database did not do its job: failed. One refused row only makes it partial. */
export function passOutcome(r: PassResult): PassOutcome {
  if (r.databaseLost) return "failed";
  return r.aborted || r.leadershipLost || r.providerErrors > 0 || r.writeFailures > 0 ? "partial" : "success";
}

export function totalZombies(r: PassResult): number {
  return r.zombies.twilio + r.zombies.openai + r.zombies.age_bound;
}

export function totalUnverified(r: PassResult): number {
  return Object.values(r.unverified).reduce((a, b) => a + (b ?? 0), 0);
}
