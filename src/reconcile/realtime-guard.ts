import type { PendingEnd } from "./check-page.js";
import { exceedsShare, HeldEnds } from "./held-ends.js";
import type { PassOptions, PassRun } from "./pass-deps.js";
import type { PassSightings } from "./sightings.js";

export const REALTIME_TRUST_DEFAULTS = { liveControlSeconds: 3600, maxEndShare: 0.5 };

/**
 * OpenAI's "gone" is an absence, and an absence can be a blind spot: an API key of another project is refused
 * `call_id_not_found` for every call, exactly like a call that ended. So the ends it confirms are held until
 * the end of the pass and written only if the key has shown it can see live sessions (a live answer within
 * `liveControlSeconds`: the positive control) and the pass would not end more than `maxEndShare` of the
 * realtime calls it asked about (the blast radius: Kubernetes' node lifecycle controller stops evicting
 * when a whole zone looks down). An operator who knows a backlog is real confirms it explicitly.
 */
export class RealtimeGuard {
  private readonly held = new HeldEnds("openai");

  constructor(
    private readonly deps: PassRun,
    private readonly opts: PassOptions,
  ) {}

  /** Sets the OpenAI-confirmed ends aside; returns the others for the page's write. */
  takeAside(pending: readonly PendingEnd[]): PendingEnd[] {
    return this.held.takeAside(pending);
  }

  get heldBack(): readonly PendingEnd[] {
    return this.held.ends;
  }

  /** Why this pass's realtime absences are not to be trusted; null when they are. */
  async suspicion(sightings: PassSightings, wouldEnd: number): Promise<string | null> {
    if (wouldEnd === 0) return null;
    const trust = this.deps.realtimeTrust ?? REALTIME_TRUST_DEFAULTS;
    const probed = sightings.live + sightings.gone;
    const why = await (async () => {
      if (exceedsShare(wouldEnd, probed, trust.maxEndShare)) {
        return `this pass would end ${wouldEnd} of the ${probed} realtime calls it asked about (more than OPENAI_MAX_END_SHARE=${trust.maxEndShare})`;
      }
      if (sightings.live > 0) return null;
      const lastLive = await this.deps.store.lastLiveSighting();
      const now = this.deps.clock().getTime();
      if (lastLive !== null && now - lastLive.getTime() <= trust.liveControlSeconds * 1000) return null;
      return `no realtime call has been seen live ${lastLive === null ? "ever" : `since ${lastLive.toISOString()}`} (OPENAI_LIVE_CONTROL_SECONDS=${trust.liveControlSeconds}): a key of another project sees every call as gone`;
    })();
    if (why !== null && this.opts.confirmRealtimeAbsences === true) {
      this.deps.logger.warn(
        { runId: this.opts.runId, why },
        "realtime absences written on the operator's confirmation (--confirm-realtime-absences) despite a suspicion",
      );
      return null;
    }
    return why;
  }
}
