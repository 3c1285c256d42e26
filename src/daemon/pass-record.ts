import { type Config, mapStatus } from "../config/config.js";
import type { Metrics } from "../metrics/metrics.js";
import { callEndedEvent } from "../notify/event.js";
import type { WebhookNotifier } from "../notify/webhook.js";
import type { PassRecord } from "../reconcile/pass.js";

/**
 * What found the ends a pass records: the periodic pass, or a check an Event Streams event asked for (then,
 * by Call SID, Twilio's time of the event that asked).
 */
export type FoundBy = { by: "pass" } | { by: "event"; eventAt(callSid: string): Date | undefined };

/**
 * The record step of a pass as the daemon and the audit keep it: every outcome counted, and each committed
 * end announced downstream (the signed webhook) once the metrics have seen it.
 */
export function passRecord(
  metrics: Metrics,
  statusMap: Config["statusMap"],
  notifier: WebhookNotifier | null = null,
  found: FoundBy = { by: "pass" },
): PassRecord {
  const foundBy = found.by;
  return {
    ended: (e) => {
      if (found.by === "event") {
        metrics.eventEnds.inc();
        const eventAt = e.callSid === null ? undefined : found.eventAt(e.callSid);
        if (eventAt !== undefined)
          metrics.eventEndLag.observe(Math.max(0, (e.decidedAt.getTime() - eventAt.getTime()) / 1000));
      }
      // The app hears the status its row now carries, as pg_notify says it.
      const status = mapStatus(statusMap, e.status);
      metrics.callsEnded.inc({ status, source: e.source });
      const lifetimeSeconds = (e.decidedAt.getTime() - e.endedAt.getTime()) / 1000;
      metrics.zombieLifetime.observe({ source: e.source, found_by: foundBy }, Math.max(0, lifetimeSeconds));
      // A Twilio end's cause is counted once diagnosed; any other end's cause is its source.
      if (e.source !== "twilio") metrics.zombieCauses.inc({ cause: e.source });
      notifier?.notify(callEndedEvent({ ...e, status }));
    },
    rowCheckFailed: (reason) => metrics.rowCheckFailures.inc({ reason }),
    hangup: (outcome) => metrics.realtimeHangups.inc({ outcome }),
  };
}
