import type { PassOptions, PassRun } from "./pass-deps.js";
import type { WriteTally } from "./pass-result.js";

/**
 * The phone leg is over but its realtime session may still be billing: end each one (a 404 means it was
 * gone already). Hang-ups run side by side under the provider's own limits; an error is logged and counted.
 */
export async function hangupOrphans(
  orphans: readonly { callId: string; realtimeId: string }[],
  deps: PassRun,
  opts: PassOptions,
): Promise<WriteTally["realtimeHangups"]> {
  const counts = { hung_up: 0, already_gone: 0, error: 0 };
  const hangup = deps.probes.hangupRealtime;
  if (hangup === null) return counts;
  await Promise.all(
    orphans.map(async ({ callId, realtimeId }) => {
      const outcome = await hangup(realtimeId, opts.signal);
      const label = outcome.kind === "error" ? "error" : outcome.kind;
      counts[label]++;
      deps.record?.hangup?.(label);
      const f = { callId, realtimeCallId: realtimeId, outcome: outcome.kind };
      if (outcome.kind === "error")
        deps.logger.warn({ ...f, detail: outcome.detail }, "could not hang up orphaned realtime session");
      else deps.logger.debug(f, "orphaned realtime session hung up");
    }),
  );
  return counts;
}
