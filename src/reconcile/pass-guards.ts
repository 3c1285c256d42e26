import { ageBoundGuard, ageBoundSuspicion } from "./age-bound-guard.js";
import type { PendingEnd } from "./check-page.js";
import type { PassOptions, PassRun } from "./pass-deps.js";
import type { PassResult } from "./pass-result.js";
import { realtimeGuard, realtimeSuspicion } from "./realtime-guard.js";
import type { PassSightings } from "./sightings.js";

/** A pass's guards of a share too large to trust: OpenAI's absences, and the age bound. */
export function passGuards(deps: PassRun, opts: PassOptions) {
  const realtime = realtimeGuard(deps, opts);
  const ageBound = ageBoundGuard(deps, opts);
  return {
    /** Sets aside the ends the guards watch; returns the others for the page's write. */
    takeAside: (pending: readonly PendingEnd[]) => ageBound.takeAside(realtime.takeAside(pending)),

    /** At the end of the pass: each guard's ends are written, all or none, unless their evidence is suspect. */
    async settle(
      result: PassResult,
      sightings: PassSightings,
      write: (pending: readonly PendingEnd[]) => Promise<void>,
    ): Promise<void> {
      const realtimeZombies = { total: result.zombies.openai, pastCap: result.realtimePastCap };
      const realtimeWhy = await realtimeSuspicion(deps, sightings, realtimeZombies);
      await write(realtime.settle(realtimeWhy, result, deps.maxFindings));
      const ageBoundWhy = ageBoundSuspicion({
        ageBoundEnds: ageBound.setAside.length,
        activeSeen: result.checked,
        maxEndShare: deps.ageBoundMaxEndShare,
      });
      await write(ageBound.settle(ageBoundWhy, result, deps.maxFindings));
    },
  };
}
