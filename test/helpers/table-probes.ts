/** Fake providers for runPass and the daemon's checks: Twilio answers each Call SID from a table and logs the SIDs asked. */
import type { ProviderProbes, TwilioEvidence } from "../../src/model/index.js";

/** Twilio's answer for a call that completed at `end`, its end time read from the call's `end_time`. */
export const completedAt = (end: Date): TwilioEvidence => ({
  kind: "ended",
  status: "completed",
  endedAt: end,
  endTimeSource: "end_time",
  raw: { start_time: null, end_time: end.toUTCString(), duration: null, date_updated: null },
});

/** Twilio answers `answers[sid]` (not found for a SID not in the table), lists no calls; no OpenAI. */
export function tableProbes(answers: Record<string, TwilioEvidence>): {
  probes: ProviderProbes;
  asked: string[];
} {
  const asked: string[] = [];
  const probes: ProviderProbes = {
    twilio: {
      fetchCall: async (s) => {
        asked.push(s);
        return answers[s] ?? { kind: "not_found" };
      },
      listCallsPage: async () => ({ kind: "page", calls: [], nextPageUri: null }),
    },
    openai: null,
    hangupRealtime: null,
  };
  return { probes, asked };
}
