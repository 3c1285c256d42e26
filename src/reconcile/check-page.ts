import type { LimitFunction } from "p-limit";
import type { ActiveCall, EndVerdict, Evidence, UnverifiedReason, Verdict } from "../model/index.js";
import { decide } from "./decide.js";
import type { PassOptions, PassRun } from "./pass-deps.js";
import { type CheckTally, emptyCheckTally, type Finding } from "./pass-result.js";

/** A zombie decided during the pass, waiting for its page's batch write. */
export interface PendingEnd {
  row: ActiveCall;
  evidence: Evidence;
  verdict: EndVerdict;
  decidedAt: Date;
}

/** One page checked: what it found, the findings for the report, and the zombies its write should end. */
export interface PageCheck {
  tally: CheckTally;
  findings: Finding[];
  toEnd: PendingEnd[];
}

export interface PageCheckContext {
  deps: PassRun;
  opts: PassOptions;
  /** Which of the page's rows are held: neither asked about nor decided. */
  held: ReadonlySet<string>;
  gather(row: ActiveCall, signal?: AbortSignal): Promise<Evidence>;
  /** Shared by every page of the pass: the rows asked about at once. */
  limit: LimitFunction;
  /** True once the pass should take no new rows (shutdown, lost lease, lost database). */
  stopped(): boolean;
  /**
   * Offered each row whose backoff has passed: true when the pass takes it to ask after the rows that were
   * not checked recently. Absent for those deferred rows themselves.
   */
  defer?: (row: ActiveCall) => boolean;
}

/** Reasons that are normal answers, not failures of a provider or of the pass. */
const EXPECTED_UNVERIFIED: ReadonlySet<UnverifiedReason> = new Set([
  "not_found",
  "no_provider",
  "absence_unconfirmed",
  "no_end_time",
  "end_time_in_future",
  "backoff",
  "held",
  "within_session_cap",
  // The row's own times are no time: the app's data, not a provider's failure.
  "invalid_time",
  // The row's id is of no provider's shape: the app's data too, and no provider was asked.
  "unrecognised_id",
]);

/** Failures that say nothing about the row itself (the whole provider is refused or failing): no backoff. */
const PROVIDER_WIDE: ReadonlySet<UnverifiedReason> = new Set(["circuit_open", "auth_failed"]);

const BACKING_OFF: Evidence = {
  twilio: { kind: "skipped", why: "backing_off" },
  openai: { kind: "skipped", why: "backing_off" },
};

/** A held call (`hold`, or a revert): asked nothing, ended by nothing, not even the age bound, until released. */
const HELD: Evidence = { twilio: { kind: "skipped", why: "held" }, openai: { kind: "skipped", why: "held" } };
const HELD_VERDICT: Verdict = {
  action: "unverified",
  reason: "held",
  why: "held (call-reconciler hold, or a revert): never ended until call-reconciler release",
};

/** A failed check backs the row off; any clear answer clears it. */
function noteAnswer(deps: PassRun, row: ActiveCall, verdict: Verdict, now: Date): void {
  if (deps.backoff === undefined) return;
  if (verdict.action !== "unverified" || EXPECTED_UNVERIFIED.has(verdict.reason))
    deps.backoff.answered(row.id);
  else if (!PROVIDER_WIDE.has(verdict.reason)) deps.backoff.failed(row.id, now);
}

/** The report's line for a zombie decided earlier in the pass, with what became of it. */
export function pendingFinding(p: PendingEnd, outcome: Finding["outcome"]): Finding {
  return {
    call: p.row,
    ageSeconds: ageSeconds(p.row, p.decidedAt),
    evidence: p.evidence,
    verdict: p.verdict,
    outcome,
  };
}

export function ageSeconds(call: ActiveCall, at: Date): number {
  return Math.floor((at.getTime() - call.startedAt.getTime()) / 1000);
}

