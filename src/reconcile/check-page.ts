import type { LimitFunction } from "p-limit";
import type { ActiveCall, EndVerdict, Evidence, UnverifiedReason } from "../model/index.js";
import { decide } from "./decide.js";
import type { PassDeps, PassOptions } from "./pass-deps.js";
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
  deps: PassDeps;
  opts: PassOptions;
  gather(row: ActiveCall, signal?: AbortSignal): Promise<Evidence>;
  /** Shared by every page of the pass: the rows asked about at once. */
  limit: LimitFunction;
  /** True once the pass should take no new rows (shutdown, lost lease, lost database). */
  stopped(): boolean;
}

/** Reasons that are normal answers, not failures of a provider or of the pass. */
const EXPECTED_UNVERIFIED: ReadonlySet<UnverifiedReason> = new Set([
  "not_found",
  "no_provider",
  "absence_unconfirmed",
  "no_end_time",
  "end_time_in_future",
]);

export function ageSeconds(call: ActiveCall, at: Date): number {
  return Math.floor((at.getTime() - call.startedAt.getTime()) / 1000);
}

/** Asks about every row of a page (each under the pass's concurrency limit) and decides; writes nothing. */
export async function checkPage(rows: readonly ActiveCall[], ctx: PageCheckContext): Promise<PageCheck> {
  const { deps, opts } = ctx;
  const check: PageCheck = { tally: emptyCheckTally(), findings: [], toEnd: [] };
  const { tally } = check;

  /** Returns the zombie to end, if any; counts and keeps the rest. */
  const checkRow = async (row: ActiveCall): Promise<PendingEnd | null> => {
    if (ctx.stopped()) return null;
    const evidence = await ctx.gather(row, opts.signal);
    const now = deps.clock();
    const verdict = decide(row, evidence, now, deps.policy);
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
      if (!EXPECTED_UNVERIFIED.has(verdict.reason)) tally.providerErrors++;
      deps.logger.info(
        { runId: opts.runId, callId: row.id, reason: verdict.reason, why: verdict.why },
        "call unverified",
      );
      check.findings.push(finding("unverified"));
      return null;
    }
    tally.zombies[verdict.source]++;
    if (!opts.dryRun) return { row, evidence, verdict, decidedAt: now };
    deps.logger.info(
      {
        runId: opts.runId,
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

  // The page's ends keep the listing's order, whatever order the answers came in.
  const decided = await Promise.all(rows.map((row) => ctx.limit(() => checkRow(row))));
  check.toEnd = decided.filter((d): d is PendingEnd => d !== null);
  return check;
}
