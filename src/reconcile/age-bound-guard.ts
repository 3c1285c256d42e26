import type { PassOptions, PassRun } from "./pass-deps.js";
import { exceedsShare, ShareGuard } from "./share-guard.js";

/**
 * Why a pass's age-bound ends are not to be written without asking (null: they are): the age bound ends a
 * row no provider vouches for, so a pass that would end most of what it saw on it alone more likely reads
 * the wrong rows (an end status among ACTIVE_STATUSES, a column holding something else) than a real backlog.
 */
export function ageBoundSuspicion(p: {
  ageBoundEnds: number;
  activeSeen: number;
  maxEndShare: number;
}): string | null {
  if (!exceedsShare(p.ageBoundEnds, p.activeSeen, p.maxEndShare)) return null;
  return `this pass would end ${p.ageBoundEnds} of the ${p.activeSeen} active rows it saw on the age bound alone (more than AGE_BOUND_MAX_END_SHARE=${p.maxEndShare})`;
}

/**
 * Sets the age-bound ends aside until the end of the pass: written only if their share is usual, or the
 * operator confirms (`audit --apply --confirm-age-bound`).
 */
export function ageBoundGuard(deps: Pick<PassRun, "logger">, opts: PassOptions): ShareGuard {
  return new ShareGuard(
    {
      source: "age_bound",
      suspect: "ageBoundSuspect",
      notWritten: "ageBoundHeldBack",
      outcome: "age_bound_share",
      confirmed: opts.confirmAgeBound === true,
      confirmedWarning:
        "age-bound ends written on the operator's confirmation (--confirm-age-bound) despite their share",
      suspectWarning:
        "no call is ended on the age bound this pass: check ACTIVE_STATUSES and the column mapping; if this backlog is real, run `call-reconciler audit --apply --confirm-age-bound`",
    },
    deps.logger,
  );
}
