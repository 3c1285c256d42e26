import type { RealtimeObservation, RealtimeSurface } from "../model/index.js";

/**
 * Asks a realtime call's liveness on each surface in turn. The first successful accept selects a call's surface,
 * and a surface may answer "no session" for a live call the other one owns: so a live answer anywhere is live,
 * an unclear answer anywhere is unclear, and only "gone" from every surface is gone. The Live surface goes first
 * when listed: its sideband is documented as an observer, the Realtime one says nothing about a second socket.
 */
export async function askEachSurface(
  surfaces: readonly RealtimeSurface[],
  ask: (surface: RealtimeSurface) => Promise<RealtimeObservation>,
): Promise<RealtimeObservation> {
  const ordered = [...surfaces].sort((a, b) => (a === b ? 0 : a === "live" ? -1 : 1));
  let answer: RealtimeObservation | undefined;
  for (const surface of ordered) {
    answer = await ask(surface);
    if (answer.kind !== "gone") return answer;
  }
  if (answer === undefined) throw new Error("unreachable: no realtime surface configured");
  return answer;
}
