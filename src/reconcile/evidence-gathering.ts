import type { Evidence } from "../providers/evidence.js";
import type { TwilioProbe } from "../providers/twilio.js";
import type { ActiveCall } from "./types.js";

export interface Probes {
  twilio: TwilioProbe | null;
}

/**
 * Asks each provider that can say something about the row. Twilio decides whenever it can be asked, so
 * the realtime side only matters when Twilio had no say (no SID, or no Twilio credentials).
 */
export async function gatherEvidence(row: ActiveCall, probes: Probes): Promise<Evidence> {
  const twilio: Evidence["twilio"] =
    row.twilioSid === null
      ? { kind: "skipped", why: "no_id" }
      : probes.twilio === null
        ? { kind: "skipped", why: "not_configured" }
        : await probes.twilio.fetchCall(row.twilioSid);
  const openai: Evidence["openai"] =
    row.openaiId === null
      ? { kind: "skipped", why: "no_id" }
      : twilio.kind !== "skipped"
        ? { kind: "skipped", why: "not_needed" }
        : { kind: "skipped", why: "not_configured" };
  return { twilio, openai };
}
