import type { Logger } from "../log.js";
import type { EndSource } from "../model/index.js";
import { type PendingEnd, pendingFinding } from "./check-page.js";
import { addFindings, type FindingOutcome, type PassResult } from "./pass-result.js";

/** Below this many rows in a pass, a share says too little to set anything aside. */
const MIN_SEEN_FOR_SHARE = 10;

/** The blast-radius test: `ends` of `seen` rows is more than `maxShare` of enough rows. */
export function exceedsShare(ends: number, seen: number, maxShare: number): boolean {
  return seen >= MIN_SEEN_FOR_SHARE && ends > maxShare * seen;
}

/** What one guard watches, and how the pass's result and log say what it did. */
export interface ShareGuardSpec {
  /** The ends it sets aside until the end of the pass: those this source confirmed. */
  source: EndSource;
  /** The result's fields for why the ends were suspect and how many were not written. */
  suspect: "realtimeSuspect" | "ageBoundSuspect";
  notWritten: "realtimeHeldBack" | "ageBoundHeldBack";
  /** The report's outcome for each end not written. */
  outcome: Extract<FindingOutcome, "evidence_suspect" | "age_bound_share">;
  /** The operator confirmed the ends are real: written despite a suspicion, with this warning. */
  confirmed: boolean;
  confirmedWarning: string;
  /** Said once when the ends are not written. */
  suspectWarning: string;
}

/**
 * One source's ends, set aside during the pass and written together at its end, or not at all when their share
 * is too large to trust (or another doubt the guard has): a pass that would end most of what it saw on one
 * kind of evidence more likely reads that evidence wrong than meets a real backlog.
 */
export class ShareGuard {
  private readonly aside: PendingEnd[] = [];

  constructor(
    private readonly spec: ShareGuardSpec,
    private readonly logger: Logger,
  ) {}

  /** Sets this source's ends aside; returns the others for the page's write. */
  takeAside(pending: readonly PendingEnd[]): PendingEnd[] {
    const rest: PendingEnd[] = [];
    for (const p of pending) (p.verdict.source === this.spec.source ? this.aside : rest).push(p);
    return rest;
  }

  get setAside(): readonly PendingEnd[] {
    return this.aside;
  }

  /**
   * At the end of the pass, given why the ends are suspect (null: they are not): returns the ends to write
   * now, all or none. Those not written are counted and reported, each as a finding.
   */
  settle(suspicion: string | null, result: PassResult, maxFindings: number): readonly PendingEnd[] {
    const why = suspicion !== null && this.spec.confirmed ? this.confirm(suspicion) : suspicion;
    result[this.spec.suspect] = why;
    if (why === null) return this.aside;
    result[this.spec.notWritten] = this.aside.length;
    this.logger.warn({ heldBack: this.aside.length, dryRun: result.dryRun, why }, this.spec.suspectWarning);
    const outcome = this.spec.outcome;
    addFindings(
      result,
      this.aside.map((p) => pendingFinding(p, outcome)),
      maxFindings,
    );
    return [];
  }

  private confirm(why: string): null {
    this.logger.warn({ why }, this.spec.confirmedWarning);
    return null;
  }
}