/**
 * Asks about every row of a page (each under the pass's concurrency limit) and decides; writes nothing.
 * `rows` is taken over: each slot is emptied when its row's turn comes, so that a page waiting on a few slow
 * answers (its zombies' fetches, behind the rate limit) does not keep its hundreds of finished rows alive. Kept,
 * they lived long enough to be promoted to the old generation, and a pass's peak memory grew with its rows.
 */
export async function checkPage(rows: (ActiveCall | undefined)[], ctx: PageCheckContext): Promise<PageCheck> {
  const { deps, opts } = ctx;
  const check: PageCheck = { tally: emptyCheckTally(), findings: [], toEnd: [] };
  const { tally } = check;
  const { held } = ctx;

  /** Returns the zombie to end, if any; counts and keeps the rest. */
  const checkRow = async (row: ActiveCall): Promise<PendingEnd | null> => {
    if (ctx.stopped()) return null;
    if (held.has(row.id)) {
      tally.checked++;
      tally.unverified.held = (tally.unverified.held ?? 0) + 1;
      check.findings.push({
        call: row,
        ageSeconds: ageSeconds(row, deps.clock()),
        evidence: HELD,
        verdict: HELD_VERDICT,
        outcome: "unverified",
      });
      return null;
    }
    const standing = deps.backoff?.standing(row.id, deps.clock()) ?? "fresh";
    if (standing === "due" && ctx.defer?.(row) === true) return null;
    const evidence = standing === "waiting" ? BACKING_OFF : await ctx.gather(row, opts.signal);
    deps.onProgress?.();
    const now = deps.clock();
    let verdict = decide(row, evidence, now, deps.policy);
    // The pass stopped while the row was asked about (a failed page, a lost lease, shutdown, the deadline): its
    // request was abandoned, which says nothing of the row. Not counted, not backed off; the next pass asks it.
    if (verdict.action === "unverified" && ctx.stopped()) return null;
    if (standing !== "waiting") noteAnswer(deps, row, verdict, now);
    // Not asked, so unverified for that reason; the age bound still applies (no live call outlasts it).
    else if (verdict.action === "unverified")
      verdict = {
        action: "unverified",
        reason: "backoff",
        why: "its last check failed; asked again once its backoff has passed",
      };
    const finding = (outcome: Finding["outcome"]): Finding => ({
      call: row,
      ageSeconds: ageSeconds(row, now),
      evidence,
      verdict,
      outcome,
    });
    tally.checked++;
    if (verdict.action === "keep") {
      tally.live++;
      return null;
    }
    if (verdict.action === "unverified") {
      tally.unverified[verdict.reason] = (tally.unverified[verdict.reason] ?? 0) + 1;
      if (!EXPECTED_UNVERIFIED.has(verdict.reason)) {
        tally.providerErrors++;
        deps.record?.rowCheckFailed?.(verdict.reason);
      }
      // Per-call lines are debug: the pass summary says how many, the report and audit table say which.
      deps.logger.debug({ callId: row.id, reason: verdict.reason, why: verdict.why }, "call unverified");
      check.findings.push(finding("unverified"));
      return null;
    }
    tally.zombies[verdict.source]++;
    if (verdict.trust === "session_cap") tally.realtimePastCap++;
    if (!opts.dryRun) return { row, evidence, verdict, decidedAt: now };
    deps.logger.debug(
      {
        callId: row.id,
        newStatus: verdict.newStatus,
        endedAt: verdict.endedAt.toISOString(),
        source: verdict.source,
        why: verdict.why,
      },
      "zombie found (dry run, not ended)",
    );
    check.findings.push(finding("would_end"));
    return null;
  };

  // Every row joins the pass's queue now, in listing order (pages in flight keep theirs), and its slot is
  // emptied when its turn comes. The page's ends keep the listing's order, whatever order the answers came in.
  const decided = await Promise.all(
    rows.map((_, i) =>
      ctx.limit(() => {
        const row = rows[i] as ActiveCall;
        rows[i] = undefined;
        return checkRow(row);
      }),
    ),
  );
  check.toEnd = decided.filter((d): d is PendingEnd => d !== null);
  return check;
}
