import type { PassOptions, PassRun } from "./pass-deps.js";
import { exceedsShare, ShareGuard } from "./share-guard.js";
import type { PassSightings } from "./sightings.js";

/**
 * OpenAI's "gone" is an absence, and an absence can be a blind spot: an API key of another project is refused
 * `call_id_not_found` for every call, exactly like a call that ended. So the ends it confirms are set aside
 * until the end of the pass and written only if the key has shown it can see live sessions (a live answer
 * within `liveControlSeconds`: the positive control) and the pass would not end more than `maxEndShare` of
 * the realtime calls it asked about (the blast radius: Kubernetes' node lifecycle controller stops evicting
 * when a whole zone looks down). An operator who knows a backlog is real confirms it explicitly.
 */
export function realtimeGuard(deps: Pick<PassRun, "logger">, opts: PassOptions): ShareGuard {
  return new ShareGuard(
    {
      source: "openai",
      suspect: "realtimeSuspect",
      notWritten: "realtimeHeldBack",
      outcome: "evidence_suspect",
      confirmed: opts.confirmRealtimeAbsences === true,
      confirmedWarning:
        "realtime absences written on the operator's confirmation (--confirm-realtime-absences) despite a suspicion",
      suspectWarning: "OpenAI's absences look suspect: no call is ended on OpenAI's word this pass",
    },
    deps.logger,
  );
}

/**
 * Why this pass's realtime absences are not to be trusted; null when they are. `zombies`: the pass's realtime
 * ends (written or, in a dry run, not), and those of them taken on the cap.
 */
export async function realtimeSuspicion(
  deps: Pick<PassRun, "realtimeProbe" | "realtimeTrust" | "policy" | "store" | "clock">,
  sightings: PassSightings,
  zombies: { total: number; pastCap: number },
): Promise<string | null> {
  if (zombies.total === 0) return null;
  const probe = deps.realtimeProbe;
  const disproof = probe.cap.disproof;
  const onCap = zombies.pastCap;
  // The cap is all the default mode trusts; in the early mode, only the ends taken from it are in doubt.
  if (disproof !== null && (probe.mode !== "early" || onCap > 0)) {
    return `realtime call ${disproof.callId} was seen live ${disproof.ageSeconds}s after it started, past OPENAI_MAX_SESSION_SECONDS=${deps.policy.openaiMaxSessionSeconds}: no absence is trusted on that cap until the setting is corrected and the daemon restarted`;
  }
  // Past the cap, a session cannot be live: the guards below protect the calls that still could be.
  const wouldEnd = zombies.total - onCap;
  if (wouldEnd === 0) return null;
  const trust = deps.realtimeTrust;
  const probed = sightings.live + sightings.gone;
  if (exceedsShare(wouldEnd, probed, trust.maxEndShare)) {
    return `this pass would end ${wouldEnd} of the ${probed} realtime calls it asked about (more than OPENAI_MAX_END_SHARE=${trust.maxEndShare})`;
  }
  if (sightings.live + sightings.livePastCap > 0) return null;
  const lastLive = await deps.store.lastLiveSighting();
  const now = deps.clock().getTime();
  if (lastLive !== null && now - lastLive.getTime() <= trust.liveControlSeconds * 1000) return null;
  return `no realtime call has been seen live ${lastLive === null ? "ever" : `since ${lastLive.toISOString()}`} (OPENAI_LIVE_CONTROL_SECONDS=${trust.liveControlSeconds}): a key of another project sees every call as gone`;
}
