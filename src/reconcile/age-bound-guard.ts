import type { PendingEnd } from "./check-page.js";
import { exceedsShare, HeldEnds } from "./held-ends.js";
import type { PassOptions, PassRun } from "./pass-deps.js";

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
 * Holds the age-bound ends until the end of the pass, like the realtime guard: written only if their share
 * is usual, or the operator confirms (`audit --apply --confirm-age-bound`).
 */
export class AgeBoundGuard {
  private readonly held = new HeldEnds("age_bound");

  constructor(
    private readonly deps: PassRun,
    private readonly opts: PassOptions,
  ) {}

  /** Sets the age-bound ends aside; returns the others for the page's write. */
  takeAside(pending: readonly PendingEnd[]): PendingEnd[] {
    return this.held.takeAside(pending);
  }

  get heldBack(): readonly PendingEnd[] {
    return this.held.ends;
  }

  suspicion(activeSeen: number): string | null {
    const maxEndShare = this.deps.ageBoundMaxEndShare;
    const why = ageBoundSuspicion({ ageBoundEnds: this.held.ends.length, activeSeen, maxEndShare });
    if (why !== null && this.opts.confirmAgeBound === true) {
      this.deps.logger.warn(
        { runId: this.opts.runId, why },
        "age-bound ends written on the operator's confirmation (--confirm-age-bound) despite their share",
      );
      return null;
    }
    return why;
  }
}
